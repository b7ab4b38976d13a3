"""Storage's adapters, assembled: which provider lists a folder, with which credentials.

Kept apart from ``bootstrap`` because both the API (to check a location when a folder is
registered) and the sync worker (to list it) need them.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

from eventsourcing.application import Application

from commands.providers import provider_credentials
from domains.errors import InvalidValue
from domains.folder import Folder
from domains.outbound import PrivateAllowance
from infra.cloud import (
    ProviderConfig,
    ProviderError,
    StorageProvider,
    check_location,
    make_provider,
)
from infra.cloud.backoff import Backoff
from infra.cloud.outbound import OutboundPolicy
from infra.settings import Settings


def provider_config(settings: Settings) -> ProviderConfig:
    return ProviderConfig(
        local_roots=tuple(settings.local_root_paths()),
        drive_api_url=settings.drive_api_url,
        google_token_uri=settings.google_token_uri,
        backoff=Backoff(),
        allowance=allowance(settings),
    )


def allowance(settings: Settings) -> PrivateAllowance:
    """The private hosts and networks the operator lets studio endpoints name."""
    return PrivateAllowance.parse(settings.allowed_private_list())


def outbound_policy(settings: Settings) -> OutboundPolicy:
    """What ``ProviderCommands`` checks a studio's endpoint with when it is saved."""
    return OutboundPolicy(allowance(settings))


class Locations:
    """Checks a folder's location when it is registered: a bad one is a 422 naming it."""

    def __init__(self, config: ProviderConfig) -> None:
        self._config = config

    async def check(self, provider: str, location: str) -> None:
        try:
            await asyncio.to_thread(check_location, provider, location, self._config)
        except ProviderError as refused:
            raise InvalidValue("location", refused.reason) from None


class Sources:
    """The provider that lists a folder, with its studio's credentials."""

    def __init__(self, config: ProviderConfig, providers: Application[UUID]) -> None:
        self._config = config
        self._providers = providers

    async def for_folder(self, folder: Folder) -> StorageProvider:
        credentials = None
        if folder.provider != "local":
            credentials = await asyncio.to_thread(
                provider_credentials, self._providers, folder.org_id, folder.provider
            )
        return make_provider(folder.provider, credentials, self._config)
