"""Page latency of a keyset-paged route's query, at random cursors through a large table."""

from __future__ import annotations

import random
import time
from uuid import UUID

import asyncpg

from bench.report import Latencies


async def page_latencies(
    pool: asyncpg.Pool, keys_sql: str, page_sql: str, resource_id: UUID, pages: int = 500
) -> Latencies:
    """``keys_sql`` lists every row's cursor key for ``$1``; ``page_sql`` takes the id, the key
    columns and the limit, as the route runs it. Pages of 50 (51 fetched, as the route does)."""
    async with pool.acquire() as conn:
        keys = await conn.fetch(keys_sql, resource_id)
        rng = random.Random(5)
        samples = []
        for _ in range(pages):
            cursor = rng.choice(keys)
            started = time.perf_counter()
            await conn.fetch(page_sql, resource_id, *cursor.values(), 51)
            samples.append(time.perf_counter() - started)
    return Latencies(samples)
