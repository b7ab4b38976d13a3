"""A private PostgreSQL cluster in var/postgres, owned by the ``postgres`` OS user.

Why a private cluster rather than Debian's 15/main: its settings (durability on, 300
connections for the load tests) and its lifetime belong to this repository, and ``down`` or
``rm -rf var`` never touches a system database.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from infra.stack.config import Endpoint
from infra.stack.errors import ServiceUnavailable, StackError
from infra.stack.process import (
    Log,
    apt_install,
    as_user,
    build_atomically,
    live_pid,
    poll,
    run,
)
from infra.stack.service import Service

PG_USER = "postgres"
SOCKET_DIR_MAX = 90  # sun_path holds 107 bytes, and "/.s.PGSQL.<port>" takes up to 16

# Appended to postgresql.conf through an include, rewritten at every start so that the
# listen address follows PHOTOFLOW_DATABASE_URL. Durability stays ON: benchmarks run here.
SETTINGS = """\
# Written by infra.stack at every start; edit infra/stack/postgres.py instead.
listen_addresses = '{host}'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 300
shared_buffers = 256MB
fsync = on
synchronous_commit = on
full_page_writes = on
log_destination = 'stderr'
logging_collector = off
"""


def probe_postgres(url: str, timeout: float = 5.0) -> None:
    """One attempt: log in with ``url`` and run ``SELECT 1``; raise on any failure."""
    connect_timeout = max(1, round(timeout))
    with psycopg.connect(url, connect_timeout=connect_timeout, autocommit=True) as conn:
        row = conn.execute("SELECT 1").fetchone()
    if row != (1,):
        raise ServiceUnavailable(f"SELECT 1 returned {row!r}")


def check_postgres(url: str, timeout: float = 5.0) -> None:
    """Raise ServiceUnavailable unless ``url`` accepts a login and answers ``SELECT 1``
    within ``timeout`` seconds (retrying: a booting server refuses logins for a while)."""
    parts = urlsplit(url)
    where = f"postgres at {parts.hostname}:{parts.port or 5432}"
    poll(lambda remaining: probe_postgres(url, min(remaining, 10.0)), timeout, where)


def find_bin_dir() -> Path | None:
    """Newest Debian PostgreSQL server binaries, or a PATH one (initdb is not on Debian's PATH)."""
    override = os.environ.get("PHOTOFLOW_PG_BIN")
    if override:
        return Path(override)
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _grant_traverse(path: Path, log: Log) -> None:
    """Let the postgres user reach var/postgres: add o+x to ancestors that lack it."""
    for directory in reversed(path.parents):
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            log(f"postgres: chmod o+x {directory} so the postgres user can reach its data")
            directory.chmod(mode | stat.S_IXOTH)


class Postgres(Service):
    name: ClassVar[str] = "postgres"
    env_var: ClassVar[str] = "PHOTOFLOW_DATABASE_URL"
    ready_timeout: ClassVar[float] = 60.0

    @property
    def endpoint(self) -> Endpoint:
        return self.config.postgres

    @property
    def data_dir(self) -> Path:
        return self.config.var_dir / "postgres"

    @property
    def log_file(self) -> Path:
        return self.config.logs_dir / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        """The data dir itself when short enough, else a per-repo folder under /tmp."""
        if len(str(self.data_dir)) <= SOCKET_DIR_MAX:
            return self.data_dir
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"photoflow-pg-{digest}"

    def probe(self, timeout: float) -> None:
        probe_postgres(self.config.database_url, timeout)

    def running_pid(self) -> int | None:
        return live_pid(self.data_dir / "postmaster.pid", "postgres")

    def install(self, log: Log) -> None:
        if find_bin_dir() is None:
            apt_install("postgresql", log)

    def _bin(self, program: str) -> str:
        bin_dir = find_bin_dir()
        if bin_dir is None:
            raise StackError("no PostgreSQL server binaries found (set PHOTOFLOW_PG_BIN)")
        return str(bin_dir / program)

    def _chown(self, path: Path) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(PG_USER)
            shutil.chown(path, entry.pw_uid, entry.pw_gid)

    def _initdb(self, target: Path) -> None:
        target.mkdir(mode=0o700)
        self._chown(target)
        argv = [
            self._bin("initdb"),
            "-D",
            str(target),
            "-U",
            PG_USER,
            "--encoding=UTF8",
            "--no-locale",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ]
        run(as_user(argv, PG_USER), "initdb", cwd=Path("/"), timeout=300)
        conf = target / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write("\ninclude_if_exists = 'photoflow.conf'\n")

    def start(self, log: Log) -> None:
        if not _password(self.config.database_url):
            raise StackError(
                "PHOTOFLOW_DATABASE_URL has no password; the private cluster uses password "
                "authentication over TCP"
            )
        self.config.var_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # otherwise the server runs as us and can already get there
            _grant_traverse(self.data_dir, log)
        if build_atomically(self.data_dir, "PG_VERSION", self._initdb):
            log(f"postgres: initialised a new cluster in {self.data_dir}")
        socket_dir = self.socket_dir
        if socket_dir != self.data_dir:
            socket_dir.mkdir(mode=0o700, exist_ok=True)
            self._chown(socket_dir)
        settings = SETTINGS.format(
            host=self.endpoint.host, port=self.endpoint.port, socket_dir=socket_dir
        )
        (self.data_dir / "photoflow.conf").write_text(settings)
        self._chown(self.data_dir / "photoflow.conf")
        self.config.logs_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        self._chown(self.log_file)
        argv = [self._bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file)]
        run(as_user([*argv, "-w", "-t", "60", "start"], PG_USER), "pg_ctl start", cwd=Path("/"))

    def prepare(self, log: Log) -> None:
        """Create (or re-password) the role and database named in the URL, over the socket."""
        parts = urlsplit(self.config.database_url)
        role = unquote(parts.username or "photoflow")
        database = unquote(parts.path.lstrip("/")) or role
        password = _password(self.config.database_url)

        def attempt(remaining: float) -> None:
            with psycopg.connect(
                host=str(self.socket_dir),
                port=self.endpoint.port,
                user=PG_USER,
                dbname="postgres",
                connect_timeout=max(1, int(min(remaining, 10.0))),
                autocommit=True,
            ) as conn:
                exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
                verb = "ALTER" if exists.fetchone() else "CREATE"
                conn.execute(
                    sql.SQL(verb + " ROLE {} WITH LOGIN CREATEDB PASSWORD {}").format(
                        sql.Identifier(role), sql.Literal(password)
                    )
                )
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if not found.fetchone():
                    log(f"postgres: creating role {role!r} and database {database!r}")
                    conn.execute(
                        sql.SQL("CREATE DATABASE {} OWNER {}").format(
                            sql.Identifier(database), sql.Identifier(role)
                        )
                    )

        poll(attempt, self.ready_timeout, f"postgres socket in {self.socket_dir}")

    def stop(self, pid: int, log: Log) -> None:
        argv = [self._bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
        run(as_user(argv, PG_USER), "pg_ctl stop", cwd=Path("/"), timeout=120)


def _password(url: str) -> str:
    return unquote(urlsplit(url).password or "")
