"""Audit export and verification of a long stream, beside hashing the same bytes alone.

One studio renamed many times gives a stream of N events, each linked by the hash-chain
trigger as it is stored. The figure is the whole auditor's path, events per second:
``audit export`` (read the rows and their links, sign the head) then ``audit verify``
(recompute every link, check the signature). The baseline is ``hashlib.sha256`` over exactly
the bytes the links cover, nothing else: the ratio says what reading, JSON and the checks cost.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import time
from uuid import uuid4

from bench.report import Figure, say
from domains.organization import Organization
from infra import audit_export, keys
from infra.bootstrap import open_platform
from infra.eventstore import events_table
from tests.support.world import World

NAME = "audit"


def _record(org: Organization, count: int, app: object) -> None:
    save = app.save  # type: ignore[attr-defined]
    owner = next(iter(org.members))
    for n in range(1, count + 1):
        org.rename(f"Studio {n}", owner)
        if n % 1000 == 0:
            save(org)
    save(org)


def _bare_hashing(lines: list[str]) -> float:
    """sha256 over each event's linked bytes alone (no JSON, no checks, no database)."""
    inputs = []
    for line in lines[:-1]:
        event = json.loads(line)
        inputs.append(
            event["version"].to_bytes(8, "big")
            + (event["topic"] or "").encode()
            + base64.b64decode(event["state"])
        )
    started = time.perf_counter()
    prev = b""
    for data in inputs:
        prev = hashlib.sha256(prev + b"\x00" * 16 + data).digest()
    return time.perf_counter() - started


async def run(world: World, quick: bool) -> list[Figure]:
    count = 10_000 if quick else 100_000
    async with open_platform(world.settings) as platform:
        app = platform.apps["orgs"]
        org = Organization.create(name="Audited", owner_id=uuid4())
        started = time.perf_counter()
        await asyncio.to_thread(_record, org, count, app)
        say(f"  recorded {org.version:,} events in {time.perf_counter() - started:.1f} s")
        signer = keys.key_ring(platform.keys_dir)[0]
        table = events_table(app)
        started = time.perf_counter()
        async with platform.pool.acquire() as conn:
            lines = await audit_export.export_lines(conn, "orgs", table, org.id, signer)
        exported = time.perf_counter() - started
        started = time.perf_counter()
        checked = audit_export.check(lines, audit_export.local_jwks(platform.keys_dir))
        verified = time.perf_counter() - started
        assert checked.ok, checked.problem
        bare = await asyncio.to_thread(_bare_hashing, lines)
    events = org.version
    rate = events / (exported + verified)
    say(f"  export {exported:.2f} s, verify {verified:.2f} s; bare hashing {bare:.2f} s")
    return [
        Figure(
            NAME,
            f"export and verify a stream of {events:,} events",
            rate,
            "events/s",
            "hashlib.sha256 over the same bytes alone",
            events / bare,
            detail=f"export {events / exported:,.0f}/s, verify {events / verified:,.0f}/s",
        )
    ]
