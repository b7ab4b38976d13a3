"""A list's cursor is read back only as the types its sort key wrote: anything else is a 422."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import orjson
import pytest

from queries.consistency import Token
from queries.paging import SortKey
from queries.problems import Problem

BY_TIME = SortKey(("created_at", "id"), (datetime, UUID))
BY_PATH = SortKey(("path", "name", "file_id"), (str, str, str))
BY_VERSION = SortKey(("version",), (int,))


def cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def test_a_cursor_the_key_wrote_reads_back_as_typed_values() -> None:
    row = {"created_at": datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC), "id": uuid4()}
    first = BY_TIME.page([row, row], 1)
    assert BY_TIME.after(first["next_cursor"]) == (row["created_at"], row["id"])
    assert BY_TIME.arguments(None) == (None, None)
    assert BY_VERSION.after(BY_VERSION.page([{"version": 3}] * 2, 1)["next_cursor"]) == (3,)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (BY_TIME, ["2020-01-01T00:00:00+00:00", "notauuid"]),
        (BY_TIME, [1, 2]),
        (BY_TIME, [["2020-01-01T00:00:00+00:00"], [str(uuid4())]]),
        (BY_TIME, ["2020-01-01T00:00:00", str(uuid4())]),  # no offset
        (BY_TIME, ["0001-01-01T00:00:00+14:00", str(uuid4())]),  # before year 1 in UTC
        (BY_TIME, ["2020-01-01T00:00:00+00:00"]),
        (BY_TIME, {"a": 1}),
        (BY_PATH, ["a", "b", 3]),
        (BY_PATH, ["a", "b\x00", "c"]),
        (BY_VERSION, [2**63]),
        (BY_VERSION, [-1]),
        (BY_VERSION, [True]),
        (BY_VERSION, ["1"]),
    ],
)
def test_anything_else_is_a_422_naming_the_cursor(key: SortKey, value: Any) -> None:
    with pytest.raises(Problem) as problem:
        key.after(cursor(value))
    assert problem.value.status == 422
    assert problem.value.errors == [
        {"field": "query.cursor", "message": "not a cursor from this API"}
    ]


@pytest.mark.parametrize("raw", ["%%%", "", "AAAA", base64.b64encode(b"1" * 400).decode()])
def test_undecodable_cursors_are_a_422(raw: str) -> None:
    with pytest.raises(Problem) as problem:
        BY_TIME.after(raw)
    assert problem.value.status == 422


@pytest.mark.parametrize("version", ["0", "-3", str(2**63), "9" * 5000, "1_0", " 7"])
def test_a_consistency_token_version_outside_a_bigint_is_a_400(version: str) -> None:
    raw = f"albums:{uuid4()}:{version}".encode()
    with pytest.raises(Problem) as problem:
        Token.decode(base64.urlsafe_b64encode(raw).decode())
    assert problem.value.status == 400
