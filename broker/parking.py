"""Parked messages: what a consumer could not apply, kept where people can see and replay it.

A message that fails the same way a few times (never for an outage: those are waited out) is
parked: a row in ``ops.parked`` with its error, topic, partition and offset, and a copy on the
dead-letter topic ``<topic>.dlt`` (the original key, bytes and headers, plus ``dlt_*``
headers). The consumer then moves on, so one bad message never stops the others. For a
projection the aggregate's later events are held behind the parked one (parked too, in order),
and its rows are reported stale until ``python -m infra parked retry`` replays them after a fix.

The row is written in the transaction that moves the consumer past the message where the
consumer keeps its offsets in PostgreSQL, so a crash never loses or doubles a parking.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer

from broker.envelope import headers as envelope_headers
from broker.topics import dead_letter_topic

log = logging.getLogger(__name__)

PARKED_DDL = """
CREATE SCHEMA IF NOT EXISTS ops;
CREATE TABLE IF NOT EXISTS ops.parked (
    parked_id bigserial PRIMARY KEY,
    worker text NOT NULL,
    topic text NOT NULL,
    partition int NOT NULL,
    "offset" bigint NOT NULL,
    key bytea,
    value bytea,
    aggregate_id uuid,
    version bigint,
    error text NOT NULL,
    attempts int NOT NULL,
    parked_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (worker, topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS parked_aggregate_idx ON ops.parked (aggregate_id, worker);
"""


@dataclass(frozen=True)
class Message:
    """The parts of a Kafka record that parking keeps (and a replay needs)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    """The record's own headers, when the consumer kept them; else rebuilt from the envelope."""


@dataclass(frozen=True)
class Parked:
    parked_id: int
    worker: str
    message: Message
    aggregate_id: UUID | None
    version: int | None
    error: str
    attempts: int
    parked_at: datetime


def describe_error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def envelope_identity(value: bytes | None) -> tuple[UUID | None, int | None]:
    """The aggregate and version a payload names, if it is readable at all."""
    try:
        document = orjson.loads(value or b"")
        return UUID(str(document["aggregate_id"])), int(document["version"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None, None


def original_headers(message: Message) -> list[tuple[str, bytes]]:
    """The headers the message came with, for its dead-letter copy.

    A consumer that kept the record's headers passes them on. Otherwise they are rebuilt from
    the envelope: the relay's headers (``type``, ``id``, ``ce_*``, ``content-type``) are a pure
    function of it, so a reader of ``<topic>.dlt`` filters and routes parked messages exactly
    as it does the originals. Bytes that are no envelope get none.
    """
    if message.headers:
        return list(message.headers)
    try:
        document = orjson.loads(message.value or b"")
        return envelope_headers(document)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return []


async def create_schema(conn: asyncpg.Connection) -> None:
    await conn.execute(PARKED_DDL)


class ParkingLot:
    """Parks one worker's messages: a row in ``ops.parked`` and a copy on ``<topic>.dlt``."""

    def __init__(self, worker: str, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> None:
        self.worker = worker
        self._pool = pool
        self._producer = producer

    async def park(
        self,
        message: Message,
        error: str,
        attempts: int,
        conn: asyncpg.Connection | None = None,
    ) -> None:
        """Record the message as parked; with ``conn``, inside that connection's transaction.

        The dead-letter copy goes first: if Kafka is down, the parking fails as an outage and
        the consumer waits, rather than recording a parking nobody can read on Kafka.
        """
        aggregate_id, version = envelope_identity(message.value)
        headers = [
            *original_headers(message),
            ("dlt_worker", self.worker.encode()),
            ("dlt_error", error.encode()[:1000]),
            ("dlt_topic", message.topic.encode()),
            ("dlt_partition", str(message.partition).encode()),
            ("dlt_offset", str(message.offset).encode()),
        ]
        await self._producer.send_and_wait(
            dead_letter_topic(message.topic), message.value, key=message.key, headers=headers
        )
        statement = (
            'INSERT INTO ops.parked (worker, topic, partition, "offset", key, value, '
            "aggregate_id, version, error, attempts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
            '$10) ON CONFLICT (worker, topic, partition, "offset") DO NOTHING'
        )
        arguments = (
            self.worker,
            message.topic,
            message.partition,
            message.offset,
            message.key,
            message.value,
            aggregate_id,
            version,
            error,
            attempts,
        )
        if conn is not None:
            await conn.execute(statement, *arguments)
        else:
            async with self._pool.acquire() as own:
                await own.execute(statement, *arguments)
        log.error(
            "%s parked %s[%d]@%d after %d tries: %s",
            self.worker,
            message.topic,
            message.partition,
            message.offset,
            attempts,
            error,
        )


async def held_aggregates(
    conn: asyncpg.Connection, worker: str, aggregate_ids: Sequence[UUID]
) -> set[UUID]:
    """The aggregates among these with a parked event for this worker: their rows are stale."""
    rows = await conn.fetch(
        "SELECT DISTINCT p.aggregate_id FROM unnest($2::uuid[]) AS u(id) "
        "JOIN ops.parked p ON p.aggregate_id = u.id AND p.worker = $1",
        worker,
        list(aggregate_ids),
    )
    return {r["aggregate_id"] for r in rows}


async def listing(conn: asyncpg.Connection, worker: str | None = None) -> list[Parked]:
    rows = await conn.fetch(
        "SELECT * FROM ops.parked WHERE $1::text IS NULL OR worker = $1 ORDER BY parked_id",
        worker,
    )
    return [
        Parked(
            r["parked_id"],
            r["worker"],
            Message(r["topic"], r["partition"], r["offset"], r["key"], r["value"]),
            r["aggregate_id"],
            r["version"],
            r["error"],
            r["attempts"],
            r["parked_at"],
        )
        for r in rows
    ]


async def counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Parked messages per worker, for the health route."""
    rows = await conn.fetch("SELECT worker, count(*) AS n FROM ops.parked GROUP BY worker")
    return {r["worker"]: int(r["n"]) for r in rows}


async def drop(conn: asyncpg.Connection, parked_ids: Sequence[int]) -> int:
    result = await conn.execute(
        "DELETE FROM ops.parked WHERE parked_id = ANY($1::bigint[])", list(parked_ids)
    )
    return int(result.split()[-1])
