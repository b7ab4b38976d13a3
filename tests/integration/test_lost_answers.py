"""A save whose answer is lost after PostgreSQL committed it is written once and reported done.

The event store talks to PostgreSQL through a TCP proxy that cuts the connection once, either
instead of passing PostgreSQL's answer to the insert (the commit happened) or instead of
passing the insert itself (nothing was written). The library retries on a new connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit
from uuid import UUID, uuid4

import asyncpg
import pytest
from eventsourcing.persistence import RecordConflictError

from commands.group_commit import GroupCommitter
from commands.organizations import OrganizationApplication, OrganizationCommands
from domains.organization import Organization
from infra.eventstore import events_table, open_application
from tests.support.world import World

MARKER = b"photoflow_insert_"
"""In the insert's statement (client to server) and its result's column (server to client)."""


class OneCut:
    """Proxies PostgreSQL; once armed, cuts the first exchange carrying ``MARKER`` one way."""

    def __init__(self, upstream: str, answers: bool) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 5432
        self._answers = answers  # cut PostgreSQL's answer; else the client's request
        self.armed = False
        self.cuts = 0
        self.on_cut: Callable[[], Awaitable[None]] | None = None
        self.port = 0

    async def _pipe(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, watched: bool
    ) -> None:
        while data := await source.read(65536):
            if watched and self.armed and MARKER in data:
                self.armed = False
                self.cuts += 1
                if self.on_cut is not None:
                    await self.on_cut()
                raise ConnectionResetError("cut by the test")
            sink.write(data)
            await sink.drain()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        server_r, server_w = await asyncio.open_connection(self._host, self._port)
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

    def url(self, upstream: str) -> str:
        parts = urlsplit(upstream)
        netloc = f"{parts.username}:{parts.password}@127.0.0.1:{self.port}"
        return urlunsplit(parts._replace(netloc=netloc))


@asynccontextmanager
async def app_through(world: World, cut: OneCut) -> AsyncIterator[OrganizationApplication]:
    settings = world.settings.model_copy(
        update={"database_url": cut.url(world.settings.database_url)}
    )
    app = await asyncio.to_thread(
        open_application, OrganizationApplication, settings, "organization"
    )
    try:
        yield app
    finally:
        await asyncio.to_thread(app.close)


async def stored_rows(world: World, table: str, since: int) -> list[tuple[UUID, int]]:
    """The events stored after notification id ``since``: (aggregate, version) each."""
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        rows = await conn.fetch(
            f"SELECT originator_id, originator_version FROM {table} "
            "WHERE notification_id > $1 ORDER BY notification_id",
            since,
        )
    finally:
        await conn.close()
    return [(r["originator_id"], r["originator_version"]) for r in rows]


def every_version(aggregate_id: UUID, version: int) -> list[tuple[UUID, int]]:
    """One aggregate's events, each once, from its first version to ``version``."""
    return [(aggregate_id, v) for v in range(1, version + 1)]


async def last_id(world: World, table: str) -> int:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        return int(await conn.fetchval(f"SELECT coalesce(max(notification_id), 0) FROM {table}"))
    finally:
        await conn.close()


async def test_a_save_committed_without_an_answer_is_done_once(
    world: World, orgs_app: OrganizationApplication
) -> None:
    table = events_table(orgs_app)
    before = await last_id(world, table)
    cut = OneCut(world.settings.database_url, answers=True)
    async with cut.running(), app_through(world, cut) as app:
        org = Organization.create(name="Answer lost", owner_id=uuid4())
        cut.armed = True
        await asyncio.to_thread(app.save, org)  # raised RecordConflictError before
        assert cut.cuts == 1, "the insert's answer was not cut: the test proved nothing"
    assert await stored_rows(world, table, before) == every_version(org.id, org.version)
    assert orgs_app.repository.get(org.id).name == "Answer lost"


async def test_a_command_whose_answer_was_lost_creates_one_studio(
    world: World, orgs_app: OrganizationApplication
) -> None:
    table = events_table(orgs_app)
    before = await last_id(world, table)
    cut = OneCut(world.settings.database_url, answers=True)
    async with cut.running(), app_through(world, cut) as app, GroupCommitter(app) as committer:
        studios = OrganizationCommands(committer, b"k" * 32, timedelta(days=1))
        cut.armed = True
        written = await studios.create("One studio", uuid4())
        assert cut.cuts == 1
    # before: the batch was taken for a lost race and run again, as a second studio
    assert await stored_rows(world, table, before) == every_version(
        written.aggregate_id, written.version
    )


async def test_a_retry_that_meets_another_writers_event_is_still_a_conflict(
    world: World, orgs_app: OrganizationApplication
) -> None:
    owner = uuid4()
    org = Organization.create(name="Contested", owner_id=owner)
    await asyncio.to_thread(orgs_app.save, org)
    cut = OneCut(world.settings.database_url, answers=False)
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
