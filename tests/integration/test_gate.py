"""The gate on real Redis: rate limits shared by every process, CORS, security headers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from infra.settings import Settings
from queries.gate import RedisRateLimit, with_gate

ORIGIN = "https://app.photoflow.example"


async def ok(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


@pytest.fixture
async def redis(stack: None) -> AsyncIterator[Redis]:
    client = Redis.from_url(Settings().redis_url)
    yield client
    await client.aclose()


def gated(redis: Redis, namespace: str, limit: int) -> httpx.AsyncClient:
    app = Starlette(
        routes=[
            Route("/api/auth/login", ok, methods=["POST"]),
            Route("/api/orgs", ok, methods=["GET"]),
        ]
    )
    gate = with_gate(app, RedisRateLimit(redis, namespace, limit, 60), [ORIGIN])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=gate), base_url="http://api")


async def test_auth_routes_are_limited_per_ip_across_processes(redis: Redis) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    async with gated(redis, namespace, limit=3) as first, gated(redis, namespace, 3) as second:
        answers = [await (first if i % 2 else second).post("/api/auth/login") for i in range(5)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        limited = answers[-1]
        assert limited.headers["content-type"] == "application/problem+json"
        assert 0 < int(limited.headers["retry-after"]) <= 60
        assert limited.headers["x-content-type-options"] == "nosniff"
        assert (await first.get("/api/orgs")).status_code == 200  # other routes: not this limit


async def test_cors_answers_only_the_configured_origins(redis: Redis) -> None:
    async with gated(redis, f"test-{uuid.uuid4().hex[:8]}", limit=100) as client:
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        }
        allowed = await client.options("/api/auth/login", headers={"Origin": ORIGIN, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        other = await client.options(
            "/api/auth/login", headers={"Origin": "https://evil.example", **preflight}
        )
        assert "access-control-allow-origin" not in other.headers
        simple = await client.get("/api/orgs", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in simple.headers
