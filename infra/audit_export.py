"""``python -m infra audit export STREAM ID`` and ``audit verify FILE``: a stream to keep.

The export is JSON lines: one per stored event (its stored bytes in base64, so the link can be
recomputed without PhotoFlow, and its ``prev_hash`` and ``hash``), then one line with the head:
the stream, aggregate, length and last link, signed as a compact JWS (ES256) with the
platform's current signing key, whose public half ``/api/auth/jwks.json`` publishes. An auditor
checks a file offline with ``docs/verify_audit_export.py`` (standard library and
``cryptography`` only), or with ``audit verify``, which uses this installation's keys.

An album's personal data is in those bytes only sealed with its client's key
(``domains.personal_data``): once the client is forgotten nobody can read it from an export,
while the export still verifies, as the chain covers the sealed bytes.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
from jose import jws

from infra.hash_chain import Link, link_of, links
from infra.keys import ALGORITHM, SigningKey, key_ring


@dataclass(frozen=True)
class Checked:
    ok: bool
    length: int
    problem: str | None


async def export_lines(
    conn: asyncpg.Connection, stream: str, table: str, aggregate_id: UUID, key: SigningKey
) -> list[str]:
    schema, _, name = table.partition(".")
    rows = await conn.fetch(
        f'SELECT originator_version, topic, state FROM "{schema}"."{name}" '
        "WHERE originator_id = $1 ORDER BY originator_version",
        aggregate_id,
    )
    chain: dict[int, Link] = await links(conn, table, aggregate_id)
    lines = []
    for version, topic, state in rows:
        link = chain.get(version)
        lines.append(
            json.dumps(
                {
                    "version": version,
                    "topic": topic,
                    "state": base64.b64encode(bytes(state or b"")).decode(),
                    "prev_hash": link.prev_hash.hex() if link and link.prev_hash else None,
                    "hash": link.hash.hex() if link else None,
                }
            )
        )
    head = {
        "stream": stream,
        "aggregate_id": str(aggregate_id),
        "length": len(rows),
        "head": json.loads(lines[-1])["hash"] if lines else None,
        "exported_at": int(time.time()),
    }
    signed = jws.sign(head, key.private_pem.decode(), algorithm=ALGORITHM, headers={"kid": key.kid})
    lines.append(json.dumps({"signed_head": signed}))
    return lines


def check(lines: Iterable[str], public_jwks: list[dict[str, Any]]) -> Checked:
    """Recompute every link and check the signed head; the first problem is named."""
    events: list[dict[str, Any]] = []
    signed: str | None = None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                record = json.loads(line)
            except ValueError:
                return Checked(False, len(events), f"line {number} is not JSON")
            if not isinstance(record, dict):
                return Checked(False, len(events), f"line {number} is not an export line")
            if "signed_head" in record:
                signed = record["signed_head"]
            else:
                events.append(record)
    if signed is None:
        return Checked(False, len(events), "no signed head")
    try:
        kid = jws.get_unverified_header(signed).get("kid")
        [jwk] = [k for k in public_jwks if k.get("kid") == kid]
        head = json.loads(jws.verify(signed, jwk, algorithms=[ALGORITHM]))
    except Exception as error:  # any failure here means the head cannot be trusted
        return Checked(False, len(events), f"the signed head does not verify: {error}")
    aggregate_id = UUID(head["aggregate_id"])
    prev: bytes | None = None
    for expected, event in enumerate(events, start=1):
        try:
            if event["version"] != expected:
                return Checked(False, len(events), f"version {expected} is missing")
            state = base64.b64decode(event["state"])
            link = link_of(prev, aggregate_id, expected, event["topic"] or "", state)
            recorded_prev = bytes.fromhex(event["prev_hash"]) if event["prev_hash"] else None
        except (KeyError, TypeError, ValueError):
            return Checked(False, len(events), f"version {expected} is not an export line")
        if recorded_prev != prev or event["hash"] != link.hex():
            return Checked(False, len(events), f"version {expected} does not match its link")
        prev = link
    if head["length"] != len(events) or head["head"] != (prev.hex() if prev else None):
        return Checked(False, len(events), "the events do not end at the signed head")
    return Checked(True, len(events), None)


def local_jwks(keys_dir: Path) -> list[dict[str, Any]]:
    return [k.public_jwk for k in key_ring(keys_dir)]


def read_lines(path: Path) -> Iterator[str]:
    with path.open() as file:
        yield from file
