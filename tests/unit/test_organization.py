"""The Organization aggregate: what a command records, and what it refuses."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domains.errors import InvalidValue
from domains.organization import NAME_MAX_LENGTH, Organization
from domains.policies import Role


def test_creating_a_studio_records_its_cleaned_name_and_its_first_owner() -> None:
    owner = uuid4()
    org = Organization.create(name="  Atelier   Lumière ", owner_id=owner)
    created, member_added = org.collect_events()
    assert isinstance(created, Organization.Created)
    assert (created.name, created.actor) == ("Atelier Lumière", str(owner))
    assert isinstance(member_added, Organization.MemberAdded)
    assert (member_added.user_id, member_added.role) == (owner, "owner")
    assert (org.name, org.version, org.role_of(owner)) == ("Atelier Lumière", 2, Role.OWNER)


def test_renaming_records_an_event_and_renaming_to_the_same_name_records_none() -> None:
    owner = uuid4()
    org = Organization.create(name="Old", owner_id=owner)
    org.rename("New", actor_id=owner)
    org.rename(" New ", actor_id=owner)
    events = org.collect_events()
    assert [type(e).__name__ for e in events] == ["Created", "MemberAdded", "Renamed"]
    assert (org.name, org.version) == ("New", 3)


@pytest.mark.parametrize("name", ["", "   ", "x" * (NAME_MAX_LENGTH + 1)])
def test_a_bad_name_is_refused_naming_the_field(name: str) -> None:
    owner = uuid4()
    with pytest.raises(InvalidValue) as refused:
        Organization.create(name=name, owner_id=owner)
    assert refused.value.field == "name"
    org = Organization.create(name="Fine", owner_id=owner)
    with pytest.raises(InvalidValue):
        org.rename(name, actor_id=owner)
    assert org.version == 2
