"""Opening an eventsourcing application on PostgreSQL, in its bounded context's own schema."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresAggregateRecorder
from psycopg import sql

from infra.settings import Settings

App = TypeVar("App", bound=Application[UUID])
# Several processes may start at once; one advisory lock serialises schema and table creation.
DDL_LOCK = 7_301_001


AES_CIPHER = "eventsourcing.cryptography:AESCipher"


def open_application(
    cls: type[App],
    settings: Settings,
    schema: str,
    cipher_key: str | None = None,
    copy_from_cache: bool = True,
) -> App:
    """Create the schema if needed, then the application (which creates its tables).

    With a ``cipher_key`` every stored event is encrypted (AES-GCM) before it is written.
    ``copy_from_cache=False`` hands commands the cached aggregate itself instead of a deep
    copy: for large aggregates, written only through the process's one GroupCommitter, which
    evicts an aggregate whose save failed.
    """
    encryption = {"CIPHER_TOPIC": AES_CIPHER, "CIPHER_KEY": cipher_key} if cipher_key else {}
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (DDL_LOCK,))
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            app = cls(
                env={
                    "PERSISTENCE_MODULE": "eventsourcing.postgres",
                    **settings.postgres_parts(),
                    "POSTGRES_SCHEMA": schema,
                    # a connection each at rest, more under load: see the README's budget
                    "POSTGRES_POOL_SIZE": str(settings.eventstore_pool_min),
                    # a restarted PostgreSQL is noticed at once, and a dead one within seconds
                    "POSTGRES_PRE_PING": "y",
                    "POSTGRES_CONNECT_TIMEOUT": str(max(1, int(settings.database_timeout_seconds))),
                    "POSTGRES_MAX_OVERFLOW": str(
                        max(0, settings.eventstore_pool_max - settings.eventstore_pool_min)
                    ),
                    "CREATE_TABLE": "y",
                    "AGGREGATE_CACHE_MAXSIZE": "10000",
                    "DEEPCOPY_FROM_AGGREGATE_CACHE": "y" if copy_from_cache else "n",
                    **encryption,
                }
            )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))
    for store in (app.recorder, app.snapshots.recorder if app.snapshots else None):
        if isinstance(store, PostgresAggregateRecorder):
            insert_in_binary(store)
    return app


def insert_in_binary(recorder: PostgresAggregateRecorder) -> None:
    """Send the recorder's array of stored events in PostgreSQL's binary format.

    The library's ``%s`` lets psycopg pick the text format for a list of composite rows, which
    escapes every field of every event with regular expressions: about a twelfth of an API
    process's CPU under load, and seven times the binary dump's cost (``%b``).
    """
    recorder.insert_events_statement = sql.Composed(
        [
            sql.SQL(part.as_string().replace("%s", "%b")) if isinstance(part, sql.SQL) else part
            for part in recorder.insert_events_statement
        ]
    )


def events_table(app: Application[UUID]) -> str:
    """``schema.table`` of the application's stored events (for the hash chain and audits)."""
    recorder: Any = app.recorder
    return f"{recorder.datastore.schema}.{recorder.events_table_name}"
