"""Worker heartbeats in Redis: how the health route knows which workers run, in any process.

Each worker process writes a short-lived key per worker every second with its lag; a key that
is not renewed expires, and the worker no longer counts as running.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis

Status = Callable[[], Awaitable[dict[str, Any]]]


def instance_name(configured: str = "") -> str:
    return configured or f"{socket.gethostname()}:{os.getpid()}"


def worker_label(kind: str, name: str) -> str:
    """A worker's name in parked messages, health and metrics: ``relay``, ``projector:orgs``."""
    return name if kind == name else f"{kind}:{name}"


def _prefix(namespace: str) -> str:
    return f"{namespace}:worker:"


async def beat_forever(
    redis: Redis,
    namespace: str,
    worker: tuple[str, str],
    instance: str,
    status: Status,
    every: float,
) -> None:
    """Renew this worker's key until cancelled; the key outlives three missed beats."""
    kind, name = worker
    key = f"{_prefix(namespace)}{kind}:{name}:{instance}"
    ttl_ms = int(every * 3000)
    while True:
        body = {"kind": kind, "name": name, "instance": instance, **await status()}
        await redis.set(key, orjson.dumps(body), px=ttl_ms)
        await asyncio.sleep(every)


async def running_workers(redis: Redis, namespace: str) -> list[dict[str, Any]]:
    keys = [key async for key in redis.scan_iter(match=f"{_prefix(namespace)}*", count=200)]
    if not keys:
        return []
    values = await redis.mget(keys)
    return [orjson.loads(v) for v in values if v is not None]
