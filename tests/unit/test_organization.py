"""The Organization aggregate: what a command records, and what it refuses."""

from __future__ import annotations

import pytest

from domains.errors import InvalidValue
from domains.organization import NAME_MAX_LENGTH, Organization


def test_creating_a_studio_records_its_cleaned_name_and_who_created_it() -> None:
    org = Organization.create(name="  Atelier   Lumière ", actor="user-1")
    [created] = org.collect_events()
    assert isinstance(created, Organization.Created)
    assert (created.name, created.actor) == ("Atelier Lumière", "user-1")
    assert (org.name, org.version) == ("Atelier Lumière", 1)


def test_renaming_records_an_event_and_renaming_to_the_same_name_records_none() -> None:
    org = Organization.create(name="Old", actor="a")
    org.rename("New", actor="b")
    org.rename(" New ", actor="c")
    events = org.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "Renamed"]
    assert (org.name, org.version) == ("New", 2)


@pytest.mark.parametrize("name", ["", "   ", "x" * (NAME_MAX_LENGTH + 1)])
def test_a_bad_name_is_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        Organization.create(name=name, actor="a")
    assert refused.value.field == "name"
    org = Organization.create(name="Fine", actor="a")
    with pytest.raises(InvalidValue):
        org.rename(name, actor="a")
    assert org.version == 1
