"""The whole platform as ``make run`` starts it, in a subprocess, reached over real HTTP."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
import pytest

from infra.demo_photos import generate
from tests.support.accounts import Account, sign_up
from tests.support.google import CLIENT_ID, GoogleStandIn, google_certs_server
from tests.support.waiting import eventually
from tests.support.world import World, new_world


@dataclass(frozen=True)
class Running:
    world: World
    http: httpx.AsyncClient
    google: GoogleStandIn
    process: subprocess.Popen[bytes]
    """The platform's process (its memory is measured by some tests)."""

    async def account(self) -> Account:
        """A new user, signed in."""
        return await sign_up(self.http)


@pytest.fixture(scope="session")
async def running(stack: None) -> AsyncIterator[Running]:
    async with whole_platform("platform", digest_seconds="3") as running:
        yield running


@asynccontextmanager
async def whole_platform(log_name: str, **settings: str) -> AsyncIterator[Running]:
    """A new world with six demo photos and a platform on it, as ``make run`` starts one."""
    async with new_world() as world:
        generate(world.photos, count=6)
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name=log_name,
                auth_rate_limit="100000",
                google_client_id=CLIENT_ID,
                google_certs_url=google.certs_url,
                mailbox_dir=str(world.mailbox),
                local_roots=str(world.photos),
                allowed_private_endpoints="127.0.0.1",
                **settings,
            )
            async with running_platform(world, process, google) as running:
                yield running


@asynccontextmanager
async def running_platform(
    world: World, process: subprocess.Popen[bytes], google: GoogleStandIn
) -> AsyncIterator[Running]:
    """Wait until the platform reports healthy; stop it afterwards."""
    base = f"http://127.0.0.1:{world.settings.http_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def health() -> str:
            try:
                return str((await http.get("/api/health")).json()["status"])
            except httpx.TransportError:
                assert process.poll() is None, "the platform exited; see var/test-logs"
                return "not answering"

        try:
            await eventually(
                health, lambda status: status == "ok", timeout=90, what="platform healthy"
            )
            yield Running(world, http, google, process)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # never leave a platform running behind the tests
                process.wait()
                raise
