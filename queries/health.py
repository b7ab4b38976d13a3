"""``GET /api/health``: are the servers up, and how do the workers fare?

503 only while PostgreSQL, Kafka or Redis does not answer: that is when a client should back
off. A worker that is restarting, retrying, missing or has parked messages makes the status
``degraded`` (still 200): the platform serves, and the body says which worker needs a look.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import BaseModel
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response

from broker import parking
from infra.heartbeats import running_workers, worker_label
from queries.routing import Endpoint, json

CHECK_TIMEOUT = 2.0


class Component(BaseModel):
    name: str
    ok: bool
    latency_ms: float | None = None
    error: str | None = None


class Worker(BaseModel):
    kind: str
    name: str
    running: bool
    instances: int
    lag: int | None = None
    failure: str | None = None
    restarting: bool = False
    restarts: int = 0
    parked: int = 0


class Health(BaseModel):
    status: Literal["ok", "degraded", "unavailable"]
    components: list[Component]
    workers: list[Worker]


async def _timed(name: str, check: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as error:  # any failure means the component is down: say which and why
        return {"name": name, "ok": False, "error": f"{type(error).__name__}: {error}"}
    return {
        "name": name,
        "ok": True,
        "latency_ms": round((time.perf_counter() - started) * 1000, 2),
    }


def health_endpoints(
    pool: asyncpg.Pool,
    redis: Redis,
    kafka: AIOKafkaAdminClient,
    required_workers: Sequence[tuple[str, str]],
    namespace: str,
) -> list[Endpoint]:
    parked: dict[str, int] = {}

    async def ping_postgres() -> None:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
            parked.clear()
            parked.update(await parking.counts(conn))

    async def health(request: Request) -> Response:
        components = await asyncio.gather(
            _timed("postgres", ping_postgres),
            _timed("redis", redis.ping),
            _timed("kafka", kafka.describe_cluster),
        )
        try:
            beats = await running_workers(redis, namespace)
        except Exception:  # Redis is down: already reported above
            beats = []
        workers = []
        # the required workers, then any other process that beats (API processes, split mode)
        others = sorted({(b["kind"], b["name"]) for b in beats} - set(required_workers))
        for kind, name in [*required_workers, *others]:
            mine = [b for b in beats if b["kind"] == kind and b["name"] == name]
            lags = [b["lag"] for b in mine if b.get("lag") is not None]
            failures = [b["failure"] for b in mine if b.get("failure")]
            restarting = any(b.get("restarting") for b in mine)
            workers.append(
                {
                    "kind": kind,
                    "name": name,
                    # a worker that is not ready yet (say, its partitions not assigned) says so
                    "running": bool(mine)
                    and not failures
                    and not restarting
                    and all(b.get("ready", True) for b in mine),
                    "instances": len(mine),
                    "lag": sum(lags) if lags else None,
                    "failure": failures[0] if failures else None,
                    "restarting": restarting,
                    "restarts": sum(int(b.get("restarts") or 0) for b in mine),
                    "parked": parked.get(worker_label(kind, name), 0),
                }
            )
        if not all(c["ok"] for c in components):
            status = "unavailable"
        elif all(w["running"] and not w["parked"] for w in workers):
            status = "ok"
        else:
            status = "degraded"
        body = {"status": status, "components": components, "workers": workers}
        return json(body, 503 if status == "unavailable" else 200)

    return [
        Endpoint(
            "GET",
            "/api/health",
            health,
            "Services and workers, with each worker's lag",
            "platform",
            response=Health,
            authenticated=False,
            errors=(503,),
        )
    ]
