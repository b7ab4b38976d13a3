"""One writer at a time for an application's large aggregates, across processes.

A PostgreSQL session advisory lock, on a connection of the writer's own (the event store's
pool hands out a connection per statement, so it cannot hold one across a batch). A process
that dies frees the lock with its session. ``lock_timeout`` bounds the wait: a writer stuck
behind another for longer than a command's deadline fails its batch (an outage, 503) instead
of queueing forever.
"""

from __future__ import annotations

import zlib

import psycopg

from infra.settings import Settings


class PostgresWriterLock:
    """``commands.group_commit.WriterLock`` for one application, on DATABASE_URL."""

    def __init__(self, settings: Settings, application: str) -> None:
        self._url = settings.database_url
        self._timeout = settings.database_timeout_seconds
        self._key = zlib.crc32(f"writer:{application}".encode())
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self) -> None:
        for attempt in (1, 2):
            reused = self._conn is not None
            try:
                self._connection().execute("SELECT pg_advisory_lock(%s)", (self._key,))
                return
            except psycopg.errors.LockNotAvailable:  # held by another writer too long
                self.close()
                raise
            except psycopg.OperationalError:
                self.close()  # whatever state the session is in, a new one starts clean
                # A session kept from the last batch may have died meanwhile (PostgreSQL
                # restarted, or it was killed): that alone is no outage, so a new session
                # asks once more.
                if not reused or attempt == 2:
                    raise
            except Exception:
                self.close()
                raise

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        except Exception:
            self.close()  # the session's end frees the lock as surely

    def close(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            timeout_ms = int(self._timeout * 1000)
            self._conn = psycopg.connect(
                self._url,
                autocommit=True,
                connect_timeout=max(1, int(self._timeout)),
                options=f"-c lock_timeout={timeout_ms}",
                application_name="photoflow writer lock",
            )
        return self._conn
