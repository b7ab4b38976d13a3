"""Timing, percentiles and the printed report: one place so every benchmark reads alike."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One measured figure beside the baseline it is judged against.

    ``higher_is_better`` decides which way the ratio reads; ``met`` is None when the issue sets
    no goal for this figure (it is shown for context only).
    """

    benchmark: str
    measure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    goal: str = ""
    met: bool | None = None
    detail: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("nan")


@dataclass(frozen=True)
class Latencies:
    """A sample of durations in seconds, summarised the way the goals are stated."""

    samples: Sequence[float]

    def percentile(self, q: float) -> float:
        """Nearest-rank percentile: an observed value, never an interpolation between two."""
        if not self.samples:
            return float("nan")
        ordered = sorted(self.samples)
        rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    @property
    def p50_ms(self) -> float:
        return self.percentile(50) * 1000

    @property
    def p99_ms(self) -> float:
        return self.percentile(99) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.samples, default=float("nan")) * 1000

    def describe(self) -> str:
        return f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms"


class Stopwatch:
    """Wall and process-CPU time of a block: the CPU figure shows what the client itself cost."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self._wall = 0.0
        self._cpu = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu_seconds = time.process_time() - self._cpu


@contextmanager
def client_gc_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it times requests.

    A full collection of this process's heap (every imported library) takes tens of
    milliseconds, which would show up as server latency. The platform's own GC is untouched.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


def say(line: str = "") -> None:
    print(line, flush=True)


def fmt(value: float, unit: str) -> str:
    if unit in ("ms",):
        return f"{value:,.1f} {unit}"
    return f"{value:,.0f} {unit}"


def print_figure(f: Figure) -> None:
    verdict = "" if f.met is None else ("  goal met" if f.met else "  GOAL NOT MET")
    say(
        f"  {f.measure}: {fmt(f.value, f.unit)}  vs  {f.baseline}: {fmt(f.baseline_value, f.unit)}"
        f"  ratio {f.ratio:.2f}x" + (f"  (goal {f.goal}){verdict}" if f.goal else "")
    )
    if f.detail:
        say(f"      {f.detail}")


def summary_table(figures: Sequence[Figure]) -> str:
    """A markdown table of every figure, ready to paste into the README."""
    lines = [
        "| benchmark | measure | result | baseline (same run) | ratio | goal | met | notes |",
        "|---|---|---:|---|---:|---|:-:|---|",
    ]
    for f in figures:
        met = "" if f.met is None else ("yes" if f.met else "**no**")
        lines.append(
            f"| {f.benchmark} | {f.measure} | {fmt(f.value, f.unit)} | {f.baseline}: "
            f"{fmt(f.baseline_value, f.unit)} | {f.ratio:.2f}x | {f.goal} | {met} | {f.detail} |"
        )
    return "\n".join(lines)


def machine() -> str:
    """nproc, CPU model and memory: the figures mean little without the machine beside them."""
    cpuinfo = Path("/proc/cpuinfo")
    model = "unknown CPU"
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "unknown memory"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"machine: {cpus} CPUs ({model}), {memory} RAM, "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}"
    )


def revision(repo: Path) -> str:
    """The commit measured (``-dirty`` if the work tree has changes), or why it is unknown."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except OSError as error:
        return f"unknown ({error})"
    return done.stdout.strip() or "unknown (not a git work tree)"
