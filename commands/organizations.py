"""The Organization context's application: its event store and its use cases."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.organization import Organization


class OrganizationApplication(Application[UUID]):
    """Events of the Organization context, stored in table ``organizations_events``."""

    name = "Organizations"


class OrganizationCommands:
    """Use cases on studios. Each returns what it wrote; the HTTP layer turns that into a token."""

    def __init__(self, committer: GroupCommitter) -> None:
        self._committer = committer

    async def create(self, name: str, actor: str) -> Written:
        def decide(batch: Batch) -> Organization:
            return batch.add(Organization.create(name=name, actor=actor))

        return await self._committer.execute(decide)

    async def rename(
        self, org_id: UUID, name: str, actor: str, expected_version: int | None = None
    ) -> Written:
        def decide(batch: Batch) -> Organization:
            org = batch.get(Organization, org_id, expected_version)
            org.rename(name=name, actor=actor)
            return org

        return await self._committer.execute(decide)
