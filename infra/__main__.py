"""``python -m infra ROLE``: run the platform, or one of its parts, or a maintenance command.

run                  everything below in one process (``make run``)
api                  the HTTP API alone
relay                the relay alone (event store -> Kafka)
sender               the Sender: invitation and album mail
sync                 the storage sync worker
album-sync           the process manager that updates albums when their folder synced
projector NAME       one projection worker; start several to share its partitions
rebuild NAME         drop a projection's tables and replay it, with a progress bar
rotate-keys          add a JWT signing key (the older ones keep verifying)
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import uvloop

from infra import keys
from infra.bootstrap import (
    Platform,
    open_platform,
    run_album_sync_manager,
    run_everything,
    run_projector,
    run_relay,
    run_sender,
    run_sync_worker,
    serve_api,
)
from infra.demo import seed_demo, share_demo_album
from infra.gc_tuning import tune_gc
from infra.settings import Settings
from projections.rebuild import rebuild
from projections.registry import all_projections


async def _rebuild(platform: Platform, name: str) -> None:
    report = await rebuild(
        all_projections()[name],
        platform.pool,
        platform.settings.kafka_bootstrap,
        platform.settings.projection_batch_size,
        topic_prefix=platform.settings.topic_prefix,
    )
    print(
        f"rebuilt {report.projection}: {report.events} events "
        f"({report.applied} applied) in {report.seconds:.2f} s, {report.rate:,.0f} events/s"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    roles_named = [
        "run",
        "api",
        "relay",
        "sender",
        "sync",
        "album-sync",
        "projector",
        "rebuild",
        "rotate-keys",
    ]
    parser.add_argument("role", choices=roles_named)
    parser.add_argument("name", nargs="?", help="the projection, for projector and rebuild")
    args = parser.parse_args(argv)
    projections = sorted(all_projections())
    if args.role in ("projector", "rebuild") and args.name not in projections:
        parser.error(f"{args.role} needs a projection name: one of {', '.join(projections)}")
    if args.role == "rotate-keys":
        newest = keys.rotate(Path(Settings().keys_dir))
        print(
            f"new signing key {newest.kid}; restart the API processes to sign with it "
            "(tokens signed with older keys stay valid)"
        )
        return 0
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.WARNING)

    roles: dict[str, Callable[[Platform], Awaitable[None]]] = {
        "run": run_everything,
        "api": serve_api,
        "relay": run_relay,
        "sender": run_sender,
        "sync": run_sync_worker,
        "album-sync": run_album_sync_manager,
        "projector": lambda p: run_projector(p, args.name),
        "rebuild": lambda p: _rebuild(p, args.name),
    }

    settings = Settings()
    if args.role in ("run", "api") and not _port_free(settings.http_host, settings.http_port):
        print(
            f"PhotoFlow (or something else) already listens on "
            f"{settings.http_host}:{settings.http_port}; set PHOTOFLOW_HTTP_PORT to run another",
            file=sys.stderr,
        )
        return 1

    async def go() -> None:
        async with open_platform(settings) as platform:
            tune_gc()
            if args.role in ("run", "api"):
                s = platform.settings
                print(f"PhotoFlow API on http://{s.http_host}:{s.http_port}/api/health", flush=True)
            if args.role == "run" and settings.demo:
                seeded = await seed_demo(platform)
                sharing = asyncio.create_task(share_demo_album(platform, seeded))
                sharing.add_done_callback(lambda task: task.exception())
            await roles[args.role](platform)

    try:
        uvloop.run(go())
    except KeyboardInterrupt:
        return 130
    return 0


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) != 0


if __name__ == "__main__":
    sys.exit(main())
