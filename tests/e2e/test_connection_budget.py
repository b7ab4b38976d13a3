"""The whole platform in one process stays inside its PostgreSQL connection budget (the split
layout's budget is checked in test_scale_out.py, on its own platform)."""

from __future__ import annotations

from tests.e2e.conftest import Running

EVENT_STORES = 6  # organization, identity, provider, sender, storage, albums


async def test_the_platform_never_holds_more_connections_than_its_pools_allow(
    running: Running,
) -> None:
    settings = running.world.settings
    at_most = EVENT_STORES * settings.eventstore_pool_max + settings.read_pool_max
    assert 2 * at_most < 100, "two whole copies fit in PostgreSQL's default max_connections"
    held = await running.world.connections_held()
    # the pools may have grown with earlier tests (they shrink after ten idle minutes): the
    # bound is the settings' maximum, whatever ran before
    assert 0 < held <= at_most, f"the platform holds {held} connections, more than {at_most}"
