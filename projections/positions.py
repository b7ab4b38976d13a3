"""What each projection has consumed: Kafka offsets and the last version per aggregate.

Both are written in the transaction that changes the read rows. The offsets make a restart
resume exactly where the last commit ended; the versions drop an event the relay published
twice, and tell a reader waiting on a consistency token whether its write is visible yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

import asyncpg

from broker.envelope import Event
from projections.base import Projection, Staging

SCHEMA_DDL = """
CREATE SCHEMA IF NOT EXISTS read;
CREATE TABLE IF NOT EXISTS read.projection_offsets (
    projection text NOT NULL,
    topic text NOT NULL,
    partition int NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (projection, topic, partition)
);
CREATE TABLE IF NOT EXISTS read.projection_versions (
    projection text NOT NULL,
    aggregate_id uuid NOT NULL,
    version bigint NOT NULL,
    PRIMARY KEY (projection, aggregate_id)
);
"""

TopicPartitionKey = tuple[str, int]

VERSIONS_STAGING = Staging(
    "projection_versions_staging", (("aggregate_id", "uuid"), ("v", "bigint"))
)
COPY_FROM = 64
"""From this many aggregates in a batch on, their versions go in by COPY and one merge."""


async def create_schema(conn: asyncpg.Connection) -> None:
    await conn.execute(SCHEMA_DDL)


async def load_offsets(conn: asyncpg.Connection, projection: str) -> dict[TopicPartitionKey, int]:
    rows = await conn.fetch(
        "SELECT topic, partition, next_offset FROM read.projection_offsets WHERE projection = $1",
        projection,
    )
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def lock_offsets(
    conn: asyncpg.Connection, projection: str, partitions: Iterable[TopicPartitionKey]
) -> dict[TopicPartitionKey, int]:
    """Lock these partitions' offset rows for the transaction, creating them if new.

    Two workers holding the same partition for a moment during a rebalance then apply one after
    the other, and the second sees the first one's offsets and skips what it applied.
    """
    keys = sorted(set(partitions))
    topics = [k[0] for k in keys]
    numbers = [k[1] for k in keys]
    select = (
        "SELECT o.topic, o.partition, o.next_offset FROM read.projection_offsets o "
        "JOIN unnest($2::text[], $3::int[]) AS u(t, p) ON o.topic = u.t AND o.partition = u.p "
        "WHERE o.projection = $1 ORDER BY o.topic, o.partition FOR UPDATE OF o"
    )
    rows = await conn.fetch(select, projection, topics, numbers)
    if len(rows) < len(keys):  # a partition seen for the first time: one more round trip
        await conn.execute(
            "INSERT INTO read.projection_offsets (projection, topic, partition, next_offset) "
            "SELECT $1, t, p, 0 FROM unnest($2::text[], $3::int[]) AS u(t, p) "
            "ON CONFLICT DO NOTHING",
            projection,
            topics,
            numbers,
        )
        rows = await conn.fetch(select, projection, topics, numbers)
    return {(r["topic"], r["partition"]): r["next_offset"] for r in rows}


async def save_offsets(
    conn: asyncpg.Connection, projection: str, offsets: Mapping[TopicPartitionKey, int]
) -> None:
    keys = list(offsets)
    await conn.execute(
        _SAVE_OFFSETS,
        projection,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [offsets[k] for k in keys],
    )


VERSION_OF_ID = (
    "SELECT version FROM read.projection_versions"
    " WHERE projection = $1 AND aggregate_id = u.id LIMIT 1"
)
"""One id's version, by the primary key. Looked up per id (a lateral subquery that ``LIMIT``
keeps a subquery) rather than joined: a join's plan, cached by the connection while the table
was young, hashed the projection's whole range for every batch as the table grew ("= ANY"
scanned it too); a lookup by the key stays one index probe however old its plan is."""


SEEN_AND_HELD = (
    "SELECT u.id, v.version, EXISTS (SELECT 1 FROM ops.parked p"
    " WHERE p.aggregate_id = u.id AND p.worker = $3) AS held"
    f" FROM unnest($2::uuid[]) AS u(id) LEFT JOIN LATERAL ({VERSION_OF_ID}) v ON true"
)


async def keep_unseen(
    conn: asyncpg.Connection, projection: str, events: Sequence[Event]
) -> list[Event]:
    """The events this projection has not applied yet, in the order given."""
    ids = list({e.aggregate_id for e in events})
    rows = await conn.fetch(
        "SELECT u.id, v.version FROM unnest($2::uuid[]) AS u(id) "
        f"CROSS JOIN LATERAL ({VERSION_OF_ID}) v",
        projection,
        ids,
    )
    return newer_than({r["id"].int: r["version"] for r in rows}, events)


async def seen_and_held(
    conn: asyncpg.Connection, projection: str, worker: str, ids: Sequence[UUID]
) -> tuple[Seen, set[UUID]]:
    """The last version applied of each of these aggregates, and those with an event parked
    by ``worker`` (``keep_unseen``'s and ``broker.parking.held_aggregates``' answers at once)."""
    rows = await conn.fetch(SEEN_AND_HELD, projection, list(ids), worker)
    seen = {r["id"].int: r["version"] for r in rows if r["version"] is not None}
    return seen, {r["id"] for r in rows if r["held"]}


Seen = dict[int, int]
"""The last version applied per aggregate, keyed by the id's ``UUID.int``: hashing and comparing
an int is done in C, a ``UUID``'s in Python, and a rebuild looks up every event."""


def newer_than(seen: Seen, events: Sequence[Event]) -> list[Event]:
    """The events past the versions ``seen`` (which it advances), in the order given."""
    unseen: list[Event] = []
    get = seen.get
    for event in events:
        key = event.aggregate_id.int
        if event.version > get(key, 0):
            seen[key] = event.version
            unseen.append(event)
    return unseen


_VERSIONS_MERGE = (
    "ON CONFLICT (projection, aggregate_id) DO UPDATE SET version = EXCLUDED.version "
    "WHERE read.projection_versions.version < EXCLUDED.version"
)
_SAVE_OFFSETS = (
    "UPDATE read.projection_offsets o SET next_offset = u.n "
    "FROM unnest($2::text[], $3::int[], $4::bigint[]) AS u(t, p, n) "
    "WHERE o.projection = $1 AND o.topic = u.t AND o.partition = u.p"
)


Latest = dict[int, tuple[UUID, int]]
"""Each aggregate's (id, last version), keyed by the id's ``UUID.int`` as in ``Seen``."""


def latest_versions(events: Sequence[Event]) -> Latest:
    """The last version of each aggregate among ``events`` (in version order per aggregate)."""
    return {e.aggregate_id.int: (e.aggregate_id, e.version) for e in events}


def _latest(events: Sequence[Event]) -> list[tuple[UUID, int]]:
    return list(latest_versions(events).values())


async def record_progress(
    conn: asyncpg.Connection,
    projection: str,
    events: Sequence[Event],
    offsets: Mapping[TopicPartitionKey, int],
) -> None:
    """``record_versions`` of the events applied, then ``save_offsets``: in one statement for
    a live worker's small batch (a round trip fewer per batch), in two for a large one."""
    latest = _latest(events)
    if not latest or len(latest) >= COPY_FROM:
        await record_latest(conn, projection, latest)
        await save_offsets(conn, projection, offsets)
        return
    keys = list(offsets)
    await conn.execute(
        "WITH versions AS (INSERT INTO read.projection_versions (projection, aggregate_id, "
        f"version) SELECT $1, a, v FROM unnest($5::uuid[], $6::bigint[]) AS u(a, v) "
        f"{_VERSIONS_MERGE}) {_SAVE_OFFSETS}",
        projection,
        [k[0] for k in keys],
        [k[1] for k in keys],
        [offsets[k] for k in keys],
        [aggregate for aggregate, _ in latest],
        [version for _, version in latest],
    )


async def record_versions(
    conn: asyncpg.Connection, projection: str, events: Sequence[Event]
) -> None:
    """Store each aggregate's last version applied; ``events`` come in version order per
    aggregate, as ``newer_than`` and ``keep_unseen`` give them."""
    await record_latest(conn, projection, _latest(events))


async def copy_versions(
    conn: asyncpg.Connection, projection: str, latest: Sequence[tuple[UUID, int]]
) -> None:
    """Store the versions of aggregates that have none stored yet (a rebuild's first write of
    them, after ``forget``): copied straight into the table, with no merge."""
    if latest:
        await conn.copy_records_to_table(
            "projection_versions",
            records=[(projection, aggregate, version) for aggregate, version in latest],
            columns=("projection", "aggregate_id", "version"),
            schema_name="read",
        )


async def record_latest(
    conn: asyncpg.Connection, projection: str, latest: Sequence[tuple[UUID, int]]
) -> None:
    """Store each (aggregate, last version applied), keeping any later one stored."""
    if not latest:
        return
    merge = _VERSIONS_MERGE
    if len(latest) >= COPY_FROM:
        await VERSIONS_STAGING.load(conn, latest)
        await conn.execute(
            "INSERT INTO read.projection_versions (projection, aggregate_id, version) "
            f"SELECT $1, aggregate_id, v FROM {VERSIONS_STAGING.table} ORDER BY 2 {merge}",
            projection,
        )
        return
    await conn.execute(
        "INSERT INTO read.projection_versions (projection, aggregate_id, version) "
        f"SELECT $1, a, v FROM unnest($2::uuid[], $3::bigint[]) AS u(a, v) {merge}",
        projection,
        [aggregate for aggregate, _ in latest],
        [version for _, version in latest],
    )


async def forget(conn: asyncpg.Connection, projection: str) -> None:
    """Drop everything the projection consumed, before a rebuild replays from the start."""
    await conn.execute("DELETE FROM read.projection_offsets WHERE projection = $1", projection)
    await conn.execute("DELETE FROM read.projection_versions WHERE projection = $1", projection)


async def upgrade(conn: asyncpg.Connection, projection: Projection) -> None:
    """Create the projection's tables; if their layout changed, drop them to be replayed.

    Read tables are disposable: a projection whose ``schema_version`` differs from the one its
    tables were made with (or whose tables predate versioning) starts again from the first
    event, which its worker then replays from Kafka.
    """
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS read.projection_schemas ("
        " projection text PRIMARY KEY, version int NOT NULL)"
    )
    made = await conn.fetchval(
        "SELECT version FROM read.projection_schemas WHERE projection = $1", projection.name
    )
    existing = [t for t in projection.tables if await conn.fetchval("SELECT to_regclass($1)", t)]
    if made != projection.schema_version and (made is not None or existing):
        await projection.drop_tables(conn)
        await forget(conn, projection.name)
    await projection.create_tables(conn)
    await conn.execute(
        "INSERT INTO read.projection_schemas (projection, version) VALUES ($1, $2) "
        "ON CONFLICT (projection) DO UPDATE SET version = EXCLUDED.version",
        projection.name,
        projection.schema_version,
    )
