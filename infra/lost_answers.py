"""An insert that PostgreSQL committed, but whose answer never arrived, counts as written.

The library retries an insert on a new connection when the old one fails
(``OperationalError``). If the connection failed after PostgreSQL committed, the retry finds
its own rows already there, and the unique key refuses it. Callers read that refusal
(``RecordConflictError``) as a lost race. A group commit then replays its commands one at a
time on reloaded aggregates: a studio's creation runs again as a second studio, and a rename
is refused as a conflict that never happened.

So after a failed attempt, a refused retry reads the rows at its keys. If every one holds the
very bytes it was sending, the earlier attempt committed, and the insert returns their
notification ids as if it had been answered. Another writer's rows practically never match:
each event's state holds its own timestamp to the microsecond, and encrypted state its own
nonce; and the check runs only in a call that already lost its connection once.

It holds while the retries last (``ATTEMPTS``, ``WAIT_SECONDS`` apart). A PostgreSQL away for
longer fails the command as unavailable, and then it may or may not have been recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder
from eventsourcing.utils import retry
from psycopg import sql

# The library's own retry of an insert (eventsourcing 9.5's ``insert_events``).
ATTEMPTS = 10
WAIT_SECONDS = 0.2


def survive_lost_answers(recorder: PostgresAggregateRecorder) -> None:
    """Give the recorder an ``insert_events`` that knows its own committed rows on a retry."""
    insert = type(recorder).insert_events.__wrapped__  # the library's, without its retry

    def insert_events(stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        failed = False

        @retry((InterfaceError, OperationalError), max_attempts=ATTEMPTS, wait=WAIT_SECONDS)
        def attempt() -> Sequence[int] | None:
            nonlocal failed
            try:
                ids: Sequence[int] | None = insert(recorder, stored_events, **kwargs)
                return ids
            except (InterfaceError, OperationalError):
                failed = True
                raise
            except IntegrityError:
                if failed and (own := already_written(recorder, stored_events)) is not None:
                    # as the library answers: notification ids, or None from a store without
                    return own if isinstance(recorder, PostgresApplicationRecorder) else None
                raise

        return cast(Sequence[int] | None, attempt())  # the library's decorator is untyped

    recorder.insert_events = insert_events


def already_written(
    recorder: PostgresAggregateRecorder, stored_events: Sequence[StoredEvent]
) -> list[int] | None:
    """The events' notification ids (an empty list for a store without them) if every one is
    stored exactly as given; None if any is missing or differs."""
    numbered = isinstance(recorder, PostgresApplicationRecorder)
    statement = sql.SQL(
        "SELECT originator_id, originator_version, topic, state{number} FROM {schema}.{table} "
        "WHERE (originator_id, originator_version) IN "
        "(SELECT * FROM unnest(%s::{key}[], %s::bigint[]))"
    ).format(
        number=sql.SQL(", notification_id") if numbered else sql.SQL(""),
        schema=sql.Identifier(recorder.datastore.schema),
        table=sql.Identifier(recorder.events_table_name),
        key=sql.SQL(recorder.datastore.originator_id_type),  # the library allows uuid or text
    )
    keys = ([e.originator_id for e in stored_events], [e.originator_version for e in stored_events])
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(statement, keys)
        found = {(r["originator_id"], r["originator_version"]): r for r in curs.fetchall()}
    ids: list[int] = []
    for event in stored_events:
        row = found.get((event.originator_id, event.originator_version))
        if row is None or row["topic"] != event.topic or bytes(row["state"]) != event.state:
            return None
        if numbered:
            ids.append(row["notification_id"])
    return ids
