"""A private, memory-only Redis in var/redis.

Redis holds only caches and read models that can be rebuilt from Kafka, so persistence is off
(``--save "" --appendonly no``): restarts are instant and the disk stays quiet for benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import redis as redis_client

from infra.stack.config import Endpoint
from infra.stack.errors import ServiceUnavailable
from infra.stack.process import (
    Log,
    live_pid,
    poll,
    require_command,
    run,
    terminate,
    wait_for_pidfile,
)
from infra.stack.service import Service


def probe_redis(url: str, timeout: float = 5.0) -> None:
    """One attempt: PING ``url``; raise on any failure."""
    client = redis_client.Redis.from_url(
        url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    try:
        if client.ping() is not True:
            raise ServiceUnavailable("PING did not return PONG")
    finally:
        client.close()


def check_redis(url: str, timeout: float = 5.0) -> None:
    """Raise ServiceUnavailable unless ``url`` answers PING within ``timeout`` seconds."""
    parts = urlsplit(url)
    where = f"redis at {parts.hostname}:{parts.port or 6379}"
    poll(lambda remaining: probe_redis(url, min(remaining, 5.0)), timeout, where)


class Redis(Service):
    name: ClassVar[str] = "redis"
    env_var: ClassVar[str] = "PHOTOFLOW_REDIS_URL"
    ready_timeout: ClassVar[float] = 20.0

    @property
    def endpoint(self) -> Endpoint:
        return self.config.redis

    @property
    def data_dir(self) -> Path:
        return self.config.var_dir / "redis"

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "redis.pid"

    @property
    def log_file(self) -> Path:
        return self.config.logs_dir / "redis.log"

    def probe(self, timeout: float) -> None:
        probe_redis(self.config.redis_url, timeout)

    def running_pid(self) -> int | None:
        return live_pid(self.pidfile, "redis-server")

    def install(self, log: Log) -> None:
        require_command("redis-server", "redis-server", log)

    def start(self, log: Log) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            require_command("redis-server", "redis-server", log),
            "--bind", self.endpoint.bind_address(),
            "--port", str(self.endpoint.port),
            "--dir", str(self.data_dir),
            "--daemonize", "yes",
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.log_file),
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip
        password = urlsplit(self.config.redis_url).password
        if password:
            argv += ["--requirepass", unquote(password)]
        run(argv, "redis-server", cwd=self.data_dir)
        wait_for_pidfile(self.pidfile, "redis-server")

    def stop(self, pid: int, log: Log) -> None:
        """SIGTERM is a clean shutdown, and with ``--save ""`` it writes no snapshot."""
        terminate(pid, self.name, log)
        self.pidfile.unlink(missing_ok=True)
