"""Where the machine's CPU went during a measurement, and the platform's memory, from /proc.

Two cores are shared by the platform, this process (the load generator, or the relay or
rebuild under test when it runs in-process), PostgreSQL and Kafka, and by anything else
running on the machine (another session's tests, say). A figure taken while something else was
busy understates the platform, so each measurement says who used the CPU, and "other" flags
a disturbed run. The platform is every process this one started and their children: split
into processes, its API processes and workers are the supervisor's children. While a meter
runs, the platform's resident memory (all its processes together) is sampled for its peak.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from bench.report import Figure

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
MEMORY_SAMPLE_SECONDS = 0.25
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


def _stats() -> dict[int, str]:
    """Every process's ``/proc/PID/stat`` line, read once (a process may end while read)."""
    stats: dict[int, str] = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                stats[int(entry.name)] = (entry / "stat").read_text()
            except OSError:
                continue
    return stats


def _parents(stats: dict[int, str]) -> dict[int, int]:
    """Every process's parent, from its stat line."""
    parents: dict[int, int] = {}
    for pid, stat in stats.items():
        try:
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        except (ValueError, IndexError):
            continue
    return parents


def _descends(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    seen = 0
    while pid in parents and seen < 64:
        pid = parents[pid]
        if pid == ancestor:
            return True
        seen += 1
    return False


def platform_pids() -> list[int]:
    """The platform under test: every process this one started, and theirs."""
    me = os.getpid()
    parents = _parents(_stats())
    return [pid for pid in parents if pid != me and _descends(pid, me, parents)]


def platform_rss_bytes() -> int:
    """The platform's resident memory, all its processes together."""
    total = 0
    for pid in platform_pids():
        try:
            total += int((PROC / str(pid) / "statm").read_text().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            continue
    return total


def _party(pid: int, parents: dict[int, int], me: int, database: str) -> str:
    """Which party a process belongs to; another world's database backends count as other.

    The benchmark's own descendants (``python -m infra ...`` and, split, its children) are
    the platform under test.
    """
    if pid == me:
        return "bench"
    if _descends(pid, me, parents):
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


def _role(pid: int) -> str:
    """A platform process's role: ``python -m infra ROLE ...`` (the supervisor: ``supervisor``)."""
    args = (PROC / str(pid) / "cmdline").read_bytes().split(b"\0")
    if b"infra.processes" in args:
        return "supervisor"
    if b"infra" in args and args.index(b"infra") + 1 < len(args):
        return args[args.index(b"infra") + 1].decode()
    return "other"


def _snapshot(database: str) -> dict[str, float]:
    """CPU seconds so far per party, and per role of the platform's processes (``role:NAME``)."""
    seconds: dict[str, float] = defaultdict(float)
    me = os.getpid()
    stats = _stats()
    parents = _parents(stats)
    for pid in parents:
        try:
            stat = stats[pid]
            party = _party(pid, parents, me, database)
            used = _process_seconds(stat)
            seconds[party] += used
            if party == "platform":
                seconds[f"role:{_role(pid)}"] += used
            if pid == me:
                seconds["platform"] += _reaped_children_seconds(stat)
        except (OSError, ValueError, IndexError):
            continue  # the process ended while being read
    return seconds


class CpuMeter:
    """CPU used per party during a ``with`` block, in fractions of one core, and the
    platform's peak resident memory meanwhile."""

    def __init__(self, database_url: str) -> None:
        self._database = urlsplit(database_url).path.lstrip("/")
        self._before: dict[str, float] = {}
        self._busy = 0.0
        self._wall = 0.0
        self.shares: dict[str, float] = {}
        self.platform_rss_peak = 0
        """Bytes: the most the platform's processes held resident together at one sample."""
        self._stop = threading.Event()
        self._sampler: threading.Thread | None = None

    def __enter__(self) -> CpuMeter:
        self._before = _snapshot(self._database)
        self._busy = _machine_busy_seconds()
        self._wall = time.monotonic()
        self._stop.clear()
        self._sampler = threading.Thread(target=self._sample_memory, daemon=True)
        self._sampler.start()
        return self

    def _sample_memory(self) -> None:
        while True:
            self.platform_rss_peak = max(self.platform_rss_peak, platform_rss_bytes())
            if self._stop.wait(MEMORY_SAMPLE_SECONDS):
                return

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._sampler is not None:
            self._sampler.join()
        after = _snapshot(self._database)
        wall = max(1e-6, time.monotonic() - self._wall)
        busy = (_machine_busy_seconds() - self._busy) / wall
        shares = {p: max(0.0, after[p] - self._before.get(p, 0.0)) / wall for p in after}
        known = sum(v for p, v in shares.items() if p != "other" and not p.startswith("role:"))
        shares["other"] = max(0.0, busy - known)
        shares["machine"] = busy
        self.shares = shares
        _worst_other[0] = max(_worst_other[0], shares["other"])

    def describe(self) -> str:
        order = ("platform", "bench", "postgres", "kafka", "redis", "other")
        parts = [f"{p} {self.shares[p]:.0%}" for p in order if self.shares.get(p, 0) >= 0.005]
        roles = sorted(
            ((p.removeprefix("role:"), v) for p, v in self.shares.items() if p.startswith("role:")),
            key=lambda role: -role[1],
        )
        split = ", ".join(f"{name} {v:.0%}" for name, v in roles if v >= 0.005)
        if len(roles) > 1 and split and parts[0].startswith("platform"):  # which process used it
            parts[0] += f" ({split})"
        line = f"CPU (100% = one core): {', '.join(parts)}; machine {self.shares['machine']:.0%}"
        if self.platform_rss_peak:
            line += f"; platform memory peak {self.platform_rss_peak / 2**20:,.0f} MB RSS"
        if self.shares.get("other", 0.0) > OTHER_WARNING:
            line += " -- WARNING: other processes were busy, figures are pessimistic"
        return line


MEMORY_GOAL_BYTES = 1.5 * 2**30
"""The issue's goal: the whole platform under 1.5 GB at the benchmarks' loads."""


def memory_figure(benchmark: str, load: str, peak: int, at_rest: int) -> Figure:
    """The platform's peak memory under ``load`` beside the same platform's at rest."""
    return Figure(
        benchmark,
        f"platform memory peak, {load}",
        peak / 2**20,
        "MB RSS",
        "the same platform at rest, MB RSS",
        at_rest / 2**20,
        goal="< 1,536 MB",
        met=0 < peak < MEMORY_GOAL_BYTES,
        detail="every platform process summed (PostgreSQL, Kafka and Redis not included)",
    )
