"""Which errors mean "a server did not answer", as opposed to "this input can never work".

The distinction drives every failure policy: an outage is waited out (retried with backoff,
never skipped, answered 503 on the API), anything else is the message's or the request's own
fault and, for a consumer, parks the message after a few tries. Each driver raises its own
family of connection errors, so they are named here once.
"""

from __future__ import annotations

import asyncpg
import psycopg
from aiokafka import errors as kafka_errors
from eventsourcing import persistence
from redis import exceptions as redis_errors

OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset connections, from any driver
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # the server shuts down or restarts
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.InsufficientResourcesError,  # e.g. too many connections
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.CoordinatorNotAvailableError,
    kafka_errors.NotCoordinatorError,
    kafka_errors.CommitFailedError,  # the group rebalanced under us: read again, skip nothing
)


def is_outage(error: BaseException) -> bool:
    """Whether the error, or what caused it, says a server could not be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGES):
            return True
        if isinstance(current, BaseExceptionGroup):  # a task group's failures
            return any(is_outage(inner) for inner in current.exceptions)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
