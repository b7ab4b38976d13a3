"""Scale-out: the platform split into processes (``run --processes split``) with two API
processes on one port, and a second process of the ``orgs`` projection sharing its partitions.
Losing one of each (SIGKILL) costs a user nothing: commands keep being accepted, reads with a
consistency token catch up, and the supervisor starts the API process again."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from bench.processes import stop
from projections.worker import group_id
from tests.support.accounts import Account, sign_up
from tests.support.waiting import eventually
from tests.support.world import World, new_world

API_PROCESSES = 2


@dataclass(frozen=True)
class Split:
    world: World
    supervisor: subprocess.Popen[bytes]
    second: subprocess.Popen[bytes]
    """A second ``projector orgs`` process, beside the split layout's ``projections``."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.world.settings.http_port}"

    def api_pids(self) -> list[int]:
        """The supervisor's API children, from /proc (what ``ps --ppid`` shows)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except OSError:  # gone while we looked
                continue
            if int(fields[1]) == self.supervisor.pid and b"api" in cmdline:
                pids.append(int(stat.parent.name))
        return pids


@pytest.fixture(scope="module")
async def split(stack: None) -> AsyncIterator[Split]:
    async with new_world() as world:
        supervisor = world.spawn(
            "run",
            "--processes",
            "split",
            "--api-workers",
            str(API_PROCESSES),
            log_name="split",
            auth_rate_limit="100000",
        )
        second = world.spawn("projector", "orgs", log_name="orgs-second")  # starts meanwhile
        split = Split(world, supervisor, second)
        try:
            async with httpx.AsyncClient(base_url=split.base_url) as http:
                await eventually(
                    lambda: health(http, supervisor),
                    lambda body: body.get("status") == "ok" and instances(body, "api") == 2,
                    timeout=120,
                    what="the split platform healthy, with both API processes",
                )
            yield split
        finally:
            await asyncio.to_thread(stop, second)
            await asyncio.to_thread(stop, supervisor)
            assert supervisor.returncode == 0, "the supervisor stops cleanly on SIGTERM"


async def health(http: httpx.AsyncClient, supervisor: subprocess.Popen[bytes]) -> dict[str, Any]:
    assert supervisor.poll() is None, "the supervisor exited; see var/test-logs"
    try:
        body: dict[str, Any] = (await http.get("/api/health", timeout=5)).json()
    except httpx.TransportError:
        return {}
    return body


def instances(body: dict[str, Any], kind: str, name: str | None = None) -> int:
    return sum(
        w["instances"]
        for w in body.get("workers", [])
        if w["kind"] == kind and w["name"] == (name or kind)
    )


async def test_the_split_layout_leaves_room_for_a_second_copy_in_100_connections(
    split: Split,
) -> None:
    held = await split.world.connections_held()
    # the layout holds 43 at rest on 2 cores; the second orgs projector 1 more
    assert 0 < held <= 50, f"the split layout holds {held} PostgreSQL connections at rest"


async def assigned_partitions(world: World, projection: str) -> list[int]:
    """How many partitions each member of the projection's consumer group holds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=world.settings.kafka_bootstrap)
    await admin.start()
    try:
        group = group_id(world.settings.namespace, projection)
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [described] = response.groups
    if described[2] != "Stable":  # rebalancing: assignments are not known yet
        return []
    members = described[5]
    return sorted(
        len(ConsumerProtocolMemberAssignment.decode(member[-1]).partitions()) for member in members
    )


async def studios_created(http: httpx.AsyncClient) -> float:
    """``POST /api/orgs`` answered 201, as a scrape of /metrics counts them."""
    wanted = {"route": "/api/orgs", "method": "POST", "status": "201"}
    return await scraped(http, "photoflow_http_responses_total", wanted)


async def samples(http: httpx.AsyncClient, name: str) -> list[Sample]:
    """The samples named ``name`` in a scrape of /metrics."""
    answer = await http.get("/metrics")
    return [
        sample
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
        if sample.name == name
    ]


async def scraped(http: httpx.AsyncClient, name: str, labels: dict[str, str]) -> float:
    return sum(s.value for s in await samples(http, name) if s.labels == labels)


async def worker_events(http: httpx.AsyncClient, worker: str) -> dict[str, float]:
    """``photoflow_worker_events_total`` of one worker, by process (``instance``)."""
    found = await samples(http, "photoflow_worker_events_total")
    return {s.labels["instance"]: s.value for s in found if s.labels["worker"] == worker}


async def create_org(http: httpx.AsyncClient, user: Account, name: str) -> dict[str, Any]:
    try:
        answer = await http.post("/api/orgs", json={"name": name}, headers=user.headers)
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        # A connection the kernel had already queued on the killed process's socket is reset
        # (SO_REUSEPORT hashes new connections over the sockets alive when they arrive); a
        # client sends again, once, and the surviving process answers.
        answer = await http.post("/api/orgs", json={"name": name}, headers=user.headers)
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def readable(http: httpx.AsyncClient, user: Account, written: dict[str, Any]) -> int:
    token = {"X-Consistency-Token": written["consistency_token"]}
    answer = await http.get(f"/api/orgs/{written['org_id']}", headers={**user.headers, **token})
    return answer.status_code


async def test_one_api_process_and_one_projector_killed_cost_a_user_nothing(
    split: Split,
) -> None:
    world, second = split.world, split.second
    # a fresh connection per request: the kernel picks an API process for each
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=split.base_url, limits=fresh, timeout=30) as http:
        await eventually(
            lambda: assigned_partitions(world, "orgs"),
            lambda counts: len(counts) == 2 and min(counts) >= 1,
            timeout=40,
            what="both orgs projector processes assigned partitions",
        )
        user = await sign_up(http)
        before = [await create_org(http, user, f"Before the kill {i}") for i in range(10)]

        victim = split.api_pids()
        assert len(victim) == API_PROCESSES
        os.kill(victim[0], signal.SIGKILL)
        second.kill()
        second.wait()

        # every command is accepted by the surviving API process, none is lost
        written = [await create_org(http, user, f"After the kill {i}") for i in range(20)]
        for org in written:
            await eventually(
                partial(readable, http, user, org),
                lambda status: status == 200,
                timeout=40,
                what="a studio written after the kill readable with its token",
            )

        # a projector started again takes its share back, and reads stay consistent
        again = world.spawn("projector", "orgs", log_name="orgs-again")
        try:
            await eventually(
                lambda: assigned_partitions(world, "orgs"),
                lambda counts: len(counts) == 2 and min(counts) >= 1,
                timeout=40,
                what="the restarted orgs projector assigned partitions",
            )
            later = await create_org(http, user, "After the restart")
            await eventually(
                lambda: readable(http, user, later),
                lambda status: status == 200,
                timeout=20,
                what="a studio written after the restart readable with its token",
            )
        finally:
            await asyncio.to_thread(stop, again)

        # the supervisor has started the killed API process again; both serve
        body = await eventually(
            lambda: health(http, split.supervisor),
            lambda body: (
                instances(body, "api") == 2
                and victim[0] not in split.api_pids()
                and body.get("status") == "ok"
            ),
            timeout=40,
            what="the API process started again",
        )
        assert instances(body, "projector", "orgs") >= 1
        # a scrape of either API process counts what both answered, the killed one included
        assert await studios_created(http) == len(before) + len(written) + 1
        # and their writers' commands: each create is one command written, whichever process
        written_commands = {"application": "Organizations", "outcome": "written"}
        assert await scraped(http, "photoflow_commands_total", written_commands) == (
            len(before) + len(written) + 1
        )
        # each orgs projector process its own series, from its heartbeat
        applied = await worker_events(http, "projector:orgs")
        assert len(applied) >= 1 and sum(applied.values()) >= 2, applied
