"""Read-your-writes on demand: a command's token makes a later read wait for its projections.

The token names the write (stream, aggregate id, version). A read that sends it back in
``X-Consistency-Token`` waits until every projection that reads that stream's topic has
applied the aggregate up to that version, or answers 409 after the configured wait.

The reads waiting in one process are checked together (``VisibilityWaits``): one query every
few milliseconds answers all of them, where each read used to poll on its own (from 2 ms,
doubling): at 500 commands/s, each followed by a read with its token, that was thousands of
queries a second, a connection acquired for each.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from uuid import UUID

import asyncpg

from broker.topics import STREAMS
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


POLL_SECONDS = 0.003
"""Between two checks while reads wait: a few ms on top of the projections' own latency."""

_VISIBLE = (
    "SELECT v.projection, v.aggregate_id, v.version FROM unnest($1::text[], $2::uuid[]) "
    "AS u(p, a) JOIN read.projection_versions v ON v.projection = u.p AND v.aggregate_id = u.a"
)


@dataclass(eq=False)
class _Waiting:
    projections: Sequence[str]
    aggregate_id: UUID
    version: int
    visible: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class VisibilityWaits:
    """The reads of one process that wait for a write, all checked by one query at a time."""

    def __init__(self, pool: asyncpg.Pool, poll_seconds: float = POLL_SECONDS) -> None:
        self._pool = pool
        self._poll = poll_seconds
        self._waiting: set[_Waiting] = set()
        self._checker: asyncio.Task[None] | None = None

    async def wait(self, token: Token, timeout: float) -> None:
        """Return once the write is visible to every read table fed by its stream; 409 after
        ``timeout``. A failed check (PostgreSQL away) raises its error to every waiting read."""
        waiting = _Waiting(
            subscribers_of(STREAMS[token.stream].topic), token.aggregate_id, token.version
        )
        self._waiting.add(waiting)
        if self._checker is None or self._checker.done():
            self._checker = asyncio.create_task(self._check())
        try:
            async with asyncio.timeout(timeout):
                await waiting.visible
        except TimeoutError:
            raise Problem(
                409,
                "not-yet-consistent",
                "Write not visible yet",
                f"The read tables did not include {token.stream} {token.aggregate_id} "
                f"version {token.version} within {timeout:g} s; try again shortly",
            ) from None
        finally:
            self._waiting.discard(waiting)

    async def _check(self) -> None:
        """While reads wait: find which writes are visible now, release their reads, pause."""
        while self._waiting:
            waiting = list(self._waiting)
            pairs = list({(p, w.aggregate_id) for w in waiting for p in w.projections})
            try:
                async with self._pool.acquire() as conn:
                    rows = await conn.fetch(_VISIBLE, [p for p, _ in pairs], [a for _, a in pairs])
            except Exception as error:
                # every read waiting now learns it, those that came during the query too: with
                # the checker gone, nothing would look for them again
                for w in list(self._waiting):
                    if not w.visible.done():
                        w.visible.set_exception(error)
                return
            applied = {(r["projection"], r["aggregate_id"]): r["version"] for r in rows}
            for w in waiting:
                seen = (applied.get((p, w.aggregate_id), 0) for p in w.projections)
                if all(version >= w.version for version in seen) and not w.visible.done():
                    w.visible.set_result(None)
            await asyncio.sleep(self._poll)
