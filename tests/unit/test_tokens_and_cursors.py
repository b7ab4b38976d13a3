"""Opaque values handed to clients: consistency tokens and page cursors."""

from __future__ import annotations

from uuid import uuid4

import pytest

from queries.consistency import Token
from queries.paging import decode_cursor, encode_cursor, page
from queries.problems import Problem


def test_a_token_survives_the_round_trip_and_garbage_is_a_400() -> None:
    token = Token("orgs", uuid4(), 7)
    assert Token.decode(token.encode()) == token
    for bad in ("garbage", Token("spaceships", uuid4(), 1).encode(), "b3JnczpYOjE"):
        with pytest.raises(Problem) as problem:
            Token.decode(bad)
        assert problem.value.status == 400


def test_a_page_carries_a_cursor_only_when_more_rows_exist() -> None:
    rows = [{"k": i} for i in range(3)]
    assert page(rows, 3, ["k"])["next_cursor"] is None
    first = page(rows, 2, ["k"])
    assert first["items"] == rows[:2]
    assert decode_cursor(first["next_cursor"]) == [1]
    assert decode_cursor(encode_cursor(["2026-01-01", "x"])) == ["2026-01-01", "x"]
    with pytest.raises(Problem) as problem:
        decode_cursor("%%%")
    assert problem.value.status == 422
