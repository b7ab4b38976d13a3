"""``GET /metrics`` in the Prometheus text format: what this API process and every worker do.

Request latency is measured here, per route template (``/api/albums/{album_id}``, so the
label set stays as small as the route table whatever callers send) and method; workers report
through their heartbeats in Redis (lag, restarts, whether they run), so one scrape of any API
process sees every process; parked messages are counted in ``ops.parked``. Everything a scrape
needs is read at scrape time: no background task.

API processes that share a port (split mode) share their figures too: the supervisor gives
them one ``PROMETHEUS_MULTIPROC_DIR``, where each process's counters and histograms live, and
a scrape answered by any of them sums every one (a process that died keeps its counts).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import asyncpg
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker import parking
from infra.heartbeats import running_workers, worker_label
from queries.routing import Endpoint

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
WORKER_EVENT_COUNTS = ("published", "applied", "handled", "read")
"""The heartbeat field that counts a worker's events: the relay publishes them, projectors
apply them (those new to their tables), the Sender handles them, album snapshots read them."""


def route_label(scope: Scope) -> str:
    """The matched route's template (``/api/albums/{album_id}/photos``), so the label set is
    bounded by the routes, not by what callers type: a path no route matched is ``unmatched``
    (``/api/...``) or ``web`` (pages and assets)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if isinstance(template, str):
        return template
    return "unmatched" if scope["path"].startswith("/api/") else "web"


class Metrics:
    """This process's registry: request figures, and worker gauges filled at scrape time."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "photoflow_http_request_seconds",
            "Time to answer an HTTP request, by route and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.answers = Counter(
            "photoflow_http_responses",
            "HTTP answers by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.lag = Gauge(
            "photoflow_worker_lag_messages",
            "Messages a worker has not consumed yet (summed over its instances).",
            ["worker"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # set at scrape time
        )
        self.instances = Gauge(
            "photoflow_worker_instances",
            "Instances of a worker whose heartbeat is current.",
            ["worker"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # set at scrape time
        )
        self.restarts = Gauge(
            "photoflow_worker_restarts",
            "Restarts of a worker after failures, since its processes started.",
            ["worker"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # set at scrape time
        )
        self.parked = Gauge(
            "photoflow_parked_messages",
            "Messages a worker parked (ops.parked): they need a look.",
            ["worker"],
            registry=self.registry,
            multiprocess_mode="livemostrecent",  # set at scrape time
        )

        self.commands = Counter(
            "photoflow_commands",
            "Commands through the group commit, by application and outcome: written, refused "
            "(the domain said no), conflict (a stale If-Match or a lost race), failed, or "
            "withdrawn (the caller gave up while it was queued).",
            ["application", "outcome"],
            registry=self.registry,
        )
        self.events_recorded = Counter(
            "photoflow_events_recorded",
            "Events the group commit's commands recorded in the event store, by application.",
            ["application"],
            registry=self.registry,
        )
        self.batch_commands = Histogram(
            "photoflow_group_commit_batch_commands",
            "Commands per group-commit batch (one transaction), by application.",
            ["application"],
            buckets=BATCH_BUCKETS,
            registry=self.registry,
        )
        self.worker_events = WorkerEvents()
        self.registry.register(self.worker_events)

    def count_batch(
        self, application: str, commands: int, outcomes: Mapping[str, int], events: int
    ) -> None:
        """Count one batch of a group commit of this process: the commands it ran, how many
        ended each way (``written``, ``refused``, ...), and the events it recorded."""
        if commands:  # not a batch whose callers had all given up
            self.batch_commands.labels(application).observe(commands)
        for outcome, count in outcomes.items():
            if count:
                self.commands.labels(application, outcome).inc(count)
        if events:
            self.events_recorded.labels(application).inc(events)

    def exposition(self) -> bytes:
        """This process's figures, or every API process's when they share a directory."""
        if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
            return generate_latest(self.registry)
        every = CollectorRegistry()
        multiprocess.MultiProcessCollector(every)  # type: ignore[no-untyped-call]
        every.register(self.worker_events)  # from the heartbeats, the same in every process
        return generate_latest(every)


class WorkerEvents(Collector):
    """``photoflow_worker_events_total``: the events each process of each worker handled.

    The counts live in the workers' heartbeats, each process counting from its own start, so
    they are set at scrape time, one series per process (``instance``): a process that
    restarts starts its series again from zero, which Prometheus's ``rate()`` reads as that
    series' reset, and ``sum by (worker)`` of the rates is the worker's events per second.
    """

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str], int] = {}

    def set(self, counts: Mapping[tuple[str, str], int]) -> None:
        self._counts = dict(counts)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "photoflow_worker_events",
            "Events each worker process handled since it started: published (relay), "
            "applied (projectors), handled (Sender), read (album snapshots).",
            labels=["worker", "instance"],
        )
        for (worker, instance), count in sorted(self._counts.items()):
            family.add_metric([worker, instance], count)
        yield family


def events_counted(beat: Mapping[str, Any]) -> int | None:
    """The events one process's heartbeat counts; None when it carries no count (a worker
    of another kind, or a beat sent while its status could not be read)."""
    for key in WORKER_EVENT_COUNTS:
        value = beat.get(key)
        if isinstance(value, int):
            return value
    return None


class Measure:
    """ASGI middleware timing every HTTP request into ``Metrics``."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def keep_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self._app(scope, receive, keep_status)
        finally:
            route, method = route_label(scope), scope["method"]
            self._metrics.latency.labels(route, method).observe(time.perf_counter() - started)
            self._metrics.answers.labels(route, method, str(status[0])).inc()


def metrics_endpoints(
    metrics: Metrics,
    pool: asyncpg.Pool,
    redis: Redis,
    required_workers: Sequence[tuple[str, str]],
    namespace: str,
) -> list[Endpoint]:
    async def scrape(request: Request) -> Response:
        beats = await running_workers(redis, namespace)
        async with pool.acquire() as conn:
            parked = await parking.counts(conn)
        others = sorted({(b["kind"], b["name"]) for b in beats} - set(required_workers))
        events: dict[tuple[str, str], int] = {}
        for kind, name in [*required_workers, *others]:  # API processes beat too (split mode)
            worker = worker_label(kind, name)
            mine = [b for b in beats if b["kind"] == kind and b["name"] == name]
            for beat in mine:
                counted = events_counted(beat)
                if counted is not None:
                    events[(worker, str(beat.get("instance", "")))] = counted
            metrics.instances.labels(worker).set(len(mine))
            metrics.lag.labels(worker).set(sum(int(b.get("lag") or 0) for b in mine))
            metrics.restarts.labels(worker).set(sum(int(b.get("restarts") or 0) for b in mine))
            metrics.parked.labels(worker).set(parked.get(worker, 0))
        metrics.worker_events.set(events)
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return [
        Endpoint(
            "GET",
            "/metrics",
            scrape,
            "Prometheus metrics: request latency per route, commands and events, group-commit "
            "batches, and per worker its events, lag, restarts and parked messages",
            "platform",
            authenticated=False,
            errors=(503,),
            content={"text/plain": {"type": "string", "description": "Prometheus text format"}},
        )
    ]
