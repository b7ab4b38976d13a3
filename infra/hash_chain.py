"""A hash chain per event stream: a history nobody can rewrite unseen.

Every event row, as it is inserted, gets a link in ``audit.chain``: the SHA-256 of its
predecessor's link and of the row's own stored bytes (aggregate id, version, topic, state: for
encrypted stores the ciphertext, so forgetting a key never breaks the chain). A PostgreSQL
trigger writes the link in the inserting transaction, so no command path can skip it and it
costs the command path no round trip. Editing or deleting an event row afterwards makes
``verify`` name the first version whose bytes no longer match; a signed export of the head
(``python -m infra audit export``) pins the end of the chain outside the database.

The link is ``sha256(prev || uuid16(id) || int8(version) || utf8(topic) || 0x00 || state)``,
with ``prev`` empty for version 1; ``link_of`` computes the same in Python, independently of
the database function, and ``docs/verify_audit_export.py`` needs nothing but the standard
library and ``cryptography``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

CHAIN_DDL = r"""
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.chain (
    events_table text NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    prev_hash bytea,
    hash bytea NOT NULL,
    PRIMARY KEY (events_table, originator_id, originator_version)
);
CREATE OR REPLACE FUNCTION audit.link(prev bytea, id uuid, version bigint, topic text, state bytea)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT sha256(coalesce(prev, ''::bytea) || uuid_send(id) || int8send(version)
                  || convert_to(coalesce(topic, ''), 'UTF8') || '\x00'::bytea
                  || coalesce(state, ''::bytea))
$$;
-- One call per INSERT statement, not per row: a command batch inserts tens of events in one
-- statement, and a row trigger's own INSERT per event cost PostgreSQL more than the events.
-- A row whose predecessor came in the same statement links to the hash just computed.
CREATE OR REPLACE FUNCTION audit.chain_events() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source text := TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME;
    event record;
    prev bytea;
    link bytea;
    last_id uuid;
    last_version bigint;
    ids uuid[] := '{}';
    versions bigint[] := '{}';
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
BEGIN
    FOR event IN
        SELECT n.originator_id, n.originator_version, n.topic, n.state
          FROM new_events n
         ORDER BY n.originator_id, n.originator_version
    LOOP
        IF event.originator_id = last_id AND event.originator_version = last_version + 1 THEN
            prev := link;
        ELSIF event.originator_version = 1 THEN
            prev := NULL;  -- a stream's first event: nothing before it to look up
        ELSE
            -- One lookup by the key for each stream's first event here, never a join: joined
            -- to the transition table (which has no statistics) the planner came to scan the
            -- whole chain, and every command batch slowed as the chain grew.
            SELECT c.hash INTO prev FROM audit.chain c
             WHERE c.events_table = source AND c.originator_id = event.originator_id
               AND c.originator_version = event.originator_version - 1;
        END IF;
        link := audit.link(prev, event.originator_id, event.originator_version, event.topic,
                           event.state);
        ids := array_append(ids, event.originator_id);
        versions := array_append(versions, event.originator_version);
        prevs := array_append(prevs, prev);
        hashes := array_append(hashes, link);
        last_id := event.originator_id;
        last_version := event.originator_version;
    END LOOP;
    INSERT INTO audit.chain (events_table, originator_id, originator_version, prev_hash, hash)
    SELECT source, u.* FROM unnest(ids, versions, prevs, hashes) AS u;
    RETURN NULL;
END $$;
"""

STATEMENT_TRIGGER = "chain_events"
ROW_TRIGGER = "chain_event"
"""The per-row trigger of earlier releases; ``install`` replaces it."""

# Events recorded before the chain existed are linked once, in order, when it is installed.
BACKFILL = """
DO $$
DECLARE
    row record;
    prev bytea;
    last_id uuid;
BEGIN
    FOR row IN EXECUTE format(
        'SELECT e.originator_id, e.originator_version, e.topic, e.state FROM %s e '
        'WHERE NOT EXISTS (SELECT 1 FROM audit.chain c WHERE c.events_table = %L '
        'AND c.originator_id = e.originator_id AND c.originator_version = e.originator_version) '
        'ORDER BY e.originator_id, e.originator_version', '{table}', '{table}')
    LOOP
        SELECT c.hash INTO prev FROM audit.chain c
         WHERE c.events_table = '{table}' AND c.originator_id = row.originator_id
           AND c.originator_version = row.originator_version - 1;
        INSERT INTO audit.chain VALUES ('{table}', row.originator_id, row.originator_version,
            prev, audit.link(prev, row.originator_id, row.originator_version, row.topic,
                             row.state));
    END LOOP;
END $$;
"""


async def install(conn: asyncpg.Connection, events_tables: Iterable[str]) -> None:
    """The chain's table, function and a trigger on each events table (``schema.table``).

    A table linked by the earlier per-row trigger (``chain_event``) keeps its chain and is
    switched to the per-statement one; a table never linked is backfilled first. (Going back
    to a release before the switch means ``DROP TRIGGER chain_events`` on each events table
    first: that release would add its row trigger beside it.)
    """
    await conn.execute(CHAIN_DDL)
    for table in events_tables:
        schema, _, name = table.partition(".")
        triggers = {
            r["tgname"]
            for r in await conn.fetch(
                "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = $1 AND c.relname = $2",
                schema,
                name,
            )
        }
        if ROW_TRIGGER in triggers:
            # Also beside the statement trigger, where a process of an earlier release put it
            # back (it knew only its own trigger): both would link each event, and the second
            # link's key would refuse every insert.
            await conn.execute(f'DROP TRIGGER {ROW_TRIGGER} ON "{schema}"."{name}"')
        if STATEMENT_TRIGGER in triggers:
            continue
        if ROW_TRIGGER not in triggers:
            await conn.execute(BACKFILL.format(table=table))
        await conn.execute(
            f'CREATE TRIGGER {STATEMENT_TRIGGER} AFTER INSERT ON "{schema}"."{name}" '
            "REFERENCING NEW TABLE AS new_events "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit.chain_events()"
        )


def link_of(
    prev: bytes | None, aggregate_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The same link as ``audit.link``, computed without the database."""
    digest = hashlib.sha256()
    digest.update(prev or b"")
    digest.update(aggregate_id.bytes)
    digest.update(version.to_bytes(8, "big", signed=True))
    digest.update(topic.encode())
    digest.update(b"\x00")
    digest.update(state)
    return digest.digest()


@dataclass(frozen=True)
class Link:
    version: int
    prev_hash: bytes | None
    hash: bytes


@dataclass(frozen=True)
class Verdict:
    ok: bool
    length: int
    head: str | None
    broken_at: int | None


async def links(conn: asyncpg.Connection, table: str, aggregate_id: UUID) -> dict[int, Link]:
    rows = await conn.fetch(
        "SELECT originator_version, prev_hash, hash FROM audit.chain "
        "WHERE events_table = $1 AND originator_id = $2",
        table,
        aggregate_id,
    )
    return {r["originator_version"]: Link(*r) for r in rows}


async def verify(conn: asyncpg.Connection, table: str, aggregate_id: UUID) -> Verdict:
    """Recompute every link from the stored rows; the first version that disagrees is broken."""
    schema, _, name = table.partition(".")
    rows = await conn.fetch(
        f'SELECT originator_version, topic, state FROM "{schema}"."{name}" '
        "WHERE originator_id = $1 ORDER BY originator_version",
        aggregate_id,
    )
    recorded = await links(conn, table, aggregate_id)
    return judge(aggregate_id, [(r[0], r[1] or "", bytes(r[2] or b"")) for r in rows], recorded)


def judge(
    aggregate_id: UUID, rows: Sequence[tuple[int, str, bytes]], recorded: dict[int, Link]
) -> Verdict:
    stored = {version: (topic, state) for version, topic, state in rows}
    last = max([*stored, *recorded], default=0)
    prev: bytes | None = None
    for version in range(1, last + 1):
        link, row = recorded.get(version), stored.get(version)
        if link is None or row is None or link.prev_hash != prev:
            return Verdict(False, last, None, version)
        if link_of(prev, aggregate_id, version, *row) != link.hash:
            return Verdict(False, last, None, version)
        prev = link.hash
    return Verdict(True, last, prev.hex() if prev else None, None)


class ChainStore:
    """``commands.history.Chain`` over ``audit.chain``: the links of one stream's aggregate."""

    def __init__(self, pool: asyncpg.Pool, tables: dict[str, str]) -> None:
        self._pool = pool
        self._tables = tables
        """Each audit stream's events table (``schema.table``)."""

    async def links(self, stream: str, aggregate_id: UUID) -> dict[int, Link]:
        async with self._pool.acquire() as conn:
            return await links(conn, self._tables[stream], aggregate_id)

    async def verify(self, stream: str, aggregate_id: UUID) -> Verdict:
        async with self._pool.acquire() as conn:
            return await verify(conn, self._tables[stream], aggregate_id)
