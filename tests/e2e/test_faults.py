"""The fault suite: poison messages, a dependency stopped under load, and recovery.

Each test runs its own platform (its own world), since it leaves parked messages or stops
servers. Stopping PostgreSQL or Kafka reaches every platform on them: the others must ride it
out too, which is the point.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer

from broker.topics import FULL_SYNC_STORAGE, ORGS
from tests.e2e.conftest import Running, running_platform
from tests.support.accounts import Account
from tests.support.google import CLIENT_ID, google_certs_server
from tests.support.kafka import read_topic
from tests.support.outages import stopped
from tests.support.waiting import eventually
from tests.support.world import World, new_world


@pytest.fixture
async def platform(stack: None) -> AsyncIterator[Running]:
    async with new_world() as world:
        with google_certs_server() as google:
            process = world.spawn(
                "run",
                log_name="faults",
                auth_rate_limit="100000",
                user_rate_limit="1000000",
                google_client_id=CLIENT_ID,
                google_certs_url=google.certs_url,
                consumer_retry_base_seconds="0.05",
                consumer_retry_max_seconds="2",
                local_roots=str(world.photos),
            )
            async with running_platform(world, process, google) as running:
                yield running
            assert process.returncode == 0, "the platform did not stop cleanly on SIGTERM"


def cli(world: World, *args: str) -> str:
    """``python -m infra ARGS`` in the world, as an operator would run it."""
    done = world.run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def produce(world: World, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(world.topic(topic), value, key=key)
    finally:
        await producer.stop()


def envelope(org_id: uuid.UUID, version: int, type_: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": type_,
            "stream": "orgs",
            "aggregate_id": str(org_id),
            "version": version,
            "org_id": str(org_id),
            "occurred_at": "2026-12-01T00:00:00+00:00",
            "schema": 1,
            "actor": None,
            "data": data,
        }
    )


async def health(http: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    answer = await http.get("/api/health")
    return answer.status_code, answer.json()


def workers(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        w["name"] if w["kind"] == w["name"] else f"{w['kind']}:{w['name']}": w
        for w in body["workers"]
    }


async def create_org(http: httpx.AsyncClient, user: Account, name: str) -> dict[str, Any]:
    answer = await http.post("/api/orgs", json={"name": name}, headers=user.headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def visible(http: httpx.AsyncClient, user: Account, written: dict[str, Any]) -> None:
    answer = await http.get(
        f"/api/orgs/{written['org_id']}",
        headers={**user.headers, "X-Consistency-Token": written["consistency_token"]},
    )
    assert answer.status_code == 200, answer.text


async def test_a_poison_message_in_each_consumer_is_parked_and_the_next_one_applies(
    platform: Running,
) -> None:
    world, http = platform.world, platform.http
    user = await platform.account()
    real = await create_org(http, user, "Real studio")
    await visible(http, user, real)
    org_id = uuid.UUID(real["org_id"])
    shown = await http.get(f"/api/orgs/{org_id}", headers=user.headers)
    key, version = str(org_id).encode(), int(shown.json()["version"])
    # On organization.org (read by the orgs and memberships projections and the Sender):
    # bytes that are not JSON, and a rename PostgreSQL refuses (a NUL no route lets through).
    await produce(
        world,
        ORGS.topic,
        [
            (key, b"\x00 not an envelope"),
            (key, envelope(org_id, version + 1, "OrganizationRenamed", {"name": "bad\u0000name"})),
        ],
    )
    # On photoflow.full-sync-storage (the sync worker): a folder that does not exist.
    ghost = uuid.uuid4()
    await produce(
        world,
        FULL_SYNC_STORAGE,
        [(str(ghost).encode(), envelope(ghost, 1, "FullSyncStorage", {"folder_id": str(ghost)}))],
    )

    def orgs_parked(count: int) -> Any:
        return lambda answer: workers(answer[1])["projector:orgs"]["parked"] >= count

    await eventually(lambda: health(http), orgs_parked(2), timeout=60, what="poison parked")
    # Its aggregate's next event is held behind it, never applied out of order.
    renamed = envelope(org_id, version + 2, "OrganizationRenamed", {"name": "Held behind"})
    await produce(world, ORGS.topic, [(key, renamed)])
    await eventually(lambda: health(http), orgs_parked(3), timeout=60, what="next one held")

    later = await create_org(http, user, "Written after the poison")
    await visible(http, user, later)  # the next message applied: nothing stalled

    def parked_as_expected(answer: tuple[int, dict[str, Any]]) -> bool:
        status, body = answer
        found = workers(body)
        return (
            status == 200
            and body["status"] == "degraded"
            and found["projector:orgs"]["parked"] >= 3  # garbage, the NUL, and the one held
            and found["sender"]["parked"] >= 1
            and found["sync"]["parked"] == 1
        )

    await eventually(lambda: health(http), parked_as_expected, timeout=60, what="parked")

    # The org whose event is parked keeps its last good row, marked stale (within a second).
    async def read_org() -> httpx.Response:
        return await http.get(f"/api/orgs/{org_id}", headers=user.headers)

    answer = await eventually(read_org, lambda a: "X-Stale" in a.headers, what="marked stale")
    assert answer.status_code == 200
    assert answer.json()["name"] == "Real studio"
    assert answer.headers["X-Stale"] == "orgs"
    fresh = await http.get(f"/api/orgs/{later['org_id']}", headers=user.headers)
    assert "X-Stale" not in fresh.headers

    listing = cli(world, "parked", "list")
    assert world.topic(ORGS.topic) in listing and world.topic(FULL_SYNC_STORAGE) in listing
    assert "held: an earlier event of this aggregate is parked" in listing
    dead = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic) + ".dlt")
    assert {m.headers["dlt_worker"] for m in dead} >= {b"projector:orgs", b"sender"}

    # A replay cannot fix a message that is wrong in itself; dropping clears the report.
    assert "still parked" in cli(world, "parked", "retry", "all")
    assert cli(world, "parked", "drop", "all").startswith("dropped")
    status, _ = await eventually(
        lambda: health(http), lambda a: a[1]["status"] == "ok", timeout=30, what="health ok"
    )
    assert status == 200


@dataclass
class Load:
    """Writers posting studios until stopped, keeping every answer."""

    http: httpx.AsyncClient
    user: Account
    answers: list[tuple[float, float, int, dict[str, Any]]] = field(default_factory=list)
    running: bool = True

    async def writer(self) -> None:
        while self.running:
            started = time.monotonic()
            try:
                answer = await self.http.post(
                    "/api/orgs", json={"name": "Under load"}, headers=self.user.headers
                )
                body = answer.json()
                status = answer.status_code
            except httpx.TransportError as error:
                status, body = 0, {"error": str(error)}
            self.answers.append((started, time.monotonic() - started, status, body))
            await asyncio.sleep(0.02)

    async def run_while(self, during: Any) -> None:
        writers = [asyncio.create_task(self.writer()) for _ in range(4)]
        try:
            await during
        finally:
            self.running = False
            await asyncio.gather(*writers)

    def acknowledged(self) -> list[dict[str, Any]]:
        return [body for _, _, status, body in self.answers if status == 201]


async def readable(world: World, written: list[dict[str, Any]]) -> None:
    """Wait until every acknowledged studio is in the read table."""
    wanted = {uuid.UUID(w["org_id"]) for w in written}

    async def present() -> int:
        return len(wanted & {row[0] for row in await rows(world)})

    await eventually(present, lambda n: n == len(wanted), timeout=90, what="every write read")


async def rows(world: World) -> list[tuple[Any, ...]]:
    conn = await asyncpg.connect(world.settings.database_url)
    try:
        found = await conn.fetch("SELECT org_id, name, version FROM read.orgs ORDER BY org_id")
    finally:
        await conn.close()
    return [tuple(r) for r in found]


async def test_with_kafka_stopped_commands_keep_answering_and_nothing_is_lost(
    platform: Running,
) -> None:
    world, http = platform.world, platform.http
    load = Load(http, await platform.account())
    seen: list[tuple[int, dict[str, Any]]] = []

    async def outage() -> None:
        await asyncio.sleep(2)
        async with stopped("kafka"):
            await asyncio.sleep(20)
            seen.append(await health(http))

    await load.run_while(outage())
    statuses = {status for _, _, status, _ in load.answers}
    assert statuses == {201}, f"every command answered 201 while Kafka was down: {statuses}"
    [(status, body)] = seen
    assert status == 503 and body["status"] == "unavailable"
    assert not {c["name"]: c["ok"] for c in body["components"]}["kafka"]

    written = load.acknowledged()
    assert len(written) > 50
    await readable(world, written)
    on_kafka = await read_topic(world.settings.kafka_bootstrap, world.topic(ORGS.topic))
    published = {m.envelope["aggregate_id"] for m in on_kafka}
    assert {w["org_id"] for w in written} <= published
    before = await rows(world)
    cli(world, "rebuild", "orgs")
    assert await rows(world) == before, "the live table differs from a rebuild"
    await eventually(
        lambda: health(http), lambda a: a[1]["status"] == "ok", timeout=60, what="ok again"
    )


async def test_with_postgres_stopped_commands_answer_503_in_time_and_it_recovers_alone(
    platform: Running,
) -> None:
    http = platform.http
    load = Load(http, await platform.account())
    outage_window: list[float] = []

    async def outage() -> None:
        await asyncio.sleep(2)
        async with stopped("postgres"):
            outage_window.append(time.monotonic())
            await asyncio.sleep(10)
        outage_window.append(time.monotonic())
        await asyncio.sleep(2)

    await load.run_while(outage())
    statuses = {status for _, _, status, _ in load.answers}
    assert statuses <= {201, 503}, f"only 201 or 503 while PostgreSQL was down: {statuses}"
    assert 503 in statuses
    slowest = max(took for _, took, _, _ in load.answers)
    assert slowest < 5.5, f"a command took {slowest:.1f} s to answer"
    refused = [body for _, _, status, body in load.answers if status == 503]
    assert all(body["type"].endswith("/unavailable") for body in refused)

    await eventually(
        lambda: health(http),
        lambda a: a[0] == 200 and a[1]["status"] == "ok",
        timeout=90,
        what="recovered without a restart",
    )
    after = await create_org(http, load.user, "After the outage")
    await visible(http, load.user, after)
    await readable(platform.world, load.acknowledged())


async def test_workers_whose_connections_are_killed_mid_batch_restart_while_the_api_answers(
    platform: Running,
) -> None:
    """Every PostgreSQL session of this platform is terminated, as an operator's kill would."""
    world, http = platform.world, platform.http
    load = Load(http, await platform.account())

    async def kill_sessions() -> None:
        await asyncio.sleep(2)
        conn = await asyncpg.connect(world.settings.database_url)
        try:
            killed = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await conn.close()
        assert killed > 5
        await asyncio.sleep(5)

    await load.run_while(kill_sessions())
    statuses = {status for _, _, status, _ in load.answers}
    assert statuses <= {201, 503}, f"the API kept answering, never a 500: {statuses}"
    assert 201 in statuses

    def recovered(answer: tuple[int, dict[str, Any]]) -> bool:
        status, body = answer
        return status == 200 and body["status"] == "ok"

    _, body = await eventually(lambda: health(http), recovered, timeout=60, what="recovered")
    assert workers(body)["relay"]["restarts"] >= 1, "the relay restarted with a new session"
    await readable(world, load.acknowledged())
