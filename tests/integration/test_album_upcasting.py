"""Old ``StateChanged`` album events in the PostgreSQL event store, read as named events.

The same checks as ``tests/unit/test_album_upcasting.py``, on the albums application exactly as
the platform opens it (``open_platform``), so the upcasting mapper is known to be wired in.
"""

from __future__ import annotations

import asyncio

from infra.bootstrap import Platform
from tests.support.old_album_events import (
    assert_the_aggregate_replays_them,
    assert_the_audit_names_each_step,
    assert_the_relay_publishes_named_envelopes,
    record_an_old_album,
)


async def test_old_events_in_postgresql_replay_as_named_events(platform: Platform) -> None:
    app = platform.apps["albums"]
    album_id, photo = await asyncio.to_thread(record_an_old_album, app)
    await asyncio.to_thread(assert_the_aggregate_replays_them, app, album_id, photo)
    await assert_the_audit_names_each_step(app, album_id)
    await asyncio.to_thread(assert_the_relay_publishes_named_envelopes, app, album_id)
