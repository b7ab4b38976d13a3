"""The Organization context's application: studios, members, roles and invitations."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from eventsourcing.application import Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.errors import InvalidValue, NotFound
from domains.organization import Organization
from domains.policies import Role
from domains.user import normalise_email


class OrganizationApplication(Application[UUID]):
    """Events of the Organization context, stored in table ``organizations_events``."""

    name = "Organizations"


@dataclass(frozen=True)
class InvitationIssued:
    written: Written
    invitation_id: UUID
    token: str
    """Handed to the invitee by email only (see ``invitation_token``)."""


@dataclass(frozen=True)
class Joined:
    written: Written
    role: Role


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def invitation_token(key: bytes, org_id: UUID, invitation_id: UUID) -> str:
    """The token in an invitation's link: ``<org>.<invitation>.<secret>``.

    The secret is an HMAC of the invitation id under the installation's invitation key, so the
    Sender can rebuild the link from the InvitationSent event, which records only the secret's
    hash: neither the event store nor Kafka ever holds a usable token.
    """
    mac = hmac.new(key, invitation_id.bytes, hashlib.sha256).digest()
    secret = base64.urlsafe_b64encode(mac).decode().rstrip("=")
    return f"{org_id}.{invitation_id}.{secret}"


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidValue("role", f"must be one of {', '.join(r.value for r in Role)}") from None


class OrganizationCommands:
    """Use cases on studios; ``actor_id`` is the signed-in user running them."""

    def __init__(
        self, committer: GroupCommitter, invitation_key: bytes, invitation_ttl: timedelta
    ) -> None:
        self._committer = committer
        self._invitation_key = invitation_key
        self._invitation_ttl = invitation_ttl

    async def create(self, name: str, actor_id: UUID) -> Written:
        return await self._committer.execute(
            lambda batch: batch.add(Organization.create(name=name, owner_id=actor_id))
        )

    async def rename(
        self, org_id: UUID, name: str, actor_id: UUID, expected_version: int | None = None
    ) -> Written:
        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.rename(name=name, actor_id=actor_id)
            return org

        return await self._committer.execute(decide)

    async def invite(
        self,
        org_id: UUID,
        email: str,
        role: str,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> InvitationIssued:
        invitation_id = uuid4()
        token = invitation_token(self._invitation_key, org_id, invitation_id)
        secret = token.rpartition(".")[2]
        expires_at = datetime.now(UTC) + self._invitation_ttl
        address, granted = normalise_email(email), _role(role)

        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.invite(invitation_id, address, granted, _digest(secret), expires_at, actor_id)
            return org

        written = await self._committer.execute(decide)
        return InvitationIssued(written, invitation_id, token)

    async def accept(
        self, token: str, user_id: UUID, email: str, expected_version: int | None = None
    ) -> Joined:
        try:
            org_text, invitation_text, secret = token.split(".")
            org_id, invitation_id = UUID(org_text), UUID(invitation_text)
        except ValueError:
            raise NotFound("Invitation", token[:8]) from None
        role = Role.VIEWER
        now = datetime.now(UTC)

        def decide(batch: Batch) -> Organization:
            nonlocal role
            org = batch.get(Organization, org_id, expected_version)
            role = org.accept_invitation(invitation_id, _digest(secret), user_id, email, now)
            return org

        written = await self._committer.execute(decide)
        return Joined(written, role)

    async def revoke_invitation(
        self,
        org_id: UUID,
        invitation_id: UUID,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> Written:
        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.revoke_invitation(invitation_id, actor_id)
            return org

        return await self._committer.execute(decide)

    async def change_role(
        self,
        org_id: UUID,
        user_id: UUID,
        role: str,
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> Written:
        granted = _role(role)

        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.change_role(user_id, granted, actor_id)
            return org

        return await self._committer.execute(decide)

    async def remove_member(
        self, org_id: UUID, user_id: UUID, actor_id: UUID, expected_version: int | None = None
    ) -> Written:
        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.remove_member(user_id, actor_id)
            return org

        return await self._committer.execute(decide)
