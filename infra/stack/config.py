"""Where the local services live: addresses from the environment, data under one var/ folder.

The same ``PHOTOFLOW_*`` variables are read by the application, so pointing them at existing
servers makes ``up`` leave those servers alone instead of starting private copies.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from shlex import quote
from urllib.parse import SplitResult, urlsplit

from infra.stack.errors import StackError

REPO_ROOT = Path(__file__).resolve().parents[2]

DEFAULT_DATABASE_URL = "postgresql://photoflow:photoflow@127.0.0.1:5432/photoflow"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_KAFKA_BOOTSTRAP = "127.0.0.1:9092"


@dataclass(frozen=True)
class Endpoint:
    """A host and TCP port, as the services listen on and the clients dial."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_loopback(self) -> bool:
        """Only loopback addresses may be started here: anything else is someone else's server."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def bind_address(self) -> str:
        """A literal IP to listen on (Redis needs one; ``localhost`` resolves to IPv4 first)."""
        if self.host != "localhost":
            return self.host
        infos = socket.getaddrinfo(self.host, self.port, socket.AF_INET, socket.SOCK_STREAM)
        return str(infos[0][4][0]) if infos else "127.0.0.1"


def _endpoint_of_url(url: str, default_port: int, variable: str) -> Endpoint:
    parts: SplitResult = urlsplit(url)
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise StackError(f"{variable}={url!r}: bad port ({exc})") from exc
    return Endpoint(parts.hostname or "127.0.0.1", port)


def parse_bootstrap(bootstrap: str) -> Endpoint:
    """The first ``host:port`` of a Kafka bootstrap list (a local broker is a single node)."""
    first = bootstrap.split(",")[0].strip()
    host, sep, port = first.rpartition(":")
    if not sep or not port.isdigit():
        raise StackError(f"PHOTOFLOW_KAFKA_BOOTSTRAP={bootstrap!r}: expected host:port")
    return Endpoint(host.strip("[]") or "127.0.0.1", int(port))


@dataclass(frozen=True)
class StackConfig:
    """Resolved addresses and folders; build it with :meth:`from_env`."""

    database_url: str
    redis_url: str
    kafka_bootstrap: str
    var_dir: Path
    cache_dir: Path

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StackConfig:
        """Read ``PHOTOFLOW_*`` variables, falling back to the loopback defaults."""
        env = os.environ if environ is None else environ
        var_dir = env.get("PHOTOFLOW_VAR_DIR") or str(REPO_ROOT / "var")
        cache_dir = env.get("PHOTOFLOW_CACHE_DIR") or str(Path.home() / ".cache" / "photoflow")
        return cls(
            database_url=env.get("PHOTOFLOW_DATABASE_URL") or DEFAULT_DATABASE_URL,
            redis_url=env.get("PHOTOFLOW_REDIS_URL") or DEFAULT_REDIS_URL,
            kafka_bootstrap=env.get("PHOTOFLOW_KAFKA_BOOTSTRAP") or DEFAULT_KAFKA_BOOTSTRAP,
            var_dir=Path(var_dir).expanduser().resolve(),
            cache_dir=Path(cache_dir).expanduser().resolve(),
        )

    @property
    def postgres(self) -> Endpoint:
        return _endpoint_of_url(self.database_url, 5432, "PHOTOFLOW_DATABASE_URL")

    @property
    def redis(self) -> Endpoint:
        return _endpoint_of_url(self.redis_url, 6379, "PHOTOFLOW_REDIS_URL")

    @property
    def kafka(self) -> Endpoint:
        return parse_bootstrap(self.kafka_bootstrap)

    @property
    def logs_dir(self) -> Path:
        return self.var_dir / "logs"

    @property
    def lock_file(self) -> Path:
        return self.var_dir / "stack.lock"

    def env_lines(self) -> list[str]:
        """Shell ``export`` lines so other tools resolve exactly the same addresses."""
        return [
            f"export PHOTOFLOW_DATABASE_URL={quote(self.database_url)}",
            f"export PHOTOFLOW_REDIS_URL={quote(self.redis_url)}",
            f"export PHOTOFLOW_KAFKA_BOOTSTRAP={quote(self.kafka_bootstrap)}",
        ]
