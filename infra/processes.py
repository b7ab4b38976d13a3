"""``python -m infra run --processes split``: the platform as processes under one supervisor.

API processes share the HTTP port: each binds its own ``SO_REUSEPORT`` socket, so the kernel
spreads new connections over them, and one that dies takes only its own connections with it.
The relay, the projections, the Sender, the sync worker, the album-sync manager and the render
worker each run in a process of their own (``python -m infra ROLE``). The supervisor starts
them, says which run, starts again a child that exits (after 1 s, doubling up to 30 s; a child
that ran for a minute starts again after 1 s), passes SIGTERM and SIGINT on to every child and
waits for all of them to stop. The children never outlive it (``PR_SET_PDEATHSIG``).

Each role opens the same stores, but keeps at rest and grows to only what it uses
(``ROLE_POOLS``, unless the environment sets a pool size itself): see the README's table.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Literal, NoReturn

from prometheus_client import multiprocess

from infra import logs
from infra.settings import Settings

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
HEALTHY_AFTER = 60.0
"""A child that ran this long starts again after the shortest wait: its next exit is new."""
RESTART_CEILING = 30.0
STOP_SECONDS = 25.0
"""How long the children have to stop (each cuts its own shutdown short after 15 s)."""

Shape = Literal["single", "split"]

# PostgreSQL connections per role: (event store min, max, read pool min, max). An event store
# kept at 0 opens a connection only when used (and closes it after ten idle minutes).
ROLE_POOLS: dict[str, tuple[int, int, int, int]] = {
    "api": (0, 2, 1, 4),
    "relay": (0, 1, 1, 8),  # one LISTEN session per event store comes from the read pool
    "projections": (0, 1, 1, 3),
    "sender": (0, 1, 1, 2),
    "sync": (0, 1, 1, 3),
    "album-sync": (0, 1, 1, 2),
    "render": (0, 1, 1, 2),
}
POOL_SETTINGS = (
    "PHOTOFLOW_EVENTSTORE_POOL_MIN",
    "PHOTOFLOW_EVENTSTORE_POOL_MAX",
    "PHOTOFLOW_READ_POOL_MIN",
    "PHOTOFLOW_READ_POOL_MAX",
)


def shape(wanted: str, cores: int | None) -> Shape:
    """``auto`` splits on a machine with two cores or more."""
    if wanted == "auto":
        return "split" if (cores or 1) >= 2 else "single"
    return "split" if wanted == "split" else "single"


@dataclass(frozen=True)
class Child:
    """One process of the split platform: ``python -m infra ARGS`` with its own settings."""

    name: str
    args: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)


def layout(settings: Settings, api_workers: int) -> list[Child]:
    """API_WORKERS API processes, then one process per worker role."""
    children = [
        Child(
            f"api-{i}",
            ("api", "--shared-port"),
            {"PHOTOFLOW_DEMO": _flag(settings.demo and i == 1)},
        )
        for i in range(1, api_workers + 1)
    ]
    # the demo is seeded once, by the first API process
    children += [
        Child(role, (role,), {"PHOTOFLOW_DEMO": "0"})
        for role in ("relay", "projections", "sender", "sync", "album-sync", "render")
    ]
    return children


def _flag(value: bool) -> str:
    return "1" if value else "0"


def child_env(child: Child, settings: Settings, environ: Mapping[str, str]) -> dict[str, str]:
    """The child's environment: ours, its role's pool sizes unless set, its own instance name."""
    env = dict(environ)
    role = child.args[0]
    for name, size in zip(POOL_SETTINGS, ROLE_POOLS.get(role, ()), strict=False):
        env.setdefault(name, str(size))
    env.update(child.env)
    env["PHOTOFLOW_PROCESSES"] = "single"  # a child is one process
    if settings.instance:  # heartbeats tell the processes apart by instance
        env["PHOTOFLOW_INSTANCE"] = f"{settings.instance}:{child.name}"
    return env


def shared_port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to the API's address that other processes may bind too (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the supervisor goes, even by SIGKILL."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class _Slot:
    child: Child
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    exits: int = 0
    start_at: float = 0.0


class Supervisor:
    """Starts the children, restarts those that exit, and stops them all on a signal."""

    def __init__(
        self,
        children: list[Child],
        settings: Settings,
        environ: Mapping[str, str],
        metrics_dir: str | None = None,
    ):
        self._slots = [_Slot(c) for c in children]
        self._settings = settings
        self._environ = dict(environ)
        self._metrics_dir = metrics_dir
        """Where the API processes keep their request figures, so that /metrics sums them."""
        self._stopping = False
        self._signals = 0

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        for slot in self._slots:
            self._start(slot)
        print(self.listing(), flush=True)
        while not self._stopping:
            now = time.monotonic()
            for slot in self._slots:
                if slot.proc is not None and slot.proc.poll() is not None:
                    self._exited(slot, now)
                elif slot.proc is None and now >= slot.start_at:
                    self._start(slot)
                    log.info("%s started again (pid %d)", slot.child.name, _pid(slot))
            time.sleep(0.1)
        self._stop_all()
        return 0

    def listing(self) -> str:
        lines = [
            f"PhotoFlow in {len(self._slots)} processes, split by role "
            "(PHOTOFLOW_PROCESSES=single runs one process):"
        ]
        for slot in self._slots:
            command = " ".join(slot.child.args)
            lines.append(f"  {slot.child.name:<12} pid {_pid(slot):<8} python -m infra {command}")
        s = self._settings
        lines.append(f"PhotoFlow API on http://{s.http_host}:{s.http_port}/api/health")
        return "\n".join(lines)

    def _start(self, slot: _Slot) -> None:
        env = child_env(slot.child, self._settings, self._environ)
        if self._metrics_dir and slot.child.args[0] == "api":
            env.setdefault("PROMETHEUS_MULTIPROC_DIR", self._metrics_dir)
        slot.proc = subprocess.Popen(
            [sys.executable, "-m", "infra", *slot.child.args],
            cwd=REPO,
            env=env,
            preexec_fn=_die_with_parent,  # the supervisor runs no threads
            # its own process group: a terminal's Ctrl-C reaches the supervisor alone, which
            # passes one SIGTERM on, instead of every child getting two signals
            process_group=0,
        )
        slot.started = time.monotonic()

    def _exited(self, slot: _Slot, now: float) -> None:
        assert slot.proc is not None
        code, ran = slot.proc.returncode, now - slot.started
        slot.exits = 1 if ran >= HEALTHY_AFTER else slot.exits + 1
        wait = min(RESTART_CEILING, 2.0 ** (slot.exits - 1))
        how = f"signal {-code}" if code < 0 else f"code {code}"
        log.warning(
            "%s (pid %d) exited with %s after %.0f s; starting it again in %.0f s",
            slot.child.name,
            slot.proc.pid,
            how,
            ran,
            wait,
        )
        if self._metrics_dir:  # its counts stay; its gauges go
            multiprocess.mark_process_dead(slot.proc.pid, self._metrics_dir)  # type: ignore[no-untyped-call]
        slot.proc = None
        slot.start_at = now + wait

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signals += 1
        self._stopping = True
        if self._signals > 1:  # asked twice: no more waiting
            for slot in self._slots:
                if slot.proc is not None and slot.proc.poll() is None:
                    slot.proc.kill()

    def _stop_all(self) -> None:
        running = [s.proc for s in self._slots if s.proc is not None and s.proc.poll() is None]
        print(f"stopping {len(running)} processes", flush=True)
        for proc in running:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for proc in running:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("pid %d still running after %.0f s; killing it", proc.pid, STOP_SECONDS)
                proc.kill()
                proc.wait()


def _pid(slot: _Slot) -> int:
    return slot.proc.pid if slot.proc is not None else 0


def exec_supervisor(api_workers: int) -> NoReturn:
    """Become ``python -m infra.processes``: the supervisor then holds none of the platform's
    modules in memory (about 100 MB less), only what it needs to watch its children."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "infra.processes", str(api_workers)])


def main(argv: list[str]) -> int:
    """``python -m infra.processes [API_WORKERS]``: the split platform's supervisor alone."""
    logs.configure()
    settings = Settings()
    return run_split(settings, int(argv[0]) if argv else settings.api_workers)


def run_split(settings: Settings, api_workers: int) -> int:
    """Run the split platform until SIGTERM or SIGINT; the address must be free."""
    # Reserve the address while the API processes start and restart: never listened on, so it
    # takes no connections, yet no other program can take the port from under them.
    reserved = shared_port_socket(settings.http_host, settings.http_port)
    metrics_dir = tempfile.mkdtemp(prefix="photoflow-metrics-")
    try:
        children = layout(settings, api_workers)
        return Supervisor(children, settings, os.environ, metrics_dir).run()
    finally:
        reserved.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
