"""``python -m infra ROLE``: run the platform, or one of its parts, or a maintenance command.

run                  everything below: in one process, or split into processes under one
                     supervisor (--processes split|auto, PHOTOFLOW_PROCESSES; ``make run``: auto)
api                  the HTTP API alone
relay                the relay alone (event store -> Kafka)
sender               the Sender: invitation and album mail
sync                 the storage sync worker
album-sync           the process manager that updates albums when their folder synced, and
                     the worker that snapshots large albums
render               the render worker: thumbnails and previews of synced photos
projector NAME       one projection worker; start several to share its partitions
projections          every projection worker, in one process
rebuild NAME         drop a projection's tables and replay it, with a progress bar
rotate-keys          add a JWT signing key (the older ones keep verifying)
parked list          messages a worker could not apply, with their errors
parked retry ID|all  replay parked messages after a fix (in order, per aggregate)
parked drop ID|all   forget parked messages (their rows stay as they are)
audit export STREAM ID   an aggregate's events with their hash chain and a signed head
audit verify FILE    check such an export against this installation's keys

Every role restarts its workers after a failure; the process ends on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import uvloop
from pydantic import ValidationError
from pydantic_settings import SettingsError

from broker import parking
from broker.topics import ALBUMS, DELIVERIES, FOLDERS, ORGS, PROVIDERS, planned_partitions
from infra import audit_export, keys, logs, parked, processes
from infra.bootstrap import (
    Platform,
    open_platform,
    run_album_sync_manager,
    run_everything,
    run_projector,
    run_relay,
    run_render_worker,
    run_sender,
    run_sync_worker,
    serve_api,
)
from infra.demo import seed_demo, share_demo_album
from infra.eventstore import events_table
from infra.gc_tuning import tune_gc
from infra.heartbeats import beat_forever
from infra.settings import Settings
from projections.rebuild import rebuild
from projections.registry import all_projections

# The event stores each worker role uses; a role not named here opens every store.
ROLE_STREAMS: dict[str, tuple[str, ...]] = {
    "projector": (),
    "projections": (),
    "rebuild": (),
    "sender": (DELIVERIES.name,),
    "sync": (FOLDERS.name, PROVIDERS.name),
    "render": (FOLDERS.name, PROVIDERS.name),
    "album-sync": (ALBUMS.name, FOLDERS.name, ORGS.name),
}


async def run_projections(platform: Platform) -> None:
    """Every projection worker in this process (each with its own consumer)."""
    await asyncio.gather(*(run_projector(platform, name) for name in all_projections()))


async def serve_api_process(platform: Platform, shared_port: bool) -> None:
    """The API; on a shared port (split mode) it binds its own SO_REUSEPORT socket, and its
    heartbeat makes it one of the ``api`` instances in health and metrics."""
    s = platform.settings
    sockets = [processes.shared_port_socket(s.http_host, s.http_port)] if shared_port else None

    async def status() -> dict[str, object]:
        return {"lag": None, "pid": os.getpid()}

    beat = asyncio.create_task(
        beat_forever(
            platform.redis,
            s.namespace,
            ("api", "api"),
            platform.instance,
            status,
            s.heartbeat_seconds,
        )
    )
    try:
        await serve_api(platform, sockets)
    finally:
        beat.cancel()
        await asyncio.gather(beat, return_exceptions=True)


async def _rebuild(platform: Platform, name: str) -> None:
    report = await rebuild(
        all_projections()[name],
        platform.pool,
        platform.settings.kafka_bootstrap,
        platform.settings.projection_batch_size,
        topic_prefix=platform.settings.topic_prefix,
        database_url=platform.settings.database_url,
    )
    print(
        f"rebuilt {report.projection}: {report.events} events "
        f"({report.applied} applied) in {report.seconds:.2f} s, {report.rate:,.0f} events/s, "
        f"{report.processes} process(es)"
    )


async def _export(platform: Platform, stream: str, aggregate_id: str) -> None:
    if stream not in platform.apps:
        raise SystemExit(f"no stream {stream!r}; streams: {', '.join(sorted(platform.apps))}")
    try:
        aggregate = UUID(aggregate_id)
    except ValueError:
        raise SystemExit(f"not an aggregate id: {aggregate_id!r}") from None
    signer = keys.key_ring(platform.keys_dir)[0]
    table = events_table(platform.apps[stream])
    async with platform.pool.acquire() as conn:
        lines = await audit_export.export_lines(conn, stream, table, aggregate, signer)
    if len(lines) < 2:  # the signed head alone: nothing was ever recorded under that id
        raise SystemExit(f"no {stream} aggregate {aggregate} here")
    print("\n".join(lines))


async def _parked(platform: Platform, action: str, ids: list[str]) -> None:
    chosen = None if ids in ([], ["all"]) else [int(i) for i in ids]
    if action == "list":
        async with platform.pool.acquire() as conn:
            print(parked.table(await parking.listing(conn)))
    elif action == "retry":
        report = await parked.retry(platform, chosen)
        print(f"replayed {report.replayed}, still parked {report.still_parked}")
        for error in report.errors:
            print(f"  {error}")
    else:
        if chosen is None and ids != ["all"]:
            raise SystemExit("parked drop needs message ids, or 'all'")
        async with platform.pool.acquire() as conn:
            rows = await parking.listing(conn)
            gone = await parking.drop(
                conn, [p.parked_id for p in rows if chosen is None or p.parked_id in chosen]
            )
        print(f"dropped {gone}")


def read_settings() -> Settings | str:
    """The settings, or what is wrong with them in one line naming each environment variable.

    Read once here, before any process starts, so a wrong value stops the start with its
    name instead of every child process failing (and being restarted) with a traceback.
    """
    try:
        settings = Settings()
    except ValidationError as error:
        return "; ".join(
            f"PHOTOFLOW_{str(e['loc'][0]).upper()}: {e['msg']}" if e["loc"] else str(e["msg"])
            for e in error.errors()
        )
    except SettingsError as error:  # a value that is not the JSON its setting takes
        field = re.search(r'field "(\w+)"', str(error))
        name = f"PHOTOFLOW_{field.group(1).upper()}" if field else "a PHOTOFLOW_ setting"
        return f"{name}: not valid JSON ({error.__cause__ or error})"
    try:
        planned_partitions(settings.kafka_partitions, settings.topic_partitions)
    except ValueError as error:
        return str(error)
    return settings


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
        "render",
        "projector",
        "projections",
        "rebuild",
        "rotate-keys",
        "parked",
        "audit",
    ]
    parser.add_argument("role", choices=roles_named)
    parser.add_argument(
        "name", nargs="?", help="the projection (projector, rebuild); list|retry|drop (parked)"
    )
    parser.add_argument("ids", nargs="*", help="parked: message ids, or 'all'")
    parser.add_argument(
        "--processes",
        choices=["single", "split", "auto"],
        help="run: one process, or API_WORKERS API processes and one per worker "
        "(default: PHOTOFLOW_PROCESSES, single; auto splits on two cores or more)",
    )
    parser.add_argument(
        "--api-workers",
        type=int,
        help="run --processes split: API processes (default: PHOTOFLOW_API_WORKERS, one per core)",
    )
    parser.add_argument(
        "--shared-port",
        action="store_true",
        help="api: bind the port with SO_REUSEPORT, beside the other API processes (split mode)",
    )
    args = parser.parse_args(argv)
    if args.role == "parked" and args.name not in ("list", "retry", "drop"):
        parser.error("parked needs list, retry or drop")
    if args.role == "audit" and not (
        (args.name == "export" and len(args.ids) == 2) or (args.name == "verify" and args.ids)
    ):
        parser.error("audit export STREAM ID, or audit verify FILE")
    if args.role == "audit" and args.name == "verify":
        if not Path(args.ids[0]).is_file():
            print(f"problem: no file {args.ids[0]}", file=sys.stderr)
            return 1
        checked = audit_export.check(
            audit_export.read_lines(Path(args.ids[0])),
            audit_export.local_jwks(Path(Settings().keys_dir)),
        )
        print("ok" if checked.ok else f"problem: {checked.problem}", f"({checked.length} events)")
        return 0 if checked.ok else 1
    projections = sorted(all_projections())
    if args.role in ("projector", "rebuild") and args.name not in projections:
        parser.error(f"{args.role} needs a projection name: one of {', '.join(projections)}")
    if args.role == "rotate-keys":
        newest = keys.rotate(Path(Settings().keys_dir))
        print(
            f"new signing key {newest.kid}: running API processes sign with it within a second "
            "(tokens signed with older keys stay valid)"
        )
        return 0
    logs.configure()

    roles: dict[str, Callable[[Platform], Awaitable[None]]] = {
        "run": run_everything,
        "api": lambda p: serve_api_process(p, args.shared_port),
        "relay": run_relay,
        "sender": run_sender,
        "sync": run_sync_worker,
        "album-sync": run_album_sync_manager,
        "render": run_render_worker,
        "projector": lambda p: run_projector(p, args.name),
        "projections": run_projections,
        "rebuild": lambda p: _rebuild(p, args.name),
        "parked": lambda p: _parked(p, args.name, args.ids),
        "audit": lambda p: _export(p, args.ids[0], args.ids[1]),
    }

    found = read_settings()
    if isinstance(found, str):
        print(f"python -m infra: {found}", file=sys.stderr)
        return 2
    settings = found
    shared_port = args.role == "api" and args.shared_port
    if (
        args.role in ("run", "api")
        and not shared_port
        and not _port_free(settings.http_host, settings.http_port)
    ):
        print(
            f"PhotoFlow (or something else) already listens on "
            f"{settings.http_host}:{settings.http_port}; set PHOTOFLOW_HTTP_PORT to run another",
            file=sys.stderr,
        )
        return 1
    cores = os.cpu_count()
    if (
        args.role == "run"
        and processes.shape(args.processes or settings.processes, cores) == "split"
    ):
        processes.exec_supervisor(args.api_workers or settings.api_workers)

    async def go() -> None:
        main_task = asyncio.current_task()
        assert main_task is not None
        loop = asyncio.get_running_loop()

        def stop() -> None:
            main_task.cancel()
            # Everything is recorded before it is acknowledged, so a shutdown that hangs (a
            # client library that never returns) may be cut short without losing anything.
            loop.call_later(SHUTDOWN_SECONDS, _exit_now)

        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop)

        async with open_platform(settings, ROLE_STREAMS.get(args.role)) as platform:
            tune_gc()
            if args.role == "run" or (args.role == "api" and not shared_port):
                s = platform.settings
                print(f"PhotoFlow API on http://{s.http_host}:{s.http_port}/api/health", flush=True)
            if args.role in ("run", "api") and settings.demo:
                seeded = await seed_demo(platform)
                sharing = asyncio.create_task(share_demo_album(platform, seeded))
                sharing.add_done_callback(lambda task: task.exception())
            await roles[args.role](platform)

    try:
        uvloop.run(go())
    except (KeyboardInterrupt, asyncio.CancelledError):
        if args.role in ONE_SHOT_ROLES:  # stopped before its end: not a success
            print(
                f"{args.role}: stopped before it finished. {UNFINISHED[args.role]}", file=sys.stderr
            )
            return 130
        return 0  # stopped by SIGTERM or SIGINT, after every role shut down
    except Exception as error:
        if args.role not in ONE_SHOT_ROLES:
            raise
        # a maintenance command says in one line what stopped it (a server that does not
        # answer, say); the long-running roles keep their tracebacks for the logs
        print(f"{args.role}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


ONE_SHOT_ROLES = frozenset({"rebuild", "parked", "audit"})
UNFINISHED = {
    "rebuild": "The projection's tables hold only part of its events until a rebuild runs to "
    "the end: run it again.",
    "parked": "Messages replayed before the stop stay replayed; the others stay parked.",
    "audit": "Its output is incomplete: run it again.",
}


SHUTDOWN_SECONDS = 15.0


def _exit_now() -> None:
    logging.getLogger(__name__).warning(
        "still stopping after %.0f s; exiting without waiting further", SHUTDOWN_SECONDS
    )
    logging.shutdown()
    os._exit(0)


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex((host, port)) != 0


if __name__ == "__main__":
    sys.exit(main())
