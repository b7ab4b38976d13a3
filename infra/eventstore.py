"""Opening an eventsourcing application on PostgreSQL, in its bounded context's own schema."""

from __future__ import annotations

from typing import Any, TypeVar, cast
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from psycopg import sql

from infra.lost_answers import survive_lost_answers
from infra.pool_check import check_when_idle
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
    as_shipped: bool = False,
) -> App:
    """Create the schema if needed, then the application (which creates its tables).

    With a ``cipher_key`` every stored event is encrypted (AES-GCM) before it is written.
    ``copy_from_cache=False`` hands commands the cached aggregate itself instead of a deep
    copy: for large aggregates, written only through the process's one GroupCommitter, which
    evicts an aggregate whose save failed. ``as_shipped`` keeps the library's own way of
    inserting events (a benchmark's baseline is the bare library).
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
                    # (pinging only connections idle for a while: ``infra.pool_check``)
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
            # exactly this class: a process recorder's tracking rows are not in the function
            one_call = False
            if type(app.recorder) is PostgresApplicationRecorder and not as_shipped:
                insert_in_one_call(conn, app.recorder)
                one_call = True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (DDL_LOCK,))
    if as_shipped:
        return app
    check_when_idle(app)
    stores = (app.recorder, app.snapshots.recorder if app.snapshots else None)
    # the library's pipelined insert, where events do not go in one call (snapshots)
    for store in stores[1:] if one_call else stores:
        if isinstance(store, PostgresAggregateRecorder):
            insert_in_binary(store)
    # events and snapshots (not a process recorder's tracking rows, whose conflicts mean what
    # they say): a retried insert that meets its own committed rows succeeds
    for store in stores:
        if type(store) in (PostgresApplicationRecorder, PostgresAggregateRecorder):
            survive_lost_answers(cast(PostgresAggregateRecorder, store))
    return app


def insert_in_one_call(
    conn: psycopg.Connection[Any], recorder: PostgresApplicationRecorder
) -> None:
    """Record a batch of events with one statement: a function that does what the library's
    pipeline does (lock the table, so notification ids follow commit order for the relay;
    notify; insert, returning the ids) in the one implicit transaction of its call.

    The library's pipeline costs several exchanges with PostgreSQL a batch (begin, lock,
    notify, insert, sync, commit), and psycopg sends and receives them holding the GIL: about a
    seventh of an API process's CPU under ``make bench commands``. The library's own function
    for this (``POSTGRES_ENABLE_DB_FUNCTIONS``) does not lock the table, so a reader tailing
    the log could pass an id that commits later; this one does.
    """
    schema = sql.Identifier(recorder.datastore.schema)
    name = f"photoflow_insert_{recorder.events_table_name}"  # one per table, for its table
    function = sql.Identifier(name)
    conn.execute(
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {schema}.{function}(events {schema}.{event}[]) "
            "RETURNS SETOF bigint LANGUAGE plpgsql AS $body$ BEGIN "
            "SET LOCAL lock_timeout = {timeout}; "
            "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
            "NOTIFY {channel}; "
            "RETURN QUERY INSERT INTO {schema}.{table} AS t "
            "(originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
            "RETURNING notification_id; "
            "END $body$"
        ).format(
            schema=schema,
            function=function,
            event=sql.Identifier(recorder.stored_event_type_name),
            timeout=sql.Literal(f"{recorder.datastore.lock_timeout}s"),
            table=sql.Identifier(recorder.events_table_name),
            channel=sql.Identifier(recorder.channel_name),
        )
    )
    recorder.sql_invoke_pg_function_insert_events = sql.SQL(
        "SELECT * FROM {schema}.{function}((%b))"
    ).format(schema=schema, function=function)
    recorder.pg_function_name_insert_events = name
    recorder.datastore.enable_db_functions = True


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
