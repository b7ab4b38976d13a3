"""Photoflow's question to the Organization context, answered from its write model: what may
this user do in this studio?

The answer comes from the Organization aggregate in the organization application's event
store, never from ``read.memberships``: a read table lags its events, so an album command
right after a studio's create (or a member's arrival) would be refused as if the studio did
not exist. The repository's cache fast-forwards a cached studio from the store on every get,
so the answer is current and costs one indexed read of the events after the cached version.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from domains.organization import Organization
from domains.policies import Role


class OrganizationStudioRoles:
    """``commands.studio_roles.StudioRoles`` over the Organization application."""

    def __init__(self, organizations: Application[UUID]) -> None:
        self._organizations = organizations

    async def role_of(self, org_id: UUID, user_id: UUID) -> Role | None:
        return await asyncio.to_thread(self._role_of, org_id, user_id)

    def _role_of(self, org_id: UUID, user_id: UUID) -> Role | None:
        try:
            studio: object = self._organizations.repository.get(org_id)
        except AggregateNotFoundError:
            return None
        return studio.role_of(user_id) if isinstance(studio, Organization) else None
