"""Members, roles and invitations: the rules the Organization aggregate enforces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from domains.errors import NotFound, RuleBroken
from domains.organization import Organization
from domains.policies import Forbidden, Role

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def studio_with(*roles: Role) -> tuple[Organization, list[UUID]]:
    owner = uuid4()
    org = Organization.create("Studio", owner_id=owner)
    people = [owner]
    for role in roles:
        person, invitation = uuid4(), uuid4()
        org.invite(invitation, f"{person}@example.com", role, "h", NOW + timedelta(days=1), owner)
        org.accept_invitation(invitation, "h", person, f"{person}@example.com", NOW)
        people.append(person)
    return org, people


def test_the_creator_is_the_owner_and_outsiders_learn_nothing() -> None:
    org, [owner] = studio_with()
    assert org.role_of(owner) is Role.OWNER
    with pytest.raises(NotFound):
        org.rename("Mine now", actor_id=uuid4())


def test_an_invitation_is_single_use_addressed_and_expires() -> None:
    org, [owner] = studio_with()
    invitation, guest = uuid4(), uuid4()
    org.invite(
        invitation, "guest@example.com", Role.VIEWER, "hash", NOW + timedelta(hours=1), owner
    )
    with pytest.raises(NotFound):
        org.accept_invitation(invitation, "wrong hash", guest, "guest@example.com", NOW)
    with pytest.raises(RuleBroken, match="another email"):
        org.accept_invitation(invitation, "hash", guest, "other@example.com", NOW)
    with pytest.raises(RuleBroken, match="expired"):
        org.accept_invitation(
            invitation, "hash", guest, "guest@example.com", NOW + timedelta(hours=2)
        )
    assert org.accept_invitation(invitation, "hash", guest, "guest@example.com", NOW) is Role.VIEWER
    with pytest.raises(RuleBroken, match="already accepted"):
        org.accept_invitation(invitation, "hash", uuid4(), "guest@example.com", NOW)
    assert org.role_of(guest) is Role.VIEWER


@pytest.mark.parametrize(
    ("role", "allowed"),
    [(Role.VIEWER, False), (Role.PHOTOGRAPHER, False), (Role.ADMIN, True), (Role.OWNER, True)],
)
def test_who_may_invite_and_rename(role: Role, allowed: bool) -> None:
    org, people = studio_with() if role is Role.OWNER else studio_with(role)
    actor = people[-1]
    if allowed:
        org.rename("Renamed", actor_id=actor)
        org.invite(uuid4(), "x@example.com", Role.VIEWER, "h", NOW, actor)
    else:
        with pytest.raises(Forbidden):
            org.rename("Renamed", actor_id=actor)
        with pytest.raises(Forbidden):
            org.invite(uuid4(), "x@example.com", Role.VIEWER, "h", NOW, actor)


def test_only_an_owner_makes_or_unmakes_owners() -> None:
    org, [owner, admin] = studio_with(Role.ADMIN)
    with pytest.raises(Forbidden):
        org.change_role(admin, Role.OWNER, actor_id=admin)
    org.change_role(admin, Role.OWNER, actor_id=owner)
    assert org.role_of(admin) is Role.OWNER


def test_the_last_owner_cannot_leave_or_be_demoted() -> None:
    org, [owner, viewer] = studio_with(Role.VIEWER)
    with pytest.raises(RuleBroken, match="needs an owner"):
        org.remove_member(owner, actor_id=owner)
    with pytest.raises(RuleBroken, match="needs an owner"):
        org.change_role(owner, Role.ADMIN, actor_id=owner)
    org.remove_member(viewer, actor_id=viewer)  # anyone else may leave
    assert org.role_of(viewer) is None
    assert org.role_of(owner) is Role.OWNER
