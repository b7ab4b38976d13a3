"""``python -m infra parked list|retry|drop``: see parked messages, replay them after a fix.

A replay hands the message to the same use case its worker would have run: a projection
applies it (skipping versions already applied) and drops the parking in one transaction; the
Sender handles it (its Delivery aggregate makes a second send impossible); the sync worker
starts the folder sync it asked for. A replay that fails again leaves the message parked, and
every later message of the same aggregate with it, so rows are never patched out of order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from broker import parking
from broker.envelope import Envelope, decode
from broker.topics import FOLDERS
from commands.storage import StorageCommands
from infra.bootstrap import Platform, render_service, sender_service
from projections.applier import apply_parked
from projections.registry import all_projections

Replay = Callable[[asyncpg.Connection, Envelope], Awaitable[object]]


@dataclass(frozen=True)
class RetryReport:
    replayed: int
    still_parked: int
    errors: list[str]


async def replayer(platform: Platform, worker: str) -> Replay:
    kind, _, name = worker.partition(":")
    if kind == "projector" and name in all_projections():
        projection = all_projections()[name]
        return lambda conn, envelope: apply_parked(conn, projection, [envelope])
    if worker == "sender":
        service = await sender_service(platform)
        return lambda _, envelope: service.handle(envelope)
    if worker == "sync":
        commands = StorageCommands(await platform.committer(FOLDERS.name))

        async def start_sync(_: asyncpg.Connection, envelope: Envelope) -> None:
            if envelope.type == "FullSyncStorage":
                folder_id = UUID(str(envelope.data["folder_id"]))
                actor = envelope.actor or f"album:{envelope.aggregate_id}"
                await commands.start_sync(folder_id, "full", actor, for_org=envelope.org_id)

        return start_sync
    if worker == "render":
        renders = await render_service(platform)

        async def render(_: asyncpg.Connection, envelope: Envelope) -> None:
            if envelope.type == "FolderFilesDiscovered" and envelope.org_id is not None:
                await renders.render_files(
                    envelope.aggregate_id, envelope.org_id, envelope.data["files"]
                )

        return render
    raise ValueError(f"no worker called {worker!r} parks messages")


async def retry(platform: Platform, parked_ids: Sequence[int] | None) -> RetryReport:
    """Replay the parked messages (all when ``parked_ids`` is None), oldest first."""
    async with platform.pool.acquire() as conn:
        chosen = [
            p
            for p in await parking.listing(conn)
            if parked_ids is None or p.parked_id in parked_ids
        ]
    replayers: dict[str, Replay] = {}
    blocked: set[tuple[str, UUID]] = set()
    replayed, errors = 0, []
    for parked in chosen:
        if parked.aggregate_id is not None and (parked.worker, parked.aggregate_id) in blocked:
            continue
        try:
            if parked.worker not in replayers:
                replayers[parked.worker] = await replayer(platform, parked.worker)
            envelope = decode(parked.message.value or b"")
            async with platform.pool.acquire() as conn, conn.transaction():
                await replayers[parked.worker](conn, envelope)
                await parking.drop(conn, [parked.parked_id])
        except Exception as error:
            errors.append(f"#{parked.parked_id} {parked.worker}: {parking.describe_error(error)}")
            if parked.aggregate_id is not None:
                blocked.add((parked.worker, parked.aggregate_id))
            continue
        replayed += 1
    return RetryReport(replayed, len(chosen) - replayed, errors)


def table(rows: Sequence[parking.Parked]) -> str:
    if not rows:
        return "nothing is parked"
    lines = [f"{'id':>6}  {'worker':<22} {'where':<44} {'aggregate / version':<44} error"]
    for p in rows:
        m = p.message
        where = f"{m.topic}[{m.partition}]@{m.offset}"
        aggregate = f"{p.aggregate_id} v{p.version}" if p.aggregate_id else "-"
        lines.append(f"{p.parked_id:>6}  {p.worker:<22} {where:<44} {aggregate:<44} {p.error}")
    return "\n".join(lines)
