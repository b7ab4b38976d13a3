from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from commands.organizations import OrganizationApplication
from infra.bootstrap import Platform, open_platform
from infra.eventstore import open_application
from tests.support.world import World, new_world


@pytest.fixture
async def world(stack: None) -> AsyncIterator[World]:
    async with new_world() as w:
        yield w


@pytest.fixture
async def platform(world: World) -> AsyncIterator[Platform]:
    async with open_platform(world.settings) as p:
        yield p


@pytest.fixture
async def orgs_app(world: World) -> AsyncIterator[OrganizationApplication]:
    """The studios' application alone, on the world's database, without the platform."""
    app = await asyncio.to_thread(
        open_application, OrganizationApplication, world.settings, "organization"
    )
    try:
        yield app
    finally:
        app.close()
