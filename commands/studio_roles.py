"""The Organization context asked for a member's role, from its write model.

Commands and audit reads that must not depend on a projection's lag ask this port; its adapter
(``infra.studio_roles``) reads the Organization aggregate from its event store.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from domains.policies import Role


class StudioRoles(Protocol):
    """The Organization context, asked for a member's role (its write model)."""

    async def role_of(self, org_id: UUID, user_id: UUID) -> Role | None:
        """The user's role in the studio now; None for a non-member or no such studio."""
        ...
