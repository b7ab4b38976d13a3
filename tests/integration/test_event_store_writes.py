"""Events go to PostgreSQL byte for byte as the mapper made them, plain or encrypted."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.application import Application

from domains.organization import Organization
from infra import hash_chain
from infra.bootstrap import Platform
from infra.eventstore import events_table
from tests.support.world import World

# Every character the text format of a composite row has to escape, and some it need not.
AWKWARD_NAME = "Studio \"Ω\" \\ (1, 2) {a,b} ,; 'NULL' 📷"


async def stored_states(conn: asyncpg.Connection, app: Application[UUID], id: UUID) -> list[bytes]:
    schema, _, table = events_table(app).partition(".")
    rows = await conn.fetch(
        f'SELECT state FROM "{schema}"."{table}" WHERE originator_id = $1'
        " ORDER BY originator_version",
        id,
    )
    return [bytes(r["state"]) for r in rows]


@pytest.mark.parametrize("store", ["orgs", "users"])
async def test_a_batch_of_events_is_stored_as_mapped_and_chained(
    world: World, platform: Platform, store: str
) -> None:
    """``users`` is encrypted: its states are ciphertext, every byte value in play."""
    app = platform.apps[store]
    owner = uuid4()
    orgs = [Organization.create(name=f"{AWKWARD_NAME} {n}", owner_id=owner) for n in range(3)]
    for org in orgs:
        org.rename(name=AWKWARD_NAME, actor_id=owner)
    pending = [event for org in orgs for event in org.collect_events()]
    mapped = [app.mapper.to_stored_event(event) for event in pending]

    await asyncio.to_thread(app.recorder.insert_events, mapped)

    conn = await asyncpg.connect(world.settings.database_url)
    try:
        for org in orgs:
            expected = [m.state for m in mapped if m.originator_id == org.id]
            assert len(expected) == 3
            assert await stored_states(conn, app, org.id) == expected
            assert (await hash_chain.verify(conn, events_table(app), org.id)).ok
    finally:
        await conn.close()
    reloaded: object = app.repository.get(orgs[0].id)
    assert isinstance(reloaded, Organization)
    assert reloaded.name == AWKWARD_NAME


async def test_a_save_waits_for_another_writers_open_transaction(
    world: World, platform: Platform
) -> None:
    """Notification ids must follow commit order, or the relay, tailing the log, could pass an
    id that commits later and never publish it: a save locks the events table (as the
    library's pipeline does), so it waits while another writer's insert is still open, and
    then records its events with ids after that writer's."""
    app = platform.apps["orgs"]
    schema, _, table = events_table(app).partition(".")
    other = await asyncpg.connect(world.settings.database_url)
    try:
        writing = other.transaction()
        await writing.start()
        await other.execute(f'LOCK TABLE "{schema}"."{table}" IN ROW EXCLUSIVE MODE')
        org = Organization.create(name="Waits", owner_id=uuid4())
        saving = asyncio.create_task(asyncio.to_thread(app.save, org))
        await asyncio.sleep(0.5)
        assert not saving.done(), "the save did not wait for the other writer's transaction"
        await writing.rollback()
        await asyncio.wait_for(saving, 10)
    finally:
        await other.close()
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        assert len(await stored_states(conn, app, org.id)) == 2
    finally:
        await conn.close()
