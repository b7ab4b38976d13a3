"""Which test worlds this machine has open, so that one left behind is removed by the next.

A world is a database and a set of Kafka topics on the shared servers. A run stopped hard
(Ctrl-C twice, a timeout's kill, ``kill -9``) never drops its worlds, and a developer's Kafka
gathered thousands of such partitions. Kafka's periodic tasks walk every partition, so the
benchmarks measured a broker busier with that than with them. Each world is noted here with the
process that opened it; a world whose process is gone is abandoned, and ``new_world`` drops it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

REGISTRY = Path(__file__).resolve().parents[2] / "var" / "test-worlds"


@dataclass(frozen=True)
class OpenWorld:
    tag: str
    pid: int
    database: str
    topics: list[str]


def register(world: OpenWorld) -> None:
    REGISTRY.mkdir(parents=True, exist_ok=True)
    entry = {"pid": world.pid, "database": world.database, "topics": world.topics}
    (REGISTRY / world.tag).write_text(json.dumps(entry))


def forget(tag: str) -> None:
    (REGISTRY / tag).unlink(missing_ok=True)


def abandoned() -> list[OpenWorld]:
    """The worlds whose opening process has ended without dropping them."""
    left = []
    for path in REGISTRY.glob("*") if REGISTRY.is_dir() else ():
        try:
            entry = json.loads(path.read_text())
            world = OpenWorld(path.name, int(entry["pid"]), entry["database"], entry["topics"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written by its process right now, or not ours
        if not _running(world.pid):
            left.append(world)
    return left


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: running
        return True
    return True
