"""A user's budgets: commands and reads have one, images (a gallery's grid) another."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import Running, running_platform
from tests.support.google import google_certs_server
from tests.support.world import new_world

USER_LIMIT = 20


@pytest.fixture
async def platform(stack: None) -> AsyncIterator[Running]:
    async with new_world() as world:
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="limits",
                user_rate_limit=str(USER_LIMIT),
                image_rate_limit=str(USER_LIMIT * 10),
            )
            async with running_platform(world, process, google) as running:
                yield running


async def test_scrolling_through_images_does_not_spend_the_users_budget(
    platform: Running,
) -> None:
    http, account = platform.http, await platform.account()
    if time.time() % 60 > 50:  # the budgets are per wall-clock minute: start inside one
        await asyncio.sleep(61 - time.time() % 60)
    images = [
        (await http.get(f"/api/storage/files/p{n}.jpg/thumbnail", headers=account.headers))
        for n in range(USER_LIMIT * 2)
    ]
    assert {a.status_code for a in images} == {404}, "twice the user's limit of image GETs"
    reads = [(await http.get("/api/me", headers=account.headers)) for _ in range(USER_LIMIT + 2)]
    statuses = [a.status_code for a in reads]
    assert statuses[:USER_LIMIT] == [200] * USER_LIMIT, statuses
    assert statuses[USER_LIMIT:] == [429, 429], "the user's own budget still holds"
    assert reads[-1].headers["retry-after"].isdigit()
