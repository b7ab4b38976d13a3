"""Running the real platform in a subprocess of the world, and always stopping it again.

``python -m bench`` sets ``PHOTOFLOW_PROCESSES=auto`` unless the environment says otherwise,
as ``make run`` does, so on two cores or more the benchmarks measure the platform split into
processes: ``run`` is split by its own supervisor (the children inherit the setting), and
``api`` starts ``PHOTOFLOW_API_WORKERS`` API processes (one per core by default) sharing the
port, as the supervisor would. ``PHOTOFLOW_PROCESSES=single`` measures one process.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import orjson

from bench.http import wait_for_answer
from infra.processes import shape
from infra.settings import Settings
from tests.support.world import REPO, World

# Benchmark users send thousands of requests a second, all from one address: the rate limits
# still run (their Redis round trips are part of every figure) but are set too high to refuse.
OVERRIDES = {"user_rate_limit": "1000000000", "auth_rate_limit": "1000000000"}


def api_processes() -> int:
    """How many API processes ``serving(world, "api", ...)`` starts: 1, or API_WORKERS split."""
    settings = Settings()
    split = shape(settings.processes, os.cpu_count()) == "split"
    return settings.api_workers if split else 1


@asynccontextmanager
async def serving(
    world: World, role: str, log_name: str, healthy: bool, timeout: float = 90.0
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``python -m infra ROLE`` until the block ends; ready when /api/health answers.

    ``healthy`` waits for a 200 (relay and projectors have sent heartbeats), otherwise any
    answer will do: the API alone reports 503 because no worker runs, and that is expected.
    Several API processes are ready when health counts every one of them.
    """
    apis = api_processes() if role == "api" else 1
    if apis > 1:
        procs = [
            world.spawn("api", "--shared-port", log_name=f"{log_name}-{i}", **OVERRIDES)
            for i in range(1, apis + 1)
        ]
    else:
        procs = [world.spawn(role, log_name=log_name, **OVERRIDES)]
    log = REPO / "var" / "test-logs" / f"{world.settings.namespace}-{log_name}.log"
    try:
        settings = world.settings
        waiting = asyncio.create_task(
            _ready(settings.http_host, settings.http_port, timeout, healthy, apis)
        )
        while not waiting.done():
            if any(proc.poll() is not None for proc in procs):
                waiting.cancel()
                raise RuntimeError(f"python -m infra {role} exited; see {log}")
            await asyncio.sleep(0.1)
        waiting.result()
        yield procs[0]
    finally:
        await asyncio.gather(*(asyncio.to_thread(stop, proc) for proc in procs))


async def _ready(host: str, port: int, timeout: float, healthy: bool, apis: int) -> None:
    while True:
        answer = await wait_for_answer(host, port, "/api/health", timeout, 200 if healthy else None)
        if apis == 1:
            return
        workers = orjson.loads(answer.body).get("workers", [])
        if sum(w["instances"] for w in workers if w["kind"] == "api") >= apis:
            return
        await asyncio.sleep(0.2)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 15 s; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
