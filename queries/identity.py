"""Sign-up, sign-in (password or Google), token refresh, sign-out, and who am I."""

from __future__ import annotations

from uuid import UUID

import asyncpg
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from domains.user import SignInRefused
from queries.auth import Callers
from queries.bodies import read_body
from queries.login_throttle import FailedLogins
from queries.ports import EventHistoryPort, IdentityPort, SessionResult, TokenIssuer
from queries.routing import Endpoint, json
from queries.schemas import Jwks
from queries.text import Line


class Register(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Line = Field(max_length=254, json_schema_extra={"format": "email"})
    password: str = Field(min_length=8, max_length=1024)
    name: Line = Field(min_length=1, max_length=200)


class Login(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Line = Field(max_length=254, json_schema_extra={"format": "email"})
    password: str = Field(max_length=1024)


class RefreshToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    refresh_token: Line = Field(max_length=400)


class GoogleToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id_token: Line = Field(max_length=8192)


class Registered(BaseModel):
    user_id: UUID


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class Membership(BaseModel):
    org_id: UUID
    name: str
    role: str


class AuthConfig(BaseModel):
    google_client_id: str | None = Field(
        description="Google OAuth client id for Google sign-in; null when it is off."
    )


class Me(BaseModel):
    user_id: UUID
    email: str
    name: str
    orgs: list[Membership]


def identity_endpoints(
    identity: IdentityPort,
    tokens: TokenIssuer,
    pool: asyncpg.Pool,
    max_body: int,
    wait_seconds: float,
    history: EventHistoryPort | None = None,
    failed_logins: FailedLogins | None = None,
    google_client_id: str = "",
) -> list[Endpoint]:
    callers = Callers(history)

    def pair(session: SessionResult) -> Response:
        return json(
            {
                "access_token": tokens.issue(session.user_id, session.session_id, session.email),
                "refresh_token": session.refresh_token,
                "token_type": "bearer",
                "expires_in": tokens.ttl_seconds,
            }
        )

    async def register(request: Request) -> Response:
        body = await read_body(request, Register, max_body)
        written = await identity.register(body.email, body.password, body.name)
        return json({"user_id": written.aggregate_id}, 201)

    async def login(request: Request) -> Response:
        body = await read_body(request, Login, max_body)
        if failed_logins is None:
            return pair(await identity.login(body.email, body.password))
        await failed_logins.check(body.email)
        try:
            session = await identity.login(body.email, body.password)
        except SignInRefused:
            await failed_logins.failed(body.email)
            raise
        await failed_logins.succeeded(body.email)
        return pair(session)

    async def google(request: Request) -> Response:
        body = await read_body(request, GoogleToken, max_body)
        return pair(await identity.google_sign_in(body.id_token))

    async def config(request: Request) -> Response:
        return json({"google_client_id": google_client_id or None})

    async def refresh(request: Request) -> Response:
        body = await read_body(request, RefreshToken, max_body)
        return pair(await identity.refresh(body.refresh_token))

    async def logout(request: Request) -> Response:
        body = await read_body(request, RefreshToken, max_body)
        await identity.logout(body.refresh_token)
        return Response(status_code=204)

    async def deactivate(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        await identity.deactivate(principal.user_id, principal.user_id)
        return Response(status_code=204)

    async def jwks(request: Request) -> Response:
        return json(tokens.jwks())

    async def me(request: Request) -> Response:
        principal = await callers.principal(request, roles=False)
        async with pool.acquire() as conn:
            name = await conn.fetchval(
                "SELECT name FROM read.users WHERE user_id = $1", principal.user_id
            )
            orgs = await conn.fetch(
                "SELECT m.org_id, o.name, m.role FROM read.memberships m "
                "JOIN read.orgs o USING (org_id) WHERE m.user_id = $1 ORDER BY o.name",
                principal.user_id,
            )
        return json(
            {
                "user_id": principal.user_id,
                "email": principal.email,
                "name": name or principal.email,
                "orgs": [dict(o) for o in orgs],
            }
        )

    auth_errors = (400, 401, 413, 422, 429)
    return [
        Endpoint(
            "POST",
            "/api/auth/register",
            register,
            "Create an account",
            "auth",
            status=201,
            body=Register,
            response=Registered,
            authenticated=False,
            errors=(400, 409, 413, 422, 429),
        ),
        Endpoint(
            "POST",
            "/api/auth/login",
            login,
            "Sign in with email and password",
            "auth",
            body=Login,
            response=TokenPair,
            authenticated=False,
            errors=auth_errors,
        ),
        Endpoint(
            "POST",
            "/api/auth/google",
            google,
            "Sign in with a Google ID token",
            "auth",
            body=GoogleToken,
            response=TokenPair,
            authenticated=False,
            errors=auth_errors,
        ),
        Endpoint(
            "GET",
            "/api/auth/config",
            config,
            "How to sign in here: the Google client id when Google sign-in is on",
            "auth",
            response=AuthConfig,
            authenticated=False,
            errors=(),
        ),
        Endpoint(
            "POST",
            "/api/auth/refresh",
            refresh,
            "A new token pair; the old refresh token is spent (reuse revokes the session)",
            "auth",
            body=RefreshToken,
            response=TokenPair,
            authenticated=False,
            errors=auth_errors,
        ),
        Endpoint(
            "POST",
            "/api/auth/logout",
            logout,
            "End the session of this refresh token",
            "auth",
            status=204,
            body=RefreshToken,
            authenticated=False,
            errors=auth_errors,
        ),
        Endpoint(
            "GET",
            "/api/auth/jwks.json",
            jwks,
            "Public keys that sign access tokens",
            "auth",
            response=Jwks,
            authenticated=False,
            errors=(),
        ),
        Endpoint(
            "GET", "/api/me", me, "The caller and its studios", "auth", response=Me, errors=(401,)
        ),
        Endpoint(
            "POST",
            "/api/me/deactivate",
            deactivate,
            "Close the caller's account: its sessions end and sign-in is refused",
            "auth",
            status=204,
            errors=(401,),
        ),
    ]
