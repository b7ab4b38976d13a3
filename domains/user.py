"""The User aggregate: an account, how it signs in, and every session it opened.

Each sign-in opens a refresh-token family; each refresh rotates the family's current token.
Presenting a token that is no longer current means it was stolen or replayed, so the family is
revoked. Only hashes of token secrets and of the password are recorded, never the secrets.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue, RuleBroken
from domains.text import check_email, check_text

IDENTITY_NAMESPACE = uuid5(NAMESPACE_URL, "https://photoflow.dev/identity")


def normalise_email(email: str) -> str:
    return check_email("email", email)


def clean_person_name(name: str) -> str:
    cleaned = " ".join(check_text("name", name).split())
    if not cleaned or len(cleaned) > 200:
        raise InvalidValue("name", "must be 1 to 200 characters")
    return cleaned


class SignInRefused(RuleBroken):
    """Wrong credentials, an unknown or revoked session, or a deactivated account."""


class User(Aggregate):
    """An account. Its id appears as ``actor`` on every event the person causes."""

    SECRET_STATE: ClassVar[frozenset[str]] = frozenset({"password_hash", "sessions"})

    class Registered(Aggregate.Created):
        email: str
        name: str
        password_hash: str | None
        google_subject: str | None
        actor: str

    class GoogleLinked(Aggregate.Event):
        google_subject: str
        actor: str

    class SignedIn(Aggregate.Event):
        family_id: UUID
        token_hash: str
        method: str
        actor: str

    class TokenRotated(Aggregate.Event):
        family_id: UUID
        token_hash: str
        actor: str

    class SessionRevoked(Aggregate.Event):
        family_id: UUID
        reason: str
        actor: str

    class Deactivated(Aggregate.Event):
        actor: str

    @event(Registered)
    def __init__(
        self,
        email: str,
        name: str,
        password_hash: str | None,
        google_subject: str | None,
        actor: str,
    ) -> None:
        self.email = email
        self.name = name
        self.password_hash = password_hash
        self.google_subject = google_subject
        self.active = True
        self.sessions: dict[UUID, str] = {}  # open family -> hash of its current refresh token

    @classmethod
    def register(
        cls, email: str, name: str, password_hash: str | None, google_subject: str | None = None
    ) -> User:
        return cls(
            email=normalise_email(email),
            name=clean_person_name(name),
            password_hash=password_hash,
            google_subject=google_subject,
            actor="self",
        )

    def link_google(self, google_subject: str) -> None:
        if self.google_subject != google_subject:
            self._google_linked(google_subject=google_subject, actor=str(self.id))

    def sign_in(self, family_id: UUID, token_hash: str, method: str) -> None:
        if not self.active:
            raise SignInRefused("this account is deactivated")
        self._signed_in(
            family_id=family_id, token_hash=token_hash, method=method, actor=str(self.id)
        )

    def refresh(self, family_id: UUID, presented_hash: str, new_hash: str) -> bool:
        """Rotate the family's token; a replayed old token revokes the family (returns False)."""
        current = self.sessions.get(family_id)
        if current is None or not self.active:
            raise SignInRefused("this session has ended; sign in again")
        if presented_hash != current:
            self._session_revoked(
                family_id=family_id, reason="refresh token reused", actor=str(self.id)
            )
            return False
        self._token_rotated(family_id=family_id, token_hash=new_hash, actor=str(self.id))
        return True

    def sign_out(self, family_id: UUID, presented_hash: str) -> None:
        if self.sessions.get(family_id) == presented_hash:
            self._session_revoked(family_id=family_id, reason="signed out", actor=str(self.id))

    def deactivate(self, actor_id: UUID) -> None:
        if self.active:
            self._deactivated(actor=str(actor_id))

    @event(GoogleLinked)
    def _google_linked(self, google_subject: str, actor: str) -> None:
        self.google_subject = google_subject

    @event(SignedIn)
    def _signed_in(self, family_id: UUID, token_hash: str, method: str, actor: str) -> None:
        self.sessions[family_id] = token_hash

    @event(TokenRotated)
    def _token_rotated(self, family_id: UUID, token_hash: str, actor: str) -> None:
        self.sessions[family_id] = token_hash

    @event(SessionRevoked)
    def _session_revoked(self, family_id: UUID, reason: str, actor: str) -> None:
        self.sessions.pop(family_id, None)

    @event(Deactivated)
    def _deactivated(self, actor: str) -> None:
        self.active = False
        self.sessions.clear()


class LoginIndex(Aggregate):
    """Maps one email address, or one Google account, to one user: the uniqueness guard.

    Its id is derived from the key, so two registrations of one email try to create the same
    aggregate at version 1 and the event store lets only one of them win.
    """

    class Claimed(Aggregate.Created):
        key: str
        user_id: UUID

    @event(Claimed)
    def __init__(self, key: str, user_id: UUID) -> None:
        self.key = key
        self.user_id = user_id

    @staticmethod
    def create_id(key: str) -> UUID:
        """The library derives the new aggregate's id from its key."""
        return uuid5(IDENTITY_NAMESPACE, key)


def email_key(email: str) -> str:
    return f"email:{normalise_email(email)}"


def google_key(subject: str) -> str:
    return f"google:{subject}"
