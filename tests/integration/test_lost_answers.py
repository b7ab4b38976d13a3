"""A save whose answer is lost after PostgreSQL committed it is written once and reported done.

The event store talks to PostgreSQL through a TCP proxy that cuts the connection once, either
instead of passing PostgreSQL's answer to the insert (the commit happened: each test checks
the rows were there when it cut) or instead of passing the insert itself (nothing was written).
The library retries on a new connection. A snapshot taken after a batch committed, and refused,
leaves the batch done too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import RecordConflictError

from commands.group_commit import GroupCommitter
from commands.organizations import OrganizationApplication, OrganizationCommands
from domains.organization import Organization
from infra.eventstore import events_table, open_application
from infra.settings import Settings
from tests.support.world import World

EVENTS_INSERT = b"photoflow_insert_"
"""In the events insert's statement (to the server) and its result's column (to the client)."""
SNAPSHOT_INSERTED = b"INSERT 0 1"
"""The end of PostgreSQL's answer to a snapshot's insert."""


class OneCut:
    """Proxies PostgreSQL; once armed, cuts the first exchange carrying ``marker`` one way."""

    def __init__(self, settings: Settings, marker: bytes, answers: bool) -> None:
        self._parts = settings.postgres_parts()
        self._marker = marker
        self._answers = answers  # cut PostgreSQL's answer; else the client's request
        self.armed = False
        self.cuts = 0
        self.on_cut: Callable[[], Awaitable[None]] | None = None
        self.port = 0

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self._parts["POSTGRES_HOST"], self._parts["POSTGRES_PORT"]
        if host.startswith("/"):  # a Unix socket's directory
            return await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        return await asyncio.open_connection(host, int(port))

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, watched: bool
    ) -> None:
        tail = b""  # the marker may straddle two reads
        while data := await source.read(65536):
            if watched and self.armed and self._marker in tail + data:
                self.armed = False
                self.cuts += 1
                if self.on_cut is not None:
                    await self.on_cut()
                raise ConnectionResetError("cut by the test")
            tail = data[-len(self._marker) :]
            sink.write(data)
            await sink.drain()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await self._upstream()
        pipes = [
            asyncio.create_task(self._pipe(client_r, server_w, not self._answers)),
            asyncio.create_task(self._pipe(server_r, client_w, self._answers)),
        ]
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        for writer in (client_w, server_w):
            writer.close()
            with suppress(OSError):
                await writer.wait_closed()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[OneCut]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        async with server:
            yield self

    def settings(self, settings: Settings) -> Settings:
        """``settings`` with the database reached through this proxy."""
        user, password = (
            quote(self._parts[k], safe="") for k in ("POSTGRES_USER", "POSTGRES_PASSWORD")
        )
        url = (
            f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{self._parts['POSTGRES_DBNAME']}"
        )
        return settings.model_copy(update={"database_url": url})


@asynccontextmanager
async def app_through(world: World, cut: OneCut) -> AsyncIterator[OrganizationApplication]:
    settings = cut.settings(world.settings)
    app = await asyncio.to_thread(
        open_application, OrganizationApplication, settings, "organization"
    )
    try:
        yield app
    finally:
        await asyncio.to_thread(app.close)


async def query(world: World, sql: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


async def stored_after(world: World, table: str, since: int) -> list[tuple[UUID, int, int]]:
    """The events stored after notification id ``since``: (aggregate, version, id) each."""
    rows = await query(
        world,
        f"SELECT originator_id, originator_version, notification_id FROM {table} "
        "WHERE notification_id > $1 ORDER BY notification_id",
        since,
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def last_id(world: World, table: str) -> int:
    rows = await query(world, f"SELECT coalesce(max(notification_id), 0) FROM {table}")
    return int(rows[0][0])


def versions(rows: list[tuple[UUID, int, int]]) -> list[tuple[UUID, int]]:
    return [(aggregate, version) for aggregate, version, _ in rows]


def every_version(aggregate_id: UUID, version: int) -> list[tuple[UUID, int]]:
    """One aggregate's events, each once, from its first version to ``version``."""
    return [(aggregate_id, v) for v in range(1, version + 1)]


def committed_when_cut(
    world: World, table: str, since: int, seen: list[int]
) -> Callable[[], Awaitable[None]]:
    """Notes, as the answer is cut, how many events were already committed: the cut must come
    after the commit, or the test shows only an ordinary retry."""

    async def check() -> None:
        seen.append(len(await stored_after(world, table, since)))

    return check


async def test_a_save_committed_without_an_answer_is_done_once(
    world: World, orgs_app: OrganizationApplication
) -> None:
    table = events_table(orgs_app)
    before = await last_id(world, table)
    owner = uuid4()
    org = Organization.create(name="Answer lost", owner_id=owner)
    org.rename("Answer lost, renamed", owner)
    committed: list[int] = []
    cut = OneCut(world.settings, EVENTS_INSERT, answers=True)
    cut.on_cut = committed_when_cut(world, table, before, committed)
    async with cut.running(), app_through(world, cut) as app:
        cut.armed = True
        recordings = await asyncio.to_thread(app.save, org)  # raised RecordConflictError before
    assert committed == [org.version], "the cut came before the commit: nothing was proved"
    stored = await stored_after(world, table, before)
    assert versions(stored) == every_version(org.id, org.version)
    assert [r.notification.id for r in recordings] == [i for _, _, i in stored]
    assert orgs_app.repository.get(org.id).name == "Answer lost, renamed"


async def test_a_command_whose_answer_was_lost_creates_one_studio(
    world: World, orgs_app: OrganizationApplication
) -> None:
    table = events_table(orgs_app)
    before = await last_id(world, table)
    committed: list[int] = []
    cut = OneCut(world.settings, EVENTS_INSERT, answers=True)
    cut.on_cut = committed_when_cut(world, table, before, committed)
    async with cut.running(), app_through(world, cut) as app, GroupCommitter(app) as committer:
        studios = OrganizationCommands(committer, b"k" * 32, timedelta(days=1))
        cut.armed = True
        written = await studios.create("One studio", uuid4())
        assert committer.lost_races == 0
    assert committed and committed[0] > 0
    # before: the batch was taken for a lost race and run again, as a second studio
    stored = await stored_after(world, table, before)
    assert versions(stored) == every_version(written.aggregate_id, written.version)


async def test_a_retry_that_meets_another_writers_event_is_still_a_conflict(
    world: World, orgs_app: OrganizationApplication
) -> None:
    owner = uuid4()
    org = Organization.create(name="Contested", owner_id=owner)
    await asyncio.to_thread(orgs_app.save, org)
    cut = OneCut(world.settings, EVENTS_INSERT, answers=False)
    async with cut.running(), app_through(world, cut) as app:
        ours = await asyncio.to_thread(app.repository.get, org.id)  # the proxy runs meanwhile
        theirs = orgs_app.repository.get(org.id)

        async def they_rename_first() -> None:
            theirs.rename("Theirs", owner)
            await asyncio.to_thread(orgs_app.save, theirs)

        cut.on_cut = they_rename_first  # while our insert, never sent, waits to be retried
        ours.rename("Ours", owner)
        cut.armed = True
        with pytest.raises(RecordConflictError):
            await asyncio.to_thread(app.save, ours)
        assert cut.cuts == 1
    orgs_app.repository.cache = None
    assert orgs_app.repository.get(org.id).name == "Theirs"


class Note(Aggregate):
    def __init__(self, text: str) -> None:
        self.text = text


class Notes(Application[UUID]):
    """Notes snapshotted at every version, so every save takes a snapshot."""

    snapshotting_intervals: ClassVar[dict[Any, int]] = {Note: 1}


@asynccontextmanager
async def notes(settings: Settings, schema: str) -> AsyncIterator[Notes]:
    app = await asyncio.to_thread(open_application, Notes, settings, schema)
    try:
        yield app
    finally:
        await asyncio.to_thread(app.close)


def snapshots_table(app: Application[UUID]) -> str:
    assert app.snapshots is not None
    recorder: Any = app.snapshots.recorder
    return f"{recorder.datastore.schema}.{recorder.events_table_name}"


async def test_a_snapshot_whose_answer_was_lost_is_stored_once(world: World) -> None:
    cut = OneCut(world.settings, SNAPSHOT_INSERTED, answers=True)
    async with cut.running(), notes(cut.settings(world.settings), "notes") as app:
        note = Note("snapshotted")
        cut.armed = True  # the events' answer ends in the function's rows, the snapshot's here
        await asyncio.to_thread(app.save, note)  # raised RecordConflictError before
        assert cut.cuts == 1
        table = snapshots_table(app)
    rows = await query(
        world, f"SELECT originator_version FROM {table} WHERE originator_id = $1", note.id
    )
    assert [r[0] for r in rows] == [note.version]


@pytest.mark.parametrize("refusal", ["unique_violation", "raise_exception"])
async def test_a_snapshot_refused_after_the_commit_leaves_the_command_done(
    world: World, refusal: str
) -> None:
    async with notes(world.settings, "refused") as app:
        table, events = snapshots_table(app), events_table(app)
        await query(
            world,
            "CREATE FUNCTION refused.refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{refusal}'; END $$",
        )
        await query(
            world,
            f"CREATE TRIGGER refuse BEFORE INSERT ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refused.refuse()",
        )
        before = await last_id(world, events)
        async with GroupCommitter(app) as committer:
            # before: an error, though the note was recorded; or, for a snapshot refused as a
            # duplicate, a lost race: the command ran again as a second note, then a conflict
            written = await committer.execute(lambda batch: batch.add(Note("kept")))
            assert committer.lost_races == 0
        stored = await stored_after(world, events, before)
        assert versions(stored) == every_version(written.aggregate_id, written.version)
        assert await query(world, f"SELECT 1 FROM {table}") == []
