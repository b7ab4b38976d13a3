"""A stand-in for Google's certificate endpoint, and ID tokens signed for it.

google-auth fetches ``{kid: x509 PEM}`` from the configured certs URL and checks the token's
RS256 signature against it: the same protocol Google speaks, served from this machine.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt

CLIENT_ID = "photoflow-test.apps.googleusercontent.com"
KEY_ID = "test-google-key"


@dataclass(frozen=True)
class GoogleStandIn:
    certs_url: str
    private_pem: bytes

    def id_token(
        self,
        subject: str,
        email: str,
        verified: bool = True,
        audience: str = CLIENT_ID,
        issuer: str = "https://accounts.google.com",
    ) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer,
            "aud": audience,
            "sub": subject,
            "email": email,
            "email_verified": verified,
            "name": "Google User",
            "iat": now,
            "exp": now + 600,
        }
        signer = crypt.RSASigner.from_string(self.private_pem, key_id=KEY_ID)
        return google_jwt.encode(signer, payload).decode()


def _self_signed() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test google")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return private, cert.public_bytes(serialization.Encoding.PEM)


@contextmanager
def google_certs_server() -> Iterator[GoogleStandIn]:
    private, cert = _self_signed()
    body = json.dumps({KEY_ID: cert.decode()}).encode()

    class Certs(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Certs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield GoogleStandIn(f"http://127.0.0.1:{server.server_port}/oauth2/v1/certs", private)
    finally:
        server.shutdown()
