"""Where the machine's CPU went during a measurement, read from /proc.

Two cores are shared by the platform, this process (the load generator, or the relay or
rebuild under test when it runs in-process), PostgreSQL and Kafka, and by anything else
running on the machine (another session's tests, say). A figure taken while something else was
busy understates the platform, so each measurement says who used the CPU, and "other" flags
a disturbed run.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
OTHER_WARNING = 0.15  # of one core
_worst_other = [0.0]


def take_worst_other() -> float:
    """The busiest "other" any meter saw since the last call: did anything disturb the run?"""
    worst, _worst_other[0] = _worst_other[0], 0.0
    return worst


def _process_seconds(stat: str) -> float:
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def _reaped_children_seconds(stat: str) -> float:
    """CPU of children that have ended: a platform stopped mid-measurement still counts."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICKS  # cutime + cstime


def _machine_busy_seconds() -> float:
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return (sum(values) - idle) / TICKS


def _party(pid: int, parent: int, me: int, database: str) -> str:
    """Which party a process belongs to; another world's database backends count as other.

    The benchmark's own children (``python -m infra ...``) are the platform under test.
    """
    if pid == me:
        return "bench"
    if parent == me:
        return "platform"
    comm = (PROC / str(pid) / "comm").read_text().strip()
    if comm == "postgres":
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        backend = cmdline.startswith("postgres: ") and "(" in cmdline  # "user db host(port)"
        return "postgres" if not backend or f" {database} " in cmdline else "other"
    if comm == "java":
        return "kafka"
    if comm == "redis-server":
        return "redis"
    return "other"


def _snapshot(database: str) -> dict[str, float]:
    seconds: dict[str, float] = defaultdict(float)
    me = os.getpid()
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            seconds[_party(int(entry.name), parent, me, database)] += _process_seconds(stat)
            if int(entry.name) == me:
                seconds["platform"] += _reaped_children_seconds(stat)
        except (OSError, ValueError, IndexError):
            continue  # the process ended while being read
    return seconds


class CpuMeter:
    """CPU used per party during a ``with`` block, in fractions of one core."""

    def __init__(self, database_url: str) -> None:
        self._database = urlsplit(database_url).path.lstrip("/")
        self._before: dict[str, float] = {}
        self._busy = 0.0
        self._wall = 0.0
        self.shares: dict[str, float] = {}

    def __enter__(self) -> CpuMeter:
        self._before = _snapshot(self._database)
        self._busy = _machine_busy_seconds()
        self._wall = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        after = _snapshot(self._database)
        wall = max(1e-6, time.monotonic() - self._wall)
        busy = (_machine_busy_seconds() - self._busy) / wall
        shares = {p: max(0.0, after[p] - self._before.get(p, 0.0)) / wall for p in after}
        known = sum(v for p, v in shares.items() if p != "other")
        shares["other"] = max(0.0, busy - known)
        shares["machine"] = busy
        self.shares = shares
        _worst_other[0] = max(_worst_other[0], shares["other"])

    def describe(self) -> str:
        order = ("platform", "bench", "postgres", "kafka", "redis", "other")
        parts = [f"{p} {self.shares[p]:.0%}" for p in order if self.shares.get(p, 0) >= 0.005]
        line = f"CPU (100% = one core): {', '.join(parts)}; machine {self.shares['machine']:.0%}"
        if self.shares.get("other", 0.0) > OTHER_WARNING:
            line += " -- WARNING: other processes were busy, figures are pessimistic"
        return line
