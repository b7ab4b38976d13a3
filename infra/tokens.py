"""Access tokens: short-lived JWTs signed with the newest key of the ring, checked against all.

Only ES256 is accepted, so a token with ``alg: none`` or an HMAC algorithm keyed with our public
key is refused; the ``kid`` must name a key of the ring; issuer, audience and expiry are checked.

Every API process reads the ring from the shared keys folder and notices a rotation by itself
(``python -m infra rotate-keys``): it signs with the newest key within ``recheck_seconds``, and a
token naming a key it has not loaded yet makes it read the folder again at once, so a token
signed by any process verifies on every other, without a restart.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from jose import JWTError, jwk, jwt

from infra.keys import ALGORITHM, SigningKey, key_ring

VERIFIED_CACHE_SIZE = 100_000


class TokenRefused(Exception):
    """The token is malformed, forged, expired, or for another audience."""


@dataclass(frozen=True)
class AccessClaims:
    user_id: UUID
    session_id: UUID
    email: str
    expires_at: int


class AccessTokens:
    def __init__(
        self,
        ring: list[SigningKey],
        issuer: str,
        audience: str,
        ttl_seconds: int,
        *,
        folder: Path | None = None,
        recheck_seconds: float = 1.0,
    ):
        if not ring:
            raise ValueError("the key ring is empty")
        self._use(ring)
        self._verified: dict[str, AccessClaims] = {}
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds
        self._folder = folder
        self._recheck = recheck_seconds
        self._checked_at = time.monotonic()
        self._stamp = self._folder_stamp()

    @classmethod
    def from_folder(
        cls, folder: Path, issuer: str, audience: str, ttl_seconds: int
    ) -> AccessTokens:
        """Keys read from ``folder`` (shared by every process), followed as they rotate."""
        return cls(key_ring(folder), issuer, audience, ttl_seconds, folder=folder)

    def _use(self, ring: list[SigningKey]) -> None:
        self._ring = {k.kid: k for k in ring}
        # Parsed once: building a key from its JWK on every request cost more than the check.
        self._verifiers = {k.kid: jwk.construct(k.public_jwk, ALGORITHM) for k in ring}
        self._signer = ring[0]

    def _folder_stamp(self) -> int | None:
        if self._folder is None:
            return None
        try:
            return self._folder.stat().st_mtime_ns  # a new key file changes the folder's time
        except OSError:
            return None

    def _follow_rotation(self, now: bool = False) -> None:
        """Reload the ring if the folder changed; looked at once per ``recheck_seconds``."""
        if self._folder is None:
            return
        if not now and time.monotonic() - self._checked_at < self._recheck:
            return
        self._checked_at = time.monotonic()
        stamp = self._folder_stamp()
        if stamp != self._stamp:
            self._stamp = stamp
            ring = key_ring(self._folder)
            if ring:
                self._use(ring)

    def jwks(self) -> dict[str, Any]:
        self._follow_rotation()
        return {"keys": [k.public_jwk for k in self._ring.values()]}

    def issue(self, user_id: UUID, session_id: UUID, email: str) -> str:
        self._follow_rotation()
        now = int(time.time())
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "email": email,
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        token: str = jwt.encode(
            claims,
            self._signer.private_pem.decode(),
            algorithm=ALGORITHM,
            headers={"kid": self._signer.kid},
        )
        return token

    def verify(self, token: str) -> AccessClaims:
        """The token's claims; a token seen before is answered from memory until it expires."""
        known = self._verified.get(token)
        if known is not None and known.expires_at > time.time():
            return known
        claims = self._verify(token)
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            header = jwt.get_unverified_header(token)
            kid = str(header.get("kid"))
            if kid not in self._verifiers:
                self._follow_rotation(now=True)  # signed by a process that rotated first
            key = self._verifiers.get(kid)
            if key is None or header.get("alg") != ALGORITHM:
                raise TokenRefused("unknown signing key or algorithm")
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require_exp": True, "require_sub": True},
            )
            return AccessClaims(
                UUID(claims["sub"]), UUID(claims["sid"]), str(claims["email"]), int(claims["exp"])
            )
        except (JWTError, KeyError, ValueError, TypeError) as error:
            raise TokenRefused(str(error)) from None

    def check(self, token: str) -> AccessClaims | None:
        try:
            return self.verify(token)
        except TokenRefused:
            return None
