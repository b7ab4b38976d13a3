"""The one rule for acceptable text, as the domain, the aggregates and the HTTP edge apply it."""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import uuid4

import pytest
from pydantic import BaseModel, ValidationError

from domains.album import Album, NewAlbum
from domains.errors import InvalidValue
from domains.folder import Folder
from domains.organization import Organization
from domains.personal_data import ClientKey
from domains.text import check_text, refused_character, scrubbed
from domains.user import User
from queries.text import LINE_PATTERN, LINES_PATTERN, Line, Lines

HOSTILE = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", HOSTILE)
def test_control_characters_are_refused_naming_the_field(char: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_text("name", f"Ada{char}Lovelace")
    assert refused.value.field == "name"
    assert f"U+{ord(char):04X}" in refused.value.message


def test_tab_and_newline_are_allowed_only_in_text_with_lines() -> None:
    for char in "\t\n\r":
        assert refused_character(f"a{char}b") == char
        assert check_text("text", f"a{char}b", multiline=True) == f"a{char}b"
    assert refused_character("a\x00b", multiline=True) == "\x00"


def test_ordinary_text_in_any_script_passes_unchanged() -> None:
    for text in ("Zoë & Ünal", "写真スタジオ", "📷 wedding", "O'Brien-Smith", ""):
        assert check_text("name", text) == text


def test_scrubbing_keeps_the_text_and_replaces_what_is_refused() -> None:
    assert scrubbed("disk\x00full\nagain") == "disk\ufffdfull\ufffdagain"
    assert scrubbed("fine") == "fine"


def test_the_documented_patterns_say_the_same_as_the_rule() -> None:
    line, lines = re.compile(LINE_PATTERN), re.compile(LINES_PATTERN)
    for code in [*range(0x0000, 0x3000), 0x1F4F7]:
        char = chr(code)
        assert (line.fullmatch(char) is None) == (refused_character(char) is not None), hex(code)
        assert (lines.fullmatch(char) is None) == (
            refused_character(char, multiline=True) is not None
        ), hex(code)


class Sample(BaseModel):
    name: Line
    text: Lines


def test_the_edge_types_refuse_with_the_field_named() -> None:
    assert Sample(name="Ada", text="line one\nline two").text == "line one\nline two"
    with pytest.raises(ValidationError) as refused:
        Sample(name="Ada\x00", text="fine\tok")
    assert [e["loc"] for e in refused.value.errors()] == [("name",)]
    with pytest.raises(ValidationError) as refused:
        Sample(name="Ada", text="bell\x07")
    assert [e["loc"] for e in refused.value.errors()] == [("text",)]


KEY = ClientKey(bytes(32))


def test_no_aggregate_records_such_text() -> None:
    actor = uuid4()
    refusals: list[Callable[[], object]] = [
        lambda: User.register("a\x00@example.com", "Ada", None),
        lambda: User.register("a@example.com", "Ada\x00", None),
        lambda: Organization.create("Studio\x00", actor),
        lambda: Organization.create("Studio", actor).rename("Tab\tbed", actor),
        lambda: Album.create(uuid4(), NewAlbum("Wed\x00", "Client", "c@x.io"), str(actor), key=KEY),
        lambda: Album.create(uuid4(), NewAlbum("Wed", "Cli\x1bent", "c@x.io"), str(actor), key=KEY),
        lambda: Album.create(uuid4(), NewAlbum("Wed", "Client", "c\x00@x.io"), str(actor), key=KEY),
        lambda: Album.create(
            uuid4(), NewAlbum("Wed", "Client", "c@x.io", tags=["a\x00"]), str(actor), key=KEY
        ),
        lambda: Folder.register(uuid4(), "local", "/photos\x00/x", "Raw", actor),
        lambda: Folder.register(uuid4(), "local", "/photos", "Raw\u2028", actor),
    ]
    for refuse in refusals:
        with pytest.raises(InvalidValue):
            refuse()


def test_an_invitation_to_an_address_with_a_control_character_is_refused() -> None:
    from datetime import UTC, datetime

    from domains.policies import Role

    owner = uuid4()
    org = Organization.create("Studio", owner)
    with pytest.raises(InvalidValue) as refused:
        org.invite(uuid4(), "a\x00@b.io", Role.VIEWER, "h", datetime.now(UTC), owner)
    assert refused.value.field == "email"
