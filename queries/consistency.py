"""Read-your-writes on demand: a command's token makes a later read wait for its projections.

The token names the write (stream, aggregate id, version). A read that sends it back in
``X-Consistency-Token`` waits until every projection that reads that stream's topic has
applied the aggregate up to that version, or answers 409 after the configured wait.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from broker.topics import STREAMS
from projections import positions
from projections.registry import subscribers_of
from queries.problems import Problem

HEADER = "x-consistency-token"


@dataclass(frozen=True)
class Token:
    stream: str
    aggregate_id: UUID
    version: int

    def encode(self) -> str:
        raw = f"{self.stream}:{self.aggregate_id}:{self.version}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Token:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            stream, aggregate_id, version = raw.split(":")
            # Plain digits only, and a version PostgreSQL can compare (a bigint).
            if not (version.isascii() and version.isdigit() and len(version) <= 19):
                raise ValueError(version)
            token = cls(stream, UUID(aggregate_id), int(version))
        except ValueError:
            raise _bad_token() from None
        if token.stream not in STREAMS or not 1 <= token.version < 2**63:
            raise _bad_token()
        return token


def _bad_token() -> Problem:
    """Malformed, or naming no stream or an impossible version."""
    return Problem(
        400,
        "bad-consistency-token",
        "Bad consistency token",
        "X-Consistency-Token must be a token returned by a command",
    )


async def wait_for(pool: asyncpg.Pool, token: Token, timeout: float) -> None:
    """Return once the write is visible to every read table fed by its stream."""
    projections = subscribers_of(STREAMS[token.stream].topic)
    deadline = time.monotonic() + timeout
    delay = 0.002
    while True:
        async with pool.acquire() as conn:
            if await positions.caught_up(conn, projections, token.aggregate_id, token.version):
                return
        if time.monotonic() >= deadline:
            raise Problem(
                409,
                "not-yet-consistent",
                "Write not visible yet",
                f"The read tables did not include {token.stream} {token.aggregate_id} "
                f"version {token.version} within {timeout:g} s; try again shortly",
            )
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.05)
