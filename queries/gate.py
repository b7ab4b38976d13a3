"""The gate in front of every route: request ids, security headers, CORS, rate limits.

Authentication itself happens in ``queries.auth`` when a route asks for the caller, so public
routes (health, docs, sign-in, share links) need no exception list here.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Sequence

import orjson
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from queries.problems import MEDIA_TYPE, Problem

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"strict-transport-security", b"max-age=31536000; includeSubDomains"),
    (b"cache-control", b"no-store"),
]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RedisRateLimit:
    """A fixed-window counter per key in Redis, shared by every API process."""

    def __init__(self, redis: Redis, namespace: str, limit: int, window_seconds: int) -> None:
        self._redis = redis
        self._prefix = f"{namespace}:rate:"
        self._limit = limit
        self._window = window_seconds

    async def hit(self, key: str) -> None:
        counter = self.counter(key)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.incr(counter)
            pipe.expire(counter, self.counter_lifetime)
            count, _ = await pipe.execute()
        self.check(int(count))

    def counter(self, key: str) -> str:
        """The Redis key counting ``key``'s requests in the current window."""
        return f"{self._prefix}{key}:{int(time.time()) // self._window}"

    @property
    def counter_lifetime(self) -> int:
        """Seconds a window's counter is kept: past its window, then forgotten."""
        return self._window * 2

    def check(self, count: int) -> None:
        """Raise the 429 problem when ``count`` requests in this window are past the limit."""
        if count > self._limit:
            retry = self._window - int(time.time()) % self._window
            raise Problem(
                429,
                "rate-limited",
                "Too many requests",
                f"at most {self._limit} requests per {self._window} s; retry in {retry} s",
                headers={"Retry-After": str(retry)},
            )


class Gate:
    """Pure ASGI middleware, so it adds nothing to a streamed body and costs little."""

    def __init__(self, app: ASGIApp, auth_limit: RedisRateLimit) -> None:
        self._app = app
        self._auth_limit = auth_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        offered = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = message.get("headers", [])
                # a route that chose its caching (images: ETag, immutable) keeps its choice
                cached = any(name.lower() == b"cache-control" for name, _ in own)
                message["headers"] = [
                    *own,
                    *(h for h in SECURITY_HEADERS if not (cached and h[0] == b"cache-control")),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        if scope["path"].startswith("/api/auth/") and scope["method"] == "POST":
            client = scope.get("client") or ("unknown", 0)
            try:
                await self._auth_limit.hit(f"ip:{client[0]}")
            except Problem as limited:
                await _send_problem(limited, scope["path"], send_with_headers)
                return
        await self._app(scope, receive, send_with_headers)


async def _send_problem(problem: Problem, path: str, send: Send) -> None:
    body = orjson.dumps(problem.body(path))
    extra = [(k.lower().encode(), v.encode()) for k, v in (problem.headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": [
                (b"content-type", MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
                *extra,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def with_gate(app: ASGIApp, auth_limit: RedisRateLimit, cors_origins: Sequence[str]) -> ASGIApp:
    """CORS inside the gate, so even a refused preflight carries the security headers."""
    inner = CORSMiddleware(
        app,
        allow_origins=list(cors_origins),
        allow_credentials=False,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "If-Match",
            "X-Consistency-Token",
            "X-Request-Id",
        ],
        expose_headers=["ETag", "Location", "X-Request-Id", "Retry-After", "X-Stale"],
    )
    return Gate(inner, auth_limit)
