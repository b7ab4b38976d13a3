"""Album events stored in the old shape read back as today's named events, everywhere.

The events are written into an in-memory store byte for byte as the old code wrote them
(``tests/support/old_album_events.py``); the aggregate, the audit history and the relay's
envelopes must all see the named events. ``tests/integration/test_album_upcasting.py`` runs
the same checks on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from commands.album_upcasting import upcast_state_changed
from commands.albums import AlbumsApplication
from tests.support.old_album_events import (
    assert_the_aggregate_replays_them,
    assert_the_audit_names_each_step,
    assert_the_relay_publishes_named_envelopes,
    record_an_old_album,
)


@pytest.fixture
def recorded() -> tuple[AlbumsApplication, UUID, UUID]:
    app = AlbumsApplication()
    album_id, photo = record_an_old_album(app)
    return app, album_id, photo


def test_the_aggregate_replays_old_events_into_its_state(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    assert_the_aggregate_replays_them(*recorded)


async def test_audit_history_names_each_step(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    app, album_id, _ = recorded
    await assert_the_audit_names_each_step(app, album_id)


def test_the_relay_publishes_named_envelopes(
    recorded: tuple[AlbumsApplication, UUID, UUID],
) -> None:
    app, album_id, _ = recorded
    assert_the_relay_publishes_named_envelopes(app, album_id)


def test_an_unknown_old_command_is_an_error_not_a_guess() -> None:
    old = {"command": "teleport", "timestamp": datetime.now(UTC), "org_id": 1, "actor": "x"}
    with pytest.raises(ValueError, match="unknown command"):
        upcast_state_changed(old)
