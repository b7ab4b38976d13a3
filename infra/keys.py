"""Key material: the JWT signing key ring and the event store's cipher key.

Keys come from a folder (``PHOTOFLOW_KEYS_DIR``, by default ``var/keys``) that every process of
one installation shares. A missing key is generated once, under a file lock, so two processes
starting together agree on it. Rotation adds a newer signing key; older ones stay in the JWKS
and keep verifying until they are removed, so nobody is logged out by a rotation.
"""

from __future__ import annotations

import base64
import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jose import jwk

ALGORITHM = "ES256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_jwk: dict[str, Any]


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _write_secret(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(data)
    temporary.chmod(0o600)
    temporary.replace(path)


def cipher_key(folder: Path) -> str:
    """The AES key (base64) that encrypts sensitive event stores at rest."""
    return _load_or_create(
        folder / "eventstore.key", lambda: base64.b64encode(os.urandom(32))
    ).decode()


def invitation_key(folder: Path) -> bytes:
    """The HMAC key from which invitation links are derived (see ``invitation_token``)."""
    return base64.b64decode(
        _load_or_create(folder / "invitation.key", lambda: base64.b64encode(os.urandom(32)))
    )


def _load_or_create(path: Path, create: Callable[[], bytes]) -> bytes:
    with _locked(path.parent):
        if not path.exists():
            _write_secret(path, create())
        return path.read_bytes().strip()


def rotate(folder: Path) -> SigningKey:
    """Add a new signing key; it signs from now on, the older ones still verify."""
    with _locked(folder):
        kid = time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex()
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_secret(folder / f"jwt-{kid}.pem", pem)
    return _signing_key(kid, pem)


def key_ring(folder: Path) -> list[SigningKey]:
    """Every signing key, newest first; creates the first one if there is none."""
    keys = _read_ring(folder)
    if not keys:
        rotate(folder)
        keys = _read_ring(folder)
    return keys


def _read_ring(folder: Path) -> list[SigningKey]:
    if not folder.exists():
        return []
    # Newest first by the time the file was written: two keys made within one second (their
    # kids share the timestamp) must still be told apart.
    files = sorted(folder.glob("jwt-*.pem"), key=lambda f: (f.stat().st_mtime_ns, f.name))
    files.reverse()
    return [_signing_key(f.stem.removeprefix("jwt-"), f.read_bytes()) for f in files]


def _signing_key(kid: str, pem: bytes) -> SigningKey:
    private = serialization.load_pem_private_key(pem, password=None)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = jwk.construct(public_pem.decode(), ALGORITHM).to_dict()
    return SigningKey(kid, pem, {**public, "kid": kid, "use": "sig", "alg": ALGORITHM})
