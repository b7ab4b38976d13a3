"""The hash chain's trigger: one call per INSERT statement, links as ``link_of`` computes them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import asyncpg
import pytest

from infra import hash_chain
from tests.support.world import World

TABLE = "chain_test.events"

# The per-row trigger earlier releases installed, as they installed it.
ROW_TRIGGER_OF_EARLIER_RELEASES = r"""
CREATE OR REPLACE FUNCTION audit.chain_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    prev bytea;
BEGIN
    SELECT c.hash INTO prev FROM audit.chain c
     WHERE c.events_table = source AND c.originator_id = NEW.originator_id
       AND c.originator_version = NEW.originator_version - 1;
    INSERT INTO audit.chain (events_table, originator_id, originator_version, prev_hash, hash)
    VALUES (source, NEW.originator_id, NEW.originator_version, prev,
            audit.link(prev, NEW.originator_id, NEW.originator_version, NEW.topic, NEW.state));
    RETURN NEW;
END $$;
CREATE TRIGGER chain_event AFTER INSERT ON chain_test.events
    FOR EACH ROW EXECUTE FUNCTION audit.chain_event();
"""


@pytest.fixture
async def conn(world: World) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(world.settings.database_url)
    await conn.execute(
        "CREATE SCHEMA chain_test; CREATE TABLE chain_test.events (originator_id uuid NOT NULL,"
        " originator_version bigint NOT NULL, topic text, state bytea,"
        " PRIMARY KEY (originator_id, originator_version))"
    )
    try:
        yield conn
    finally:
        await conn.close()


async def insert(conn: asyncpg.Connection, *events: tuple[UUID, int]) -> None:
    """One INSERT statement for all ``events``, as the event store writes a command batch."""
    await conn.execute(
        f"INSERT INTO {TABLE} SELECT i, v, 'topic-' || v, ('state of ' || i || v)::bytea"
        " FROM unnest($1::uuid[], $2::bigint[]) AS u(i, v)",
        [i for i, _ in events],
        [v for _, v in events],
    )


def expected_chain(aggregate_id: UUID, length: int) -> dict[int, hash_chain.Link]:
    links: dict[int, hash_chain.Link] = {}
    prev: bytes | None = None
    for version in range(1, length + 1):
        state = f"state of {aggregate_id}{version}".encode()
        link = hash_chain.link_of(prev, aggregate_id, version, f"topic-{version}", state)
        links[version] = hash_chain.Link(version, prev, link)
        prev = link
    return links


async def test_one_statement_of_several_streams_links_each_event_to_its_predecessor(
    conn: asyncpg.Connection,
) -> None:
    await hash_chain.install(conn, [TABLE])
    first, second = uuid4(), uuid4()
    # Out of order on purpose: the trigger links by version, not by the order rows came in.
    await insert(conn, (second, 1), (first, 2), (first, 1), (second, 2), (first, 3))
    await insert(conn, (first, 4))

    assert await hash_chain.links(conn, TABLE, first) == expected_chain(first, 4)
    assert await hash_chain.links(conn, TABLE, second) == expected_chain(second, 2)
    assert (await hash_chain.verify(conn, TABLE, first)).ok


async def test_a_table_linked_by_the_earlier_row_trigger_keeps_its_chain(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute(hash_chain.CHAIN_DDL)
    await conn.execute(ROW_TRIGGER_OF_EARLIER_RELEASES)
    stream = uuid4()
    await insert(conn, (stream, 1), (stream, 2))

    await hash_chain.install(conn, [TABLE])
    await insert(conn, (stream, 3), (stream, 4))

    triggers = await conn.fetch(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'chain_test.events'::regclass"
    )
    assert [t["tgname"] for t in triggers] == [hash_chain.STATEMENT_TRIGGER]
    assert await hash_chain.links(conn, TABLE, stream) == expected_chain(stream, 4)


async def test_events_recorded_before_the_chain_are_linked_when_it_is_installed(
    conn: asyncpg.Connection,
) -> None:
    stream = uuid4()
    await insert(conn, (stream, 1), (stream, 2))

    await hash_chain.install(conn, [TABLE])
    await insert(conn, (stream, 3))

    assert await hash_chain.links(conn, TABLE, stream) == expected_chain(stream, 3)


async def test_a_row_trigger_put_back_beside_the_statement_trigger_is_dropped(
    conn: asyncpg.Connection,
) -> None:
    """A process of an earlier release, started after the switch, adds its row trigger again."""
    await hash_chain.install(conn, [TABLE])
    await conn.execute(ROW_TRIGGER_OF_EARLIER_RELEASES)

    await hash_chain.install(conn, [TABLE])
    stream = uuid4()
    await insert(conn, (stream, 1), (stream, 2))

    triggers = await conn.fetch(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'chain_test.events'::regclass"
    )
    assert [t["tgname"] for t in triggers] == [hash_chain.STATEMENT_TRIGGER]
    assert await hash_chain.links(conn, TABLE, stream) == expected_chain(stream, 2)
