"""The Organization aggregate: a studio, its members and roles, and its invitations.

The studio is the tenant: every other aggregate names the studio it belongs to, and the member
list here is the authority on who may do what in it (see ``domains.policies``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue, NotFound, RuleBroken
from domains.policies import Action, Role, require
from domains.text import check_text
from domains.watermark import Watermark

NAME_MAX_LENGTH = 200


def clean_name(name: str) -> str:
    """Trim the name and check it is acceptable text, neither empty nor too long."""
    cleaned = " ".join(check_text("name", name).split())
    if not cleaned:
        raise InvalidValue("name", "must not be empty")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidValue("name", f"must be at most {NAME_MAX_LENGTH} characters")
    return cleaned


@dataclass
class Invitation:
    email: str
    role: Role
    token_hash: str
    expires_at: datetime
    status: str = "pending"  # pending, accepted, revoked


class Organization(Aggregate):
    """A studio. Its id is the tenant key that every other aggregate carries."""

    class Created(Aggregate.Created):
        name: str
        actor: str

    class Renamed(Aggregate.Event):
        name: str
        actor: str

    class MemberAdded(Aggregate.Event):
        user_id: UUID
        role: str
        invitation_id: UUID | None
        actor: str

    class MemberRoleChanged(Aggregate.Event):
        user_id: UUID
        role: str
        actor: str

    class MemberRemoved(Aggregate.Event):
        user_id: UUID
        actor: str

    class InvitationSent(Aggregate.Event):
        invitation_id: UUID
        email: str
        role: str
        token_hash: str
        expires_at: datetime
        actor: str

    class InvitationAccepted(Aggregate.Event):
        invitation_id: UUID
        user_id: UUID
        actor: str

    class InvitationRevoked(Aggregate.Event):
        invitation_id: UUID
        actor: str

    class WatermarkSet(Aggregate.Event):
        watermark: dict[str, Any]
        """``{text, image_id, position, opacity, scale}`` (see ``domains.watermark``)."""
        actor: str

    class WatermarkRemoved(Aggregate.Event):
        actor: str

    @event(Created)
    def __init__(self, name: str, actor: str) -> None:
        self.name = name
        self.created_by = actor
        self.members: dict[UUID, Role] = {}
        self.invitations: dict[UUID, Invitation] = {}
        self.watermark: Watermark | None = None

    @classmethod
    def create(cls, name: str, owner_id: UUID) -> Organization:
        """A new studio whose creator is its first owner."""
        org = cls(name=clean_name(name), actor=str(owner_id))
        org._member_added(
            user_id=owner_id, role=Role.OWNER.value, invitation_id=None, actor=str(owner_id)
        )
        return org

    # Who may do what -----------------------------------------------------------------------

    def role_of(self, user_id: UUID) -> Role | None:
        return self.members.get(user_id)

    def require(self, user_id: UUID, action: Action) -> Role:
        """The caller's role if it allows ``action``; a non-member learns nothing (NotFound)."""
        role = self.members.get(user_id)
        if role is None:
            raise NotFound("Organization", self.id)
        require(role, action)
        return role

    # Commands --------------------------------------------------------------------------------

    def rename(self, name: str, actor_id: UUID) -> None:
        """Rename the studio; renaming to the current name records nothing."""
        self.require(actor_id, Action.RENAME_ORG)
        cleaned = clean_name(name)
        if cleaned != self.name:
            self._renamed(name=cleaned, actor=str(actor_id))

    def invite(
        self,
        invitation_id: UUID,
        email: str,
        role: Role,
        token_hash: str,
        expires_at: datetime,
        actor_id: UUID,
    ) -> None:
        self.require(actor_id, Action.INVITE)
        if role is Role.OWNER:
            self.require(actor_id, Action.GRANT_OWNER)
        self._invitation_sent(
            invitation_id=invitation_id,
            email=check_text("email", email),
            role=role.value,
            token_hash=token_hash,
            expires_at=expires_at,
            actor=str(actor_id),
        )

    def accept_invitation(
        self, invitation_id: UUID, token_hash: str, user_id: UUID, email: str, now: datetime
    ) -> Role:
        """Join the studio through an invitation: once, before it expires, by its addressee."""
        invitation = self.invitations.get(invitation_id)
        if invitation is None or invitation.token_hash != token_hash:
            raise NotFound("Invitation", invitation_id)
        if invitation.status != "pending":
            raise RuleBroken(f"this invitation was already {invitation.status}")
        if now >= invitation.expires_at:
            raise RuleBroken("this invitation has expired; ask for a new one")
        if email != invitation.email:
            raise RuleBroken("this invitation was sent to another email address")
        if user_id in self.members:
            raise RuleBroken("you are already a member of this studio")
        self._invitation_accepted(invitation_id=invitation_id, user_id=user_id, actor=str(user_id))
        self._member_added(
            user_id=user_id,
            role=invitation.role.value,
            invitation_id=invitation_id,
            actor=str(user_id),
        )
        return invitation.role

    def revoke_invitation(self, invitation_id: UUID, actor_id: UUID) -> None:
        self.require(actor_id, Action.MANAGE_MEMBERS)
        invitation = self.invitations.get(invitation_id)
        if invitation is None:
            raise NotFound("Invitation", invitation_id)
        if invitation.status != "pending":
            raise RuleBroken(f"this invitation was already {invitation.status}")
        self._invitation_revoked(invitation_id=invitation_id, actor=str(actor_id))

    def change_role(self, user_id: UUID, role: Role, actor_id: UUID) -> None:
        self.require(actor_id, Action.MANAGE_MEMBERS)
        current = self.members.get(user_id)
        if current is None:
            raise NotFound("Member", user_id)
        if Role.OWNER in (current, role):
            self.require(actor_id, Action.GRANT_OWNER)
        if current is Role.OWNER and role is not Role.OWNER:
            self._keep_an_owner(user_id)
        if current is not role:
            self._member_role_changed(user_id=user_id, role=role.value, actor=str(actor_id))

    def remove_member(self, user_id: UUID, actor_id: UUID) -> None:
        """Remove a member, or leave when ``user_id`` is the caller; a studio keeps one owner."""
        current = self.members.get(user_id)
        if user_id != actor_id:
            self.require(actor_id, Action.MANAGE_MEMBERS)
        if current is None:
            raise NotFound("Member", user_id)
        if current is Role.OWNER:
            if user_id != actor_id:
                self.require(actor_id, Action.GRANT_OWNER)
            self._keep_an_owner(user_id)
        self._member_removed(user_id=user_id, actor=str(actor_id))

    def set_watermark(self, watermark: Watermark, actor_id: UUID) -> None:
        """What client previews of watermarked albums carry; the same one again records nothing."""
        self.require(actor_id, Action.BRAND)
        if watermark != self.watermark:
            self._watermark_set(watermark=watermark.to_dict(), actor=str(actor_id))

    def remove_watermark(self, actor_id: UUID) -> None:
        self.require(actor_id, Action.BRAND)
        if self.watermark is None:
            raise NotFound("Watermark of studio", self.id)
        self._watermark_removed(actor=str(actor_id))

    def _keep_an_owner(self, leaving: UUID) -> None:
        owners = [u for u, r in self.members.items() if r is Role.OWNER and u != leaving]
        if not owners:
            raise RuleBroken("a studio needs an owner: make another member owner first")

    # Events: they only set state -----------------------------------------------------------

    @event(Renamed)
    def _renamed(self, name: str, actor: str) -> None:
        self.name = name

    @event(MemberAdded)
    def _member_added(
        self, user_id: UUID, role: str, invitation_id: UUID | None, actor: str
    ) -> None:
        self.members[user_id] = Role(role)

    @event(MemberRoleChanged)
    def _member_role_changed(self, user_id: UUID, role: str, actor: str) -> None:
        self.members[user_id] = Role(role)

    @event(MemberRemoved)
    def _member_removed(self, user_id: UUID, actor: str) -> None:
        del self.members[user_id]

    @event(InvitationSent)
    def _invitation_sent(
        self,
        invitation_id: UUID,
        email: str,
        role: str,
        token_hash: str,
        expires_at: datetime,
        actor: str,
    ) -> None:
        self.invitations[invitation_id] = Invitation(email, Role(role), token_hash, expires_at)

    @event(InvitationAccepted)
    def _invitation_accepted(self, invitation_id: UUID, user_id: UUID, actor: str) -> None:
        self.invitations[invitation_id].status = "accepted"

    @event(InvitationRevoked)
    def _invitation_revoked(self, invitation_id: UUID, actor: str) -> None:
        self.invitations[invitation_id].status = "revoked"

    @event(WatermarkSet)
    def _watermark_set(self, watermark: dict[str, Any], actor: str) -> None:
        self.watermark = Watermark.from_dict(watermark)

    @event(WatermarkRemoved)
    def _watermark_removed(self, actor: str) -> None:
        self.watermark = None
