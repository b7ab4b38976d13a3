#!/usr/bin/env python3
"""Check a PhotoFlow audit export offline: python verify_audit_export.py EXPORT JWKS

EXPORT is what ``python -m infra audit export STREAM ID`` wrote; JWKS is the platform's
``/api/auth/jwks.json`` saved to a file. Needs only the standard library and ``cryptography``.
Every event's link is recomputed from its stored bytes:

    link = sha256(prev_link || uuid_bytes(aggregate) || int64_be(version) || utf8(topic) || 0x00
                  || stored_state)

and the last line's head must be signed (ES256, compact JWS) by a key of the JWKS.
Exit 0 and "ok" when everything holds; exit 1 naming the first problem otherwise.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verified_head(compact: str, jwks: dict) -> dict:
    header_b64, payload_b64, signature_b64 = compact.split(".")
    header = json.loads(b64url(header_b64))
    [jwk] = [k for k in jwks["keys"] if k.get("kid") == header.get("kid")]
    if header.get("alg") != "ES256" or jwk.get("crv") != "P-256":
        raise ValueError("only ES256 on P-256 is accepted")
    numbers = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url(jwk["x"]), "big"),
        int.from_bytes(b64url(jwk["y"]), "big"),
        ec.SECP256R1(),
    )
    raw = b64url(signature_b64)
    signature = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    numbers.public_key().verify(
        signature, f"{header_b64}.{payload_b64}".encode(), ec.ECDSA(hashes.SHA256())
    )
    return json.loads(b64url(payload_b64))


def main(export_path: str, jwks_path: str) -> int:
    with open(jwks_path) as file:
        jwks = json.load(file)
    with open(export_path) as file:
        records = [json.loads(line) for line in file if line.strip()]
    if not records or "signed_head" not in records[-1]:
        print("problem: no signed head")
        return 1
    try:
        head = verified_head(records[-1]["signed_head"], jwks)
    except (InvalidSignature, ValueError) as error:
        print(f"problem: the signed head does not verify ({error or 'bad signature'})")
        return 1
    aggregate = uuid.UUID(head["aggregate_id"])
    prev = b""
    events = records[:-1]
    for expected, event in enumerate(events, start=1):
        if event["version"] != expected:
            print(f"problem: version {expected} is missing")
            return 1
        link = hashlib.sha256(
            prev
            + aggregate.bytes
            + expected.to_bytes(8, "big", signed=True)
            + (event["topic"] or "").encode()
            + b"\x00"
            + base64.b64decode(event["state"])
        ).digest()
        if (event["prev_hash"] or "") != prev.hex() or event["hash"] != link.hex():
            print(f"problem: version {expected} does not match its link")
            return 1
        prev = link
    if head["length"] != len(events) or head["head"] != (prev.hex() or None):
        print("problem: the events do not end at the signed head")
        return 1
    print(f"ok: {len(events)} events of {head['stream']} {aggregate}, head {head['head']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
