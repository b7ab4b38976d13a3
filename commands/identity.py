"""The Identity context: accounts, sign-in by password or Google, and refresh-token sessions.

Refresh tokens are ``<user>.<session>.<secret>``; only a SHA-256 of the secret is recorded.
Password hashing (argon2) runs on a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from uuid import UUID, uuid4

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from eventsourcing.application import AggregateNotFoundError, Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.errors import InvalidValue, NotFound, RuleBroken
from domains.user import LoginIndex, SignInRefused, User, email_key, google_key

PASSWORD_MIN, PASSWORD_MAX = 8, 1024


class IdentityApplication(Application[UUID]):
    """Events of the Identity context, stored encrypted in table ``identity_events``."""

    name = "Identity"


class EmailTaken(RuleBroken):
    pass


@dataclass(frozen=True)
class Session:
    user_id: UUID
    email: str
    session_id: UUID
    refresh_token: str


@dataclass(frozen=True)
class GoogleIdentity:
    subject: str
    email: str
    email_verified: bool
    name: str


GoogleVerifier = Callable[[str], Awaitable[GoogleIdentity]]
SessionRevoked = Callable[[UUID], Awaitable[None]]
UserRevoked = Callable[[UUID], Awaitable[None]]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _parse_refresh(token: str) -> tuple[UUID, UUID, str]:
    try:
        user, session, secret = token.split(".")
        return UUID(user), UUID(session), secret
    except ValueError:
        raise SignInRefused("this refresh token is not one of ours") from None


class IdentityCommands:
    def __init__(
        self,
        app: Application[UUID],
        committer: GroupCommitter,
        google: GoogleVerifier,
        on_session_revoked: SessionRevoked,
        on_user_revoked: UserRevoked,
    ) -> None:
        self._app = app
        self._committer = committer
        self._google = google
        self._on_session_revoked = on_session_revoked
        self._on_user_revoked = on_user_revoked
        # OWASP's argon2id settings (19 MiB, 2 passes, 1 lane): the library's default (64 MiB,
        # 3 passes, 4 lanes) cost ~140 ms of CPU a sign-in here, 7 sign-ins/s on 2 cores.
        self._hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)

    async def register(self, email: str, password: str, name: str) -> Written:
        if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
            raise InvalidValue("password", f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters")
        password_hash = await asyncio.to_thread(self._hasher.hash, password)

        def decide(batch: Batch) -> User:
            user = User.register(email=email, name=name, password_hash=password_hash)
            self._claim(batch, email_key(user.email), user.id)
            return batch.add(user)

        return await self._committer.execute(decide)

    async def login(self, email: str, password: str) -> Session:
        user = await self._user_for(email_key(email))
        if user is None or user.password_hash is None:
            await asyncio.to_thread(self._hasher.hash, password)  # same time as a wrong password
            raise SignInRefused("wrong email or password")
        try:
            await asyncio.to_thread(self._hasher.verify, user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise SignInRefused("wrong email or password") from None
        return await self._open_session(user.id, "password")

    async def google_sign_in(self, id_token: str) -> Session:
        identity = await self._google(id_token)
        user = await self._user_for(google_key(identity.subject))
        if user is None and identity.email_verified:
            user = await self._user_for(email_key(identity.email))
        if user is None:
            written = await self._committer.execute(lambda b: self._register_google(b, identity))
            return await self._open_session(written.aggregate_id, "google")

        def link(batch: Batch) -> User:
            linked = batch.get(User, user.id)
            if linked.google_subject != identity.subject:
                self._claim(batch, google_key(identity.subject), linked.id)
                linked.link_google(identity.subject)
            return linked

        await self._committer.execute(link)
        return await self._open_session(user.id, "google")

    async def refresh(self, refresh_token: str) -> Session:
        user_id, session_id, secret = _parse_refresh(refresh_token)
        new_secret = secrets.token_urlsafe(32)
        rotated, email = True, ""

        def decide(batch: Batch) -> User:
            nonlocal rotated, email
            user = self._existing_user(batch, user_id)
            rotated = user.refresh(session_id, _digest(secret), _digest(new_secret))
            email = user.email
            return user

        await self._committer.execute(decide)
        if not rotated:
            await self._on_session_revoked(session_id)
            raise SignInRefused("this refresh token was already used: the session is revoked")
        return Session(user_id, email, session_id, f"{user_id}.{session_id}.{new_secret}")

    async def logout(self, refresh_token: str) -> None:
        user_id, session_id, secret = _parse_refresh(refresh_token)

        def decide(batch: Batch) -> User:
            user = self._existing_user(batch, user_id)
            user.sign_out(session_id, _digest(secret))
            return user

        await self._committer.execute(decide)
        await self._on_session_revoked(session_id)

    async def deactivate(self, user_id: UUID, actor_id: UUID) -> Written:
        """Close the account: every session ends now, and sign-in is refused from now on."""

        def decide(batch: Batch) -> User:
            user = self._existing_user(batch, user_id)
            user.deactivate(actor_id)
            return user

        written = await self._committer.execute(decide)
        await self._on_user_revoked(user_id)
        return written

    async def _open_session(self, user_id: UUID, method: str) -> Session:
        session_id, secret = uuid4(), secrets.token_urlsafe(32)
        email = ""

        def decide(batch: Batch) -> User:
            nonlocal email
            user = self._existing_user(batch, user_id)
            user.sign_in(session_id, _digest(secret), method)
            email = user.email
            return user

        await self._committer.execute(decide)
        return Session(user_id, email, session_id, f"{user_id}.{session_id}.{secret}")

    def _register_google(self, batch: Batch, identity: GoogleIdentity) -> User:
        user = User.register(
            email=identity.email,
            name=identity.name or identity.email,
            password_hash=None,
            google_subject=identity.subject,
        )
        self._claim(batch, google_key(identity.subject), user.id)
        if identity.email_verified:
            self._claim(batch, email_key(user.email), user.id)
        return batch.add(user)

    @staticmethod
    def _claim(batch: Batch, key: str, user_id: UUID) -> None:
        if batch.exists(LoginIndex.create_id(key)):
            raise EmailTaken(f"{key.partition(':')[2]} is already registered")
        batch.add(LoginIndex(key=key, user_id=user_id))

    @staticmethod
    def _existing_user(batch: Batch, user_id: UUID) -> User:
        try:
            return batch.get(User, user_id)
        except NotFound:
            raise SignInRefused("this session has ended; sign in again") from None

    async def _user_for(self, key: str) -> User | None:
        def load() -> User | None:
            try:
                index: LoginIndex = self._app.repository.get(LoginIndex.create_id(key))
                user: User = self._app.repository.get(index.user_id)
            except AggregateNotFoundError:
                return None
            return user if isinstance(user, User) and user.active else None

        return await asyncio.to_thread(load)
