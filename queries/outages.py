"""A dependency that does not answer is the platform's trouble, not the client's: 503, not 500.

Each driver raises its own family of "could not reach the server" errors; this module names
them in one place so every route answers the same problem, with a hint when to come back.
"""

from __future__ import annotations

import asyncpg
import psycopg
from eventsourcing import persistence
from redis import exceptions as redis_errors

from queries.problems import Problem

RETRY_AFTER_SECONDS = 5

OUTAGES: tuple[type[BaseException], ...] = (
    OSError,  # refused or reset connections, from any driver
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,  # the server shuts down or restarts
    asyncpg.exceptions.InternalClientError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    persistence.OperationalError,
    persistence.InterfaceError,
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
)


def is_outage(error: BaseException) -> bool:
    """Whether the error (or what caused it) says a server could not be reached."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OUTAGES):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def unavailable() -> Problem:
    return Problem(
        503,
        "unavailable",
        "Service unavailable",
        "A server PhotoFlow depends on does not answer right now; nothing was lost, "
        f"try again in {RETRY_AFTER_SECONDS} s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
