"""The starlette application: routes from each module, one error shape for all of them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from domains.errors import DomainError
from domains.watermark import PNG_KIND
from infra.outages import OUTAGES
from queries.albums import album_endpoints
from queries.audit import audit_endpoints
from queries.auth import BearerAuthenticator
from queries.docs import doc_endpoints
from queries.downloads import picture_endpoints
from queries.gate import RedisRateLimit, with_gate
from queries.health import health_endpoints
from queries.identity import identity_endpoints
from queries.images import ImageParts
from queries.login_throttle import FailedLogins
from queries.members import member_endpoints
from queries.metrics import Measure, Metrics, metrics_endpoints
from queries.orgs import org_endpoints
from queries.outages import is_outage, unavailable
from queries.ports import (
    AlbumCommandsPort,
    EventHistoryPort,
    IdentityPort,
    OrgCommandsPort,
    ProviderCommandsPort,
    StorageCommandsPort,
    TokenIssuer,
)
from queries.problems import Problem, from_domain, render
from queries.providers import provider_endpoints
from queries.routing import Endpoint, routes
from queries.staleness import MarkStale, StaleAggregates
from queries.storage import LocationCheck, storage_endpoints
from queries.streams import LiveParts, stream_endpoints
from queries.watermarks import WatermarkCommandsPort, watermark_endpoints
from queries.web_pages import WebPages

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApiParts:
    """Everything the routes need, built by the composition root."""

    pool: asyncpg.Pool
    redis: Redis
    kafka_admin: AIOKafkaAdminClient
    authenticator: BearerAuthenticator
    auth_rate_limit: RedisRateLimit
    cors_origins: Sequence[str]
    identity: IdentityPort
    tokens: TokenIssuer
    orgs: OrgCommandsPort
    providers: ProviderCommandsPort
    storage: StorageCommandsPort
    albums: AlbumCommandsPort
    check_location: LocationCheck
    history: EventHistoryPort
    asyncapi: Callable[[], dict[str, Any]]
    required_workers: Sequence[tuple[str, str]]
    namespace: str
    metrics: Metrics
    """This process's figures: the routes' own, and the writers' batches it is told of."""
    max_body_bytes: int
    consistency_wait_seconds: float
    login_failures_per_account: int = 10
    google_client_id: str = ""
    """Google sign-in's OAuth client id (``GET /api/auth/config``); empty when it is off."""
    images: ImageParts | None = None
    """Thumbnails, previews, originals and ZIPs; None serves no image routes."""
    live: LiveParts | None = None
    """The live event streams (Server-Sent Events); None serves no stream routes."""
    watermarks: WatermarkCommandsPort | None = None
    """The studio's watermark routes (they keep PNGs in ``images.store``)."""


def build_app(parts: ApiParts) -> ASGIApp:
    wait = parts.consistency_wait_seconds
    endpoints = [
        *_health_answers_its_report(
            health_endpoints(
                parts.pool, parts.redis, parts.kafka_admin, parts.required_workers, parts.namespace
            )
        ),
        *identity_endpoints(
            parts.identity,
            parts.tokens,
            parts.pool,
            parts.max_body_bytes,
            wait,
            parts.history,
            FailedLogins(parts.redis, parts.namespace, parts.login_failures_per_account),
            parts.google_client_id,
        ),
        *org_endpoints(parts.orgs, parts.pool, parts.max_body_bytes, wait, parts.history),
        *member_endpoints(parts.orgs, parts.pool, parts.max_body_bytes, parts.history),
        *provider_endpoints(parts.providers, parts.pool, parts.max_body_bytes, wait, parts.history),
        *storage_endpoints(
            parts.storage, parts.check_location, parts.pool, parts.max_body_bytes, parts.history
        ),
        *album_endpoints(parts.albums, parts.pool, parts.max_body_bytes, parts.history),
        *audit_endpoints(parts.history),
        *(
            picture_endpoints(parts.images, parts.pool, parts.albums, parts.history)
            if parts.images
            else []
        ),
        *(stream_endpoints(parts.live, parts.albums, parts.history) if parts.live else []),
        *(
            watermark_endpoints(
                parts.watermarks,
                parts.images.store,
                PNG_KIND,
                parts.max_body_bytes,
                parts.history,
            )
            if parts.watermarks and parts.images
            else []
        ),
    ]
    metrics = parts.metrics
    endpoints += metrics_endpoints(
        metrics, parts.pool, parts.redis, parts.required_workers, parts.namespace
    )
    endpoints += doc_endpoints(endpoints, parts.asyncapi)
    app = Starlette(
        routes=routes(endpoints),
        # Handlers keyed by a class are answered by Starlette's ExceptionMiddleware; only the
        # catch-all ``Exception`` goes through ServerErrorMiddleware, which re-raises after
        # answering, so uvicorn drops the connection: outages are named one by one to be
        # answered 503 with the connection kept.
        exception_handlers={
            **dict.fromkeys(OUTAGES, _outage),
            Problem: _problem,
            DomainError: _domain_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.authenticator = parts.authenticator
    marked = MarkStale(app, StaleAggregates(parts.pool))
    api = Measure(with_gate(marked, parts.auth_rate_limit, parts.cors_origins), metrics)
    return WebPages(api)  # /, /app/..., /g/..., /invite/..., /assets/...; the rest is the API


def _health_answers_its_report(endpoints: Sequence[Endpoint]) -> list[Endpoint]:
    """Health's 503 carries the same report as its 200 (which component or worker is down),
    not a problem: say so in the document."""
    return [
        replace(e, error_bodies={503: e.response}) if e.response is not None else e
        for e in endpoints
    ]


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return render(exc, request)


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return render(from_domain(exc), request)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return render(
        Problem(
            exc.status_code, slug, str(exc.detail), str(exc.detail), headers=dict(exc.headers or {})
        ),
        request,
    )


async def _outage(request: Request, exc: Exception) -> Response:
    log.warning("%s %s: a dependency is down (%s)", request.method, request.url.path, exc)
    return render(unavailable(), request)


async def _unexpected(request: Request, exc: Exception) -> Response:
    if is_outage(exc):
        return await _outage(request, exc)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return render(
        Problem(
            500,
            "internal",
            "Internal error",
            "Something went wrong on our side; it has been logged",
        ),
        request,
    )
