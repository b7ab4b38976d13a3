"""Who is calling, and what they may do in which studio: every route asks ``Callers``.

A bearer access token names the user and its session. A revoked session or user is refused at
once (the revocation list lives in Redis, shared by every API process). The caller's studios
and roles come from ``read.memberships``; a studio the caller does not belong to is a 404.

A caller's ``X-Consistency-Token`` is waited for only once the write it names is known to be
the caller's to see (its aggregate is the caller, or lives in a studio the caller belongs to,
by the write model since a just-created or just-joined studio is not in the read tables yet).
Waiting first would let an outsider learn another studio's versions by timing the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol
from uuid import UUID

import asyncpg
from starlette.requests import Request

from broker.topics import ORGS
from domains.errors import DomainError
from domains.policies import Action, Role, allows
from queries import consistency
from queries.bodies import path_uuid
from queries.ports import EventHistoryPort
from queries.problems import Problem, not_found

ROLES = {role.value: role for role in Role}
"""Each role by its stored name: a dict lookup, cheaper than calling the enum for every row."""


@dataclass(frozen=True)
class Principal:
    """The signed-in caller."""

    user_id: UUID
    email: str
    session_id: UUID
    roles: Mapping[UUID, Role] | None = field(default_factory=dict)
    """None when the route did not ask for them (see ``Callers.principal``)."""
    studio: UUID | None = None
    """The one studio ``roles`` was read for, when the route named it; None: every studio."""

    def knows(self, studio: UUID | None) -> bool:
        """Whether ``roles`` answers for this studio (or, with None, for every studio)."""
        if self.roles is None:
            return False
        return self.studio is None or self.studio == studio

    @property
    def actor(self) -> str:
        return str(self.user_id)

    def may_see(self, org_id: UUID | None) -> bool:
        return org_id is not None and org_id in self._roles(org_id)

    def _roles(self, org_id: UUID) -> Mapping[UUID, Role]:
        # Loud, never a silent 404: a route that asks about another studio than the one it
        # read the roles for has a bug.
        if self.roles is None or not self.knows(org_id):
            raise RuntimeError(f"this route did not read the caller's role in {org_id}")
        return self.roles

    def require(self, org_id: UUID, action: Action) -> Role:
        """The caller's role in the studio if it allows the action: 404 outside, 403 inside."""
        role = self._roles(org_id).get(org_id)
        if role is None:
            raise not_found(f"Organization {org_id} was not found")
        if not allows(role, action):
            raise Problem(
                403, "forbidden", "Not allowed", f"a studio {role.value} may not {action.value}"
            )
        return role


class Claims(Protocol):
    @property
    def user_id(self) -> UUID: ...

    @property
    def session_id(self) -> UUID: ...

    @property
    def email(self) -> str: ...


class TokenVerifier(Protocol):
    def check(self, token: str) -> Claims | None:
        """The token's claims, or None if it is forged, expired or malformed."""


class RevocationList(Protocol):
    async def is_revoked(self, user_id: UUID, session_id: UUID) -> bool: ...


class Admission(Protocol):
    async def admit(self, user_id: UUID, session_id: UUID, bucket: str) -> bool:
        """Count one request of the user in ``bucket`` (``user``: commands and reads;
        ``images``: a larger budget, so scrolling a 15,000-photo grid never spends the user's
        commands), raising a 429 problem past its limit; answer whether the session or the
        user was revoked."""


def unauthenticated(detail: str) -> Problem:
    return Problem(
        401, "unauthenticated", "Sign-in required", detail, headers={"WWW-Authenticate": "Bearer"}
    )


class BearerAuthenticator:
    def __init__(
        self,
        tokens: TokenVerifier,
        admission: Admission,
        pool: asyncpg.Pool,
        consistency_wait_seconds: float,
    ) -> None:
        self._tokens = tokens
        self._admission = admission
        self._pool = pool
        self._wait = consistency_wait_seconds
        self._visibility = consistency.VisibilityWaits(pool)

    async def authenticate(
        self,
        request: Request,
        history: EventHistoryPort | None,
        with_roles: bool = True,
        bucket: str = "user",
        studio: UUID | None = None,
    ) -> Principal:
        """The caller, once its consistency token (if any) is waited for, if it may be.

        With ``studio``, only the caller's role there is read: a user in hundreds of studios
        costs a route about one studio no more than a user in one.
        """
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise unauthenticated("Send Authorization: Bearer <access token>")
        claims = self._tokens.check(token.strip())
        if claims is None:
            raise unauthenticated("The access token is invalid or expired")
        if await self._admission.admit(claims.user_id, claims.session_id, bucket):
            raise unauthenticated("This session was revoked; sign in again")
        who = Principal(claims.user_id, claims.email, claims.session_id, roles=None)
        roles: dict[UUID, Role] | None = None
        text = request.headers.get(consistency.HEADER)
        if text:
            # A client that just created a studio or joined one sends the command's token, so
            # the roles read below already include that write. Someone else's write is not
            # waited for: the route then answers at once, as it would without the token.
            written = consistency.Token.decode(text)
            roles = await self.roles_of(who.user_id, studio)
            if await self._may_wait(who, written, roles, history):
                await self._visibility.wait(written, self._wait)
                if written.stream == ORGS.name:  # memberships come from the studios' events
                    roles = None
        if not with_roles:
            return who
        if roles is None:
            roles = await self.roles_of(who.user_id, studio)
        return replace(who, roles=roles, studio=studio)

    async def roles_of(self, user_id: UUID, studio: UUID | None = None) -> dict[UUID, Role]:
        """The caller's role in each studio, or in ``studio`` alone."""
        async with self._pool.acquire() as conn:
            if studio is None:
                rows = await conn.fetch(
                    "SELECT org_id, role FROM read.memberships WHERE user_id = $1", user_id
                )
            else:
                rows = await conn.fetch(
                    "SELECT org_id, role FROM read.memberships WHERE user_id = $1 AND org_id = $2",
                    user_id,
                    studio,
                )
        return {org_id: ROLES[role] for org_id, role in rows}

    async def _may_wait(
        self,
        who: Principal,
        written: consistency.Token,
        roles: Mapping[UUID, Role],
        history: EventHistoryPort | None,
    ) -> bool:
        """Whether the write is the caller's to know about: anything else is never waited for.

        The answer is the same for an aggregate that does not exist and one in another studio.
        """
        if history is None:
            return False
        if written.stream == ORGS.name:
            org_id: UUID | None = written.aggregate_id  # a studio's events are its own
        else:
            try:
                org_id = await history.org_of(written.stream, written.aggregate_id)
            except (DomainError, KeyError):
                return False
        if org_id is None:  # a user's own stream
            return written.aggregate_id == who.user_id
        if org_id in roles:
            return True
        # just created or joined: the write model knows before the read tables (the studio's
        # aggregate, fast-forwarded in this process's cache: one indexed read, no replay)
        try:
            return await history.role_in(org_id, who.user_id) is not None
        except (DomainError, KeyError):
            return False


class Callers:
    """The route modules' way to ask who is calling; one per module, sharing the write model
    that decides which consistency tokens a caller may wait for."""

    def __init__(self, history: EventHistoryPort | None, bucket: str = "user") -> None:
        # None only where no write model is at hand (a document built offline): then no
        # consistency token is waited for.
        self._history = history
        self._bucket = bucket
        """The rate limit the module's routes count against: ``user`` or ``images``."""

    async def principal(
        self, request: Request, roles: bool = True, studio: UUID | None = None
    ) -> Principal:
        """The caller, authenticated once per request.

        ``roles=False`` skips reading the caller's studios, for commands whose aggregate checks
        the caller's role itself (a studio's own member list): they need to know who, not where.
        ``studio`` reads the caller's role in that studio alone, for a route about one studio.
        """
        cached = getattr(request.state, "principal", None)
        if isinstance(cached, Principal):
            if cached.knows(studio) or not roles:
                return cached
            authenticator: BearerAuthenticator = request.app.state.authenticator
            principal = replace(
                cached, roles=await authenticator.roles_of(cached.user_id, studio), studio=studio
            )
        else:
            authenticator = request.app.state.authenticator
            principal = await authenticator.authenticate(
                request, self._history, with_roles=roles, bucket=self._bucket, studio=studio
            )
        if roles:
            principal = await self._with_new_studio(request, principal)
        request.state.principal = principal
        return principal

    async def _with_new_studio(self, request: Request, principal: Principal) -> Principal:
        """Add the path's studio from the write model when ``read.memberships`` lacks it.

        A studio created (or joined) a moment ago is not in the read table yet; asking its
        Organization aggregate lets a command right after the create succeed without a token.
        """
        text = request.path_params.get("org_id")
        if self._history is None or principal.roles is None or text is None:
            return principal
        try:
            org_id = UUID(str(text))
        except ValueError:
            return principal  # the route answers 404 for an id that is not one
        if org_id in principal.roles:
            return principal
        role = await self._history.role_in(org_id, principal.user_id)
        if role is None:
            return principal
        return replace(principal, roles={**principal.roles, org_id: role})

    async def in_studio(self, request: Request, action: Action) -> tuple[Principal, UUID]:
        """The caller and the path's studio, if the caller's role there allows ``action``."""
        org_id = path_uuid(request, "org_id")
        principal = await self.principal(request, studio=org_id)
        principal.require(org_id, action)
        return principal, org_id

    async def studio_resource(
        self,
        request: Request,
        pool: asyncpg.Pool,
        sql: str,
        id_param: str,
        kind: str,
        action: Action,
    ) -> tuple[Principal, asyncpg.Record]:
        """The row ``sql`` finds for the path's id, if the caller's role in its studio allows
        ``action``: 404 naming only that id when there is none or the caller is not in its
        studio, 403 for the role.

        ``sql`` selects at least ``org_id`` and takes the id as ``$1``.
        """
        resource_id = path_uuid(request, id_param)
        await self.principal(request, roles=False)  # a stranger is refused before any read
        async with pool.acquire() as conn:
            row = await conn.fetchrow(sql, resource_id)
        if row is None:
            raise not_found(f"{kind} {resource_id} was not found")
        principal = await self.principal(request, studio=row["org_id"])
        if not principal.may_see(row["org_id"]):
            raise not_found(f"{kind} {resource_id} was not found")
        principal.require(row["org_id"], action)
        return principal, row
