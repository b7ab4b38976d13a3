"""Access tokens: what is accepted and what is refused."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from uuid import uuid4

import pytest
from jose import jwt

from infra.keys import key_ring, rotate
from infra.tokens import AccessTokens, TokenRefused


def tokens(folder: Path, ttl: int = 60) -> AccessTokens:
    return AccessTokens(key_ring(folder), "photoflow", "photoflow-api", ttl)


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_token_names_its_user_and_session(tmp_path: Path) -> None:
    issuer = tokens(tmp_path)
    user, session = uuid4(), uuid4()
    claims = issuer.verify(issuer.issue(user, session, "a@example.com"))
    assert (claims.user_id, claims.session_id, claims.email) == (user, session, "a@example.com")


def test_tampered_expired_unsigned_and_foreign_tokens_are_refused(tmp_path: Path) -> None:
    issuer = tokens(tmp_path)
    good = issuer.issue(uuid4(), uuid4(), "a@example.com")
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = f"{header}.{_b64({**claims, 'sub': str(uuid4())})}.{signature}"
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    hmac_with_public_key = jwt.encode(
        claims,
        json.dumps(issuer.jwks()["keys"][0]),
        algorithm="HS256",
        headers={"kid": claims and issuer.jwks()["keys"][0]["kid"]},
    )
    stranger = tokens(tmp_path / "elsewhere").issue(uuid4(), uuid4(), "a@example.com")
    expired_issuer = tokens(tmp_path, ttl=-120)
    expired = expired_issuer.issue(uuid4(), uuid4(), "a@example.com")
    for bad in (forged, unsigned, hmac_with_public_key, stranger, expired, "not.a.jwt", ""):
        with pytest.raises(TokenRefused):
            issuer.verify(bad)
        assert issuer.check(bad) is None


def test_rotation_keeps_old_tokens_valid_and_signs_with_the_new_key(tmp_path: Path) -> None:
    before = tokens(tmp_path)
    old = before.issue(uuid4(), uuid4(), "a@example.com")
    time.sleep(1.1)  # key ids sort by creation time
    newest = rotate(tmp_path)
    after = tokens(tmp_path)
    assert after.verify(old)
    fresh = after.issue(uuid4(), uuid4(), "a@example.com")
    assert jwt.get_unverified_header(fresh)["kid"] == newest.kid
    assert {k["kid"] for k in after.jwks()["keys"]} == {newest.kid, before.jwks()["keys"][0]["kid"]}


def test_a_rotation_reaches_every_process_reading_the_same_folder(tmp_path: Path) -> None:
    """Two API processes share the keys folder; one rotates, neither is restarted."""
    first = AccessTokens.from_folder(tmp_path, "photoflow", "photoflow-api", 900)
    second = AccessTokens.from_folder(tmp_path, "photoflow", "photoflow-api", 900)
    before = first.issue(uuid4(), uuid4(), "a@example.com")
    newest = rotate(tmp_path)
    time.sleep(1.1)  # each process looks at the folder at most once a second
    after = second.issue(uuid4(), uuid4(), "b@example.com")
    assert jwt.get_unverified_header(after)["kid"] == newest.kid
    assert first.check(after) is not None, "a token from the rotated process verifies here"
    assert second.check(before) is not None, "older keys keep verifying"
    assert newest.kid in {k["kid"] for k in first.jwks()["keys"]}
