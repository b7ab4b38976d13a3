"""Recording events through the real command path, and what the read side should then show."""

from __future__ import annotations

import asyncio
from uuid import UUID

from eventsourcing.application import Application

from commands.group_commit import GroupCommitter
from commands.organizations import OrganizationCommands


async def create_and_rename(
    app: Application[UUID], orgs: int, renames: int = 1
) -> dict[UUID, list[str]]:
    """``orgs`` studios, each renamed ``renames`` times; the names each version gave it."""
    history: dict[UUID, list[str]] = {}
    async with GroupCommitter(app) as committer:
        commands = OrganizationCommands(committer)
        created = await asyncio.gather(
            *(commands.create(f"Studio {i}", actor="test") for i in range(orgs))
        )
        for i, written in enumerate(created):
            history[written.aggregate_id] = [f"Studio {i}"]
        for round_ in range(renames):
            await asyncio.gather(
                *(
                    commands.rename(org_id, f"{names[0]} r{round_ + 1}", actor="test")
                    for org_id, names in history.items()
                )
            )
            for names in history.values():
                names.append(f"{names[0]} r{round_ + 1}")
    return history


def expected_pairs(history: dict[UUID, list[str]]) -> set[tuple[str, int]]:
    return {(str(org), v) for org, names in history.items() for v in range(1, len(names) + 1)}
