"""The Provider context: a studio's provider credentials, stored encrypted.

Who may change them is checked by the route against the studio's roles; this service only
keeps one settings aggregate per studio and provider kind, and hands the decrypted credentials
to the adapters that call the providers (storage sync, the Sender), never to a route.

A setting that names an address the platform will call (S3's ``endpoint_url``) is checked
against the outbound rule before anything is recorded: the aggregate checks the URL as written,
and the ``EndpointCheck`` port also resolves its name, so a 422 comes at once rather than as a
failed sync later. The adapter that connects checks again (``infra.cloud.outbound``).
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application

from commands.group_commit import Batch, GroupCommitter, Written
from domains.errors import NotFound
from domains.outbound import PrivateAllowance
from domains.provider import ProviderSettings, check_credentials

ENDPOINT_FIELDS: dict[str, tuple[str, ...]] = {"s3": ("endpoint_url",)}
"""The settings, per kind, that name an address the platform connects to."""


class EndpointCheck(Protocol):
    """The outbound rule with name resolution (``infra.cloud.outbound.OutboundPolicy``)."""

    @property
    def allowance(self) -> PrivateAllowance: ...

    async def check(self, field: str, url: str) -> None:
        """Raise ``InvalidValue(field, ...)`` when the platform must not call ``url``."""
        ...


class ProviderApplication(Application[UUID]):
    """Events of the Provider context, stored encrypted in table ``providers_events``."""

    name = "Providers"


class ProviderCommands:
    def __init__(self, committer: GroupCommitter, endpoints: EndpointCheck) -> None:
        self._committer = committer
        self._endpoints = endpoints

    async def configure(
        self,
        org_id: UUID,
        kind: str,
        fields: dict[str, str],
        actor_id: UUID,
        expected_version: int | None = None,
    ) -> Written:
        settings_id = ProviderSettings.create_id(org_id, kind)
        allowance = self._endpoints.allowance
        check_credentials(kind, fields, allowance)  # the cheap checks first, without DNS
        for name in ENDPOINT_FIELDS.get(kind, ()):
            if name in fields:
                await self._endpoints.check(name, fields[name])

        def decide(batch: Batch) -> ProviderSettings:
            if batch.exists(settings_id) or expected_version is not None:
                settings = batch.get(ProviderSettings, settings_id, expected_version)
                settings.reconfigure(fields, actor_id, allowance)
                return settings
            return batch.add(ProviderSettings.configure(org_id, kind, fields, actor_id, allowance))

        return await self._committer.execute(decide)

    async def remove(
        self, org_id: UUID, kind: str, actor_id: UUID, expected_version: int | None = None
    ) -> Written:
        def decide(batch: Batch) -> ProviderSettings:
            settings_id = ProviderSettings.create_id(org_id, kind)
            settings = batch.get(ProviderSettings, settings_id, expected_version)
            if settings.removed:
                raise NotFound("ProviderSettings", kind)
            settings.remove(actor_id)
            return settings

        return await self._committer.execute(decide)


def provider_credentials(app: Application[UUID], org_id: UUID, kind: str) -> dict[str, str] | None:
    """Public and secret settings together, for a provider adapter (blocking)."""
    try:
        settings: ProviderSettings = app.repository.get(ProviderSettings.create_id(org_id, kind))
    except AggregateNotFoundError:
        return None
    return None if settings.removed else {**settings.public, **settings.credentials}
