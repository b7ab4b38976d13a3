"""``python -m bench [NAME ...] [--quick]``: run the benchmarks, each in a fresh world."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import uvloop

from bench import (
    albums,
    audit,
    commands,
    freshness,
    gallery,
    history,
    rebuild,
    relay,
    renditions,
    serving,
    signin,
    storage,
    stream,
)
from bench.cpu import OTHER_WARNING, take_worst_other
from bench.report import Figure, machine, print_figure, revision, say, summary_table
from infra.gc_tuning import tune_gc
from infra.stack import ensure_up
from tests.support.world import REPO, World, new_world

Benchmark = Callable[[World, bool], Awaitable[list[Figure]]]
BENCHMARKS: dict[str, Benchmark] = {
    commands.NAME: commands.run,
    relay.NAME: relay.run,
    rebuild.NAME: rebuild.run,
    freshness.NAME: freshness.run,
    storage.NAME: storage.run,
    signin.NAME: signin.run,
    albums.NAME: albums.run,
    renditions.NAME: renditions.run,
    serving.NAME: serving.run,
    stream.NAME: stream.run,
    audit.NAME: audit.run,
    gallery.NAME: gallery.run,
    history.NAME: history.run,
}


async def run_all(names: list[str], quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        say(f"\n## {name}{' (quick)' if quick else ''}")
        started = time.perf_counter()
        take_worst_other()
        async with new_world() as world:
            found = await BENCHMARKS[name](world, quick)
        other = take_worst_other()
        if other > OTHER_WARNING:
            note = f"disturbed: other processes used {other:.0%} of a core"
            found = [replace(f, detail=f"{f.detail}; {note}" if f.detail else note) for f in found]
        for figure in found:
            print_figure(figure)
        say(f"  ({time.perf_counter() - started:.0f} s including the world's set-up and removal)")
        figures.extend(found)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"default all of: {', '.join(BENCHMARKS)}"
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    # SIGTERM (a timeout, a CI stop) unwinds like Ctrl-C, so every world and subprocess started
    # so far is removed by its own finally block instead of being left behind.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # The platform measured is the one `make run` starts: split into processes on two cores or
    # more, unless PHOTOFLOW_PROCESSES says otherwise (single: everything in one process).
    os.environ.setdefault("PHOTOFLOW_PROCESSES", "auto")
    ensure_up()
    tune_gc()  # the code measured in this process runs with the platform's GC settings
    say(machine())
    say(f"code: {revision(REPO)} at {REPO}")
    say(f"platform: PHOTOFLOW_PROCESSES={os.environ['PHOTOFLOW_PROCESSES']}")
    try:
        figures = uvloop.run(run_all(names, args.quick))
    except KeyboardInterrupt:
        say("interrupted; the worlds started so far have been removed")
        return 130
    say("\n## summary\n")
    say(summary_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
