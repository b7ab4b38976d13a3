"""The event store's connection check: a round trip only for a connection that idled a while.

eventsourcing's ``POSTGRES_PRE_PING`` sends an empty query every time a connection leaves the
pool. On this 2-core VM each exchange with PostgreSQL costs 150-300 µs of CPU, client and
server together, and a command checks a connection out once to save and, for an aggregate
another process wrote, once more to catch up with it: at a guest's pace a pick in a
15,000-photo album made four round trips, two of them pings.

A connection used a moment ago is as alive as its ping would say. Should PostgreSQL have
restarted since, the statement fails, the pool drops the connection when it comes back broken,
and the library's recorder tries again on another (its ``retry`` on ``OperationalError``). A
statement sent on a dead connection never reached a server, so trying it again cannot write it
twice: a restart in that moment costs a retry, not a lost command. (Every use of these pools is
one of the recorder's retried methods; the relay, the projections and the query API use
asyncpg pools of their own.) A connection idle longer than ``IDLE_SECONDS`` is checked as
before, so a restart while the platform was quiet is noticed before any statement fails.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID
from weakref import WeakKeyDictionary

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg_pool import ConnectionPool

IDLE_SECONDS = 1.0


class CheckWhenIdle:
    """A psycopg pool ``check``: ping a connection only if it has not been handed out lately."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS) -> None:
        self._idle = idle_seconds
        self._handed_out: WeakKeyDictionary[psycopg.Connection[Any], float] = WeakKeyDictionary()

    def __call__(self, conn: psycopg.Connection[Any]) -> None:
        now = time.monotonic()
        last = self._handed_out.get(conn)
        if last is None or now - last > self._idle:
            ConnectionPool.check_connection(conn)  # raises for a dead one: the pool replaces it
        self._handed_out[conn] = now


def check_when_idle(app: Application[UUID], idle_seconds: float = IDLE_SECONDS) -> None:
    """Give the pools of the application's event and snapshot stores this check.

    The library builds each pool itself and takes no check but its pre-ping, so the pool's
    check is replaced where psycopg_pool keeps it (``_check``, psycopg_pool 3.2 and 3.3).
    """
    stores = (app.recorder, app.snapshots.recorder if app.snapshots else None)
    pools = {
        store.datastore.pool for store in stores if isinstance(store, PostgresAggregateRecorder)
    }
    for pool in pools:  # the stores may share one datastore, and so one pool
        if getattr(pool, "_check", None) is None:
            raise RuntimeError("the event store's pool has no pre-ping to replace")
        pool._check = CheckWhenIdle(idle_seconds)
