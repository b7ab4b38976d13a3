"""Google sign-in: ID tokens verified by google-auth against Google's published certificates.

The certificates' address is a setting so that tests can serve their own signing certificates
from a local server speaking the same protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import google.auth.transport.requests
from google.auth import exceptions as google_errors
from google.oauth2 import id_token

from commands.identity import GoogleIdentity, GoogleVerifier
from domains.user import SignInRefused

GOOGLE_ISSUERS = ("accounts.google.com", "https://accounts.google.com")


def google_verifier(audience: str, certs_url: str) -> GoogleVerifier:
    request = google.auth.transport.requests.Request()

    def verify(token: str) -> Mapping[str, Any]:
        return id_token.verify_token(
            token, request, audience=audience, certs_url=certs_url, clock_skew_in_seconds=10
        )

    async def check(token: str) -> GoogleIdentity:
        if not audience:
            raise SignInRefused("Google sign-in is not configured (PHOTOFLOW_GOOGLE_CLIENT_ID)")
        try:
            claims = await asyncio.to_thread(verify, token)
        except (ValueError, google_errors.GoogleAuthError) as error:
            raise SignInRefused(f"the Google ID token was refused: {error}") from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise SignInRefused("the ID token was not issued by Google")
        return GoogleIdentity(
            subject=str(claims["sub"]),
            email=str(claims.get("email", "")),
            email_verified=bool(claims.get("email_verified")),
            name=str(claims.get("name", "")),
        )

    return check
