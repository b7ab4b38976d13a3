"""The whole platform as ``make run`` starts it, in a subprocess, reached over real HTTP."""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.support.accounts import Account, sign_up
from tests.support.waiting import eventually
from tests.support.world import World, new_world


@dataclass(frozen=True)
class Running:
    world: World
    http: httpx.AsyncClient

    async def account(self) -> Account:
        """A new user, signed in."""
        return await sign_up(self.http)


@pytest.fixture(scope="session")
async def running(stack: None) -> AsyncIterator[Running]:
    async with new_world() as world:
        process = world.spawn("run", log_name="platform", auth_rate_limit="100000")
        base = f"http://127.0.0.1:{world.settings.http_port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:

            async def health() -> int:
                try:
                    return (await http.get("/api/health")).status_code
                except httpx.TransportError:
                    assert process.poll() is None, "the platform exited; see var/test-logs"
                    return 0

            try:
                await eventually(
                    health, lambda status: status == 200, timeout=90, what="platform healthy"
                )
                yield Running(world, http)
            finally:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
