"""Who is calling, and which studios they may see: the seam the identity context fills in.

Every route asks ``principal_of(request)``; nothing else reads credentials. Until sign-in
arrives the platform runs an open authenticator that lets the caller name itself with
``X-Photoflow-Actor`` and see every studio.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from starlette.requests import Request


@dataclass(frozen=True)
class Principal:
    """The caller. ``org_ids`` is None when the caller may see every studio."""

    actor: str
    org_ids: frozenset[UUID] | None = None

    def may_see(self, org_id: UUID | None) -> bool:
        return self.org_ids is None or (org_id is not None and org_id in self.org_ids)


class Authenticator(Protocol):
    async def authenticate(self, request: Request) -> Principal: ...


class OpenAuthenticator:
    """No credentials checked: for the spine, before the identity context exists."""

    async def authenticate(self, request: Request) -> Principal:
        return Principal(actor=request.headers.get("x-photoflow-actor", "anonymous"))


async def principal_of(request: Request) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(request)
