from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from infra.bootstrap import Platform, open_platform
from tests.support.world import World, new_world


@pytest.fixture
async def world(stack: None) -> AsyncIterator[World]:
    async with new_world() as w:
        yield w


@pytest.fixture
async def platform(world: World) -> AsyncIterator[Platform]:
    async with open_platform(world.settings) as p:
        yield p
