"""Access tokens: short-lived JWTs signed with the newest key of the ring, checked against all.

Only ES256 is accepted, so a token with ``alg: none`` or an HMAC algorithm keyed with our public
key is refused; the ``kid`` must name a key of the ring; issuer, audience and expiry are checked.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from jose import JWTError, jwk, jwt

from infra.keys import ALGORITHM, SigningKey

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
    def __init__(self, ring: list[SigningKey], issuer: str, audience: str, ttl_seconds: int):
        if not ring:
            raise ValueError("the key ring is empty")
        self._ring = {k.kid: k for k in ring}
        # Parsed once: building a key from its JWK on every request cost more than the check.
        self._verifiers = {k.kid: jwk.construct(k.public_jwk, ALGORITHM) for k in ring}
        self._verified: dict[str, AccessClaims] = {}
        self._signer = ring[0]
        self._issuer = issuer
        self._audience = audience
        self.ttl_seconds = ttl_seconds

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk for k in self._ring.values()]}

    def issue(self, user_id: UUID, session_id: UUID, email: str) -> str:
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
            key = self._verifiers.get(str(header.get("kid")))
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
