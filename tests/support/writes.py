"""Recording events through the real command path, and what the read side should then show."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from uuid import UUID, uuid4

from eventsourcing.application import Application

from commands.group_commit import GroupCommitter
from commands.organizations import OrganizationCommands

INVITATION_KEY = b"k" * 32
EVENTS_PER_CREATE = 2  # Created, then MemberAdded for the owner


def org_commands(committer: GroupCommitter) -> OrganizationCommands:
    return OrganizationCommands(committer, INVITATION_KEY, timedelta(days=7))


async def create_and_rename(
    app: Application[UUID], orgs: int, renames: int = 1
) -> dict[UUID, list[str]]:
    """``orgs`` studios, each renamed ``renames`` times by its owner; the names it had."""
    history: dict[UUID, list[str]] = {}
    owners: dict[UUID, UUID] = {}
    async with GroupCommitter(app) as committer:
        commands = org_commands(committer)
        people = [uuid4() for _ in range(orgs)]
        created = await asyncio.gather(
            *(commands.create(f"Studio {i}", actor_id=people[i]) for i in range(orgs))
        )
        for i, written in enumerate(created):
            history[written.aggregate_id] = [f"Studio {i}"]
            owners[written.aggregate_id] = people[i]
        for round_ in range(renames):
            await asyncio.gather(
                *(
                    commands.rename(org_id, f"{names[0]} r{round_ + 1}", actor_id=owners[org_id])
                    for org_id, names in history.items()
                )
            )
            for names in history.values():
                names.append(f"{names[0]} r{round_ + 1}")
    return history


def final_version(names: list[str]) -> int:
    return EVENTS_PER_CREATE + len(names) - 1


def expected_pairs(history: dict[UUID, list[str]]) -> set[tuple[str, int]]:
    return {
        (str(org), v) for org, names in history.items() for v in range(1, final_version(names) + 1)
    }
