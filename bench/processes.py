"""Running the real platform in a subprocess of the world, and always stopping it again."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bench.http import wait_for_answer
from tests.support.world import REPO, World

# Benchmark users send thousands of requests a second, all from one address: the rate limits
# still run (their Redis round trips are part of every figure) but are set too high to refuse.
OVERRIDES = {"user_rate_limit": "1000000000", "auth_rate_limit": "1000000000"}


@asynccontextmanager
async def serving(
    world: World, role: str, log_name: str, healthy: bool, timeout: float = 90.0
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """``python -m infra ROLE`` until the block ends; ready when /api/health answers.

    ``healthy`` waits for a 200 (relay and projectors have sent heartbeats), otherwise any
    answer will do: the API alone reports 503 because no worker runs, and that is expected.
    """
    proc = world.spawn(role, log_name=log_name, **OVERRIDES)
    log = REPO / "var" / "test-logs" / f"{world.settings.namespace}-{log_name}.log"
    try:
        settings = world.settings
        waiting = asyncio.create_task(
            wait_for_answer(
                settings.http_host,
                settings.http_port,
                "/api/health",
                timeout,
                200 if healthy else None,
            )
        )
        while not waiting.done():
            if proc.poll() is not None:
                waiting.cancel()
                raise RuntimeError(f"python -m infra {role} exited {proc.returncode}; see {log}")
            await asyncio.sleep(0.1)
        waiting.result()
        yield proc
    finally:
        await asyncio.to_thread(stop, proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it has not gone within 15 s; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
