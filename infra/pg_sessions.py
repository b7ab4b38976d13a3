"""Pooled PostgreSQL connections go back to the pool without a reset query.

asyncpg resets every connection it takes back (``pg_advisory_unlock_all(); CLOSE ALL;
UNLISTEN *; RESET ALL``): one more round trip per ``acquire``, and a request acquires two to
four times. On the split platform at 200 commands/s that reset was a ninth of an API
process's CPU (py-spy with ``--gil``), and PostgreSQL parsed it as often again.

Nothing here leaves session state on a pooled connection for the next user: no ``SET``
(only ``SET LOCAL``), no cursors outside transactions, and the relay's LISTEN session is
terminated, never returned. Session advisory locks, the one exception, are taken only through
``session_lock``, which gives them back or closes the connection. asyncpg still rolls back a
transaction left open and drops client-side listeners on every release (``Connection._reset``)
whatever the pool's reset is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


async def nothing_to_reset(conn: asyncpg.Connection) -> None:
    """The pool's ``reset``: a released connection holds no session state (see above)."""


@asynccontextmanager
async def session_lock(pool: asyncpg.Pool, key: int, *, wait: bool) -> AsyncIterator[bool]:
    """Hold the session advisory lock ``key`` for the block; yields whether it was taken.

    ``wait=False`` tries once (another process holds it: False). The lock is released on the
    way out; if that fails or is interrupted, the connection is closed instead of going back
    to the pool, which frees the lock as surely.
    """
    async with pool.acquire() as conn:
        try:  # interrupted while taking it, the lock may be granted all the same
            if wait:
                await conn.execute("SELECT pg_advisory_lock($1)", key)
                taken = True
            else:
                taken = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
        except BaseException:
            conn.terminate()
            raise
        try:
            yield taken
        finally:
            if taken:
                try:
                    await conn.execute("SELECT pg_advisory_unlock($1)", key)
                except BaseException:
                    conn.terminate()
                    raise
