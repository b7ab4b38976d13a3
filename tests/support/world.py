"""An isolated PhotoFlow world on the real servers: its own database, topics and groups.

Each world gets a fresh PostgreSQL database, a unique topic prefix and a unique namespace for
consumer groups and Redis keys, so tests never see each other's events, nor a developer's.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from broker.admin import ensure_topics
from broker.topics import all_topics
from infra.settings import Settings
from tests.support import world_registry

REPO = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class World:
    settings: Settings

    def env(self, **overrides: str) -> dict[str, str]:
        """The environment for a subprocess that belongs to this world."""
        s = self.settings
        env = dict(os.environ)
        env.update(
            {
                "PHOTOFLOW_DATABASE_URL": s.database_url,
                "PHOTOFLOW_REDIS_URL": s.redis_url,
                "PHOTOFLOW_KAFKA_BOOTSTRAP": s.kafka_bootstrap,
                "PHOTOFLOW_TOPIC_PREFIX": s.topic_prefix,
                "PHOTOFLOW_NAMESPACE": s.namespace,
                "PHOTOFLOW_HTTP_PORT": str(s.http_port),
            }
        )
        env.update({f"PHOTOFLOW_{k.upper()}": v for k, v in overrides.items()})
        return env

    async def connections_held(self) -> int:
        """The PostgreSQL connections open to this world's database now, from any process."""
        database = urlsplit(self.settings.database_url).path.lstrip("/")
        conn = await asyncpg.connect(Settings().database_url)
        try:
            held: int = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", database
            )
        finally:
            await conn.close()
        return held

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -m infra ARGS`` in this world, to its end, as an operator would run it."""
        return subprocess.run(
            [sys.executable, "-m", "infra", *args],
            cwd=REPO,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def spawn(self, *args: str, log_name: str, **overrides: str) -> subprocess.Popen[bytes]:
        """Start ``python -m infra ARGS`` in this world; its output goes to var/test-logs."""
        logs = REPO / "var" / "test-logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = (logs / f"{self.settings.namespace}-{log_name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "infra", *args],
            cwd=REPO,
            env=self.env(**overrides),
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    @property
    def mailbox(self) -> Path:
        """Where this world's Sender writes its mail (``.eml`` files)."""
        return REPO / "var" / "test-mail" / self.settings.namespace

    @property
    def photos(self) -> Path:
        """This world's local photo root (PHOTOFLOW_LOCAL_ROOTS of its platform)."""
        return REPO / "var" / "test-photos" / self.settings.namespace

    def topic(self, name: str) -> str:
        return self.settings.topic_prefix + name


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@asynccontextmanager
async def new_world() -> AsyncIterator[World]:
    base = Settings()
    tag = uuid.uuid4().hex[:10]
    database = f"pf_test_{tag}"
    await _drop_abandoned(base)
    # noted before anything is made, so a run killed at any point leaves nothing for good
    prefix = f"test-{tag}."
    topics = [prefix + t for t in all_topics()]
    world_registry.register(world_registry.OpenWorld(tag, os.getpid(), database, topics))
    admin = await asyncpg.connect(base.database_url)
    try:
        for attempt in range(10):
            try:
                await admin.execute(f'CREATE DATABASE "{database}"')
                break
            except asyncpg.ObjectInUseError:  # template1 busy with another CREATE DATABASE
                await asyncio.sleep(0.2 * (attempt + 1))
    finally:
        await admin.close()
    settings = base.model_copy(
        update={
            "database_url": _with_database(base.database_url, database),
            "topic_prefix": prefix,
            "namespace": f"test-{tag}",
            "http_port": free_port(),
            "instance": f"test-{tag}",
        }
    )
    try:
        await ensure_topics(
            settings.kafka_bootstrap, dict.fromkeys(topics, settings.kafka_partitions)
        )
        yield World(settings)
    finally:
        await drop_world(base, database, settings.kafka_bootstrap, topics)
        world_registry.forget(tag)


async def _drop_abandoned(base: Settings) -> None:
    """Drop the worlds of runs that ended without dropping them (``world_registry``)."""
    for left in world_registry.abandoned():
        try:
            await drop_world(base, left.database, base.kafka_bootstrap, left.topics)
        except Exception as error:  # in use after all, or a server away: the next run retries
            log.warning("could not drop the abandoned test world %s: %s", left.tag, error)
            continue
        world_registry.forget(left.tag)


async def drop_world(base: Settings, database: str, bootstrap: str, topics: list[str]) -> None:
    admin = await asyncpg.connect(base.database_url)
    try:
        for attempt in range(20):
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                break
            except (asyncpg.InsufficientPrivilegeError, asyncpg.ObjectInUseError):
                # a backend FORCE may not end (a background worker busy on the database, seen
                # on a loaded machine) finishes on its own: try again shortly
                if attempt == 19:
                    raise
                await asyncio.sleep(0.5)
    finally:
        await admin.close()
    kafka = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await kafka.start()
    try:
        await kafka.delete_topics(topics)
    finally:
        await kafka.close()
