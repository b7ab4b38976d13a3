"""Who a client is, for the sign-in limit: X-Forwarded-For only from a trusted proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import Running, running_platform
from tests.support.google import google_certs_server
from tests.support.world import new_world

AUTH_LIMIT = 3


@pytest.fixture(params=["", "127.0.0.1"], ids=["no-proxy-trusted", "loopback-trusted"])
async def platform(request: pytest.FixtureRequest, stack: None) -> AsyncIterator[Running]:
    async with new_world() as world:
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="proxies",
                auth_rate_limit=str(AUTH_LIMIT),
                trusted_proxies=request.param,
            )
            async with running_platform(world, process, google) as running:
                yield running


async def sign_in_from(running: Running, address: str) -> int:
    answer = await running.http.post(
        "/api/auth/login",
        json={"email": "nobody@example.com", "password": "wrong password"},
        headers={"X-Forwarded-For": address},
    )
    return answer.status_code


async def test_a_forged_forwarded_for_does_not_escape_the_limit_unless_the_proxy_is_trusted(
    platform: Running, request: pytest.FixtureRequest
) -> None:
    statuses = [await sign_in_from(platform, f"198.51.100.{n}") for n in range(AUTH_LIMIT + 2)]
    trusted = request.node.callspec.params["platform"] == "127.0.0.1"
    if trusted:  # behind a trusted proxy each forwarded address has a limit of its own
        assert 429 not in statuses, statuses
    else:  # from anyone else the header is ignored: the connection's address counts
        assert statuses[AUTH_LIMIT:] == [429, 429], statuses
