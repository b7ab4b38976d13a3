"""Storage providers behind one interface, and the factory the composition root calls.

``make_provider`` is given everything it needs (the studio's credentials, our settings): no
provider reads the environment or opens a connection before it is asked to list something.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from domains.outbound import NO_ALLOWANCE, PrivateAllowance
from infra.cloud.backoff import Backoff
from infra.cloud.base import (
    PAGE_SIZE,
    LocationRefused,
    NoChangeFeed,
    ProviderError,
    StorageProvider,
)
from infra.cloud.google_drive import (
    DRIVE_API_URL,
    GOOGLE_TOKEN_URI,
    GoogleDriveProvider,
    drive_credentials,
    drive_folder,
)
from infra.cloud.local import LocalProvider
from infra.cloud.s3 import S3Provider, s3_location

__all__ = [
    "KINDS",
    "Backoff",
    "LocationRefused",
    "NoChangeFeed",
    "ProviderConfig",
    "ProviderError",
    "StorageProvider",
    "check_location",
    "make_provider",
]

KINDS = ("local", "google_drive", "s3")


@dataclass(frozen=True)
class ProviderConfig:
    """The platform's own settings for providers (the studio's credentials come separately)."""

    local_roots: Sequence[Path] = ()
    drive_api_url: str = DRIVE_API_URL
    google_token_uri: str = GOOGLE_TOKEN_URI
    page_size: int = PAGE_SIZE
    backoff: Backoff = field(default_factory=Backoff)
    timeout_seconds: float = 60.0
    allowance: PrivateAllowance = NO_ALLOWANCE
    """Private hosts and networks a studio's own endpoint may name (see ``domains.outbound``)."""


def make_provider(
    kind: str, credentials: Mapping[str, str] | None, config: ProviderConfig
) -> StorageProvider:
    """The provider for ``kind``; ``credentials`` are the studio's settings for it (not local)."""
    if kind == "local":
        return LocalProvider(config.local_roots, page_size=config.page_size)
    if kind not in KINDS:
        raise ProviderError(kind, f"is not a storage provider (one of {', '.join(KINDS)})", False)
    if not credentials:
        raise ProviderError(kind, "the studio has no settings for this provider", False)
    if kind == "google_drive":
        return GoogleDriveProvider(
            drive_credentials(credentials, config.google_token_uri),
            api_url=config.drive_api_url,
            page_size=config.page_size,
            backoff=config.backoff,
            timeout=config.timeout_seconds,
        )
    return S3Provider(credentials, page_size=config.page_size, allowance=config.allowance)


def check_location(kind: str, location: str, config: ProviderConfig) -> str:
    """A location in canonical form, or ``LocationRefused`` (a 422): no credentials, no network.

    For ``local`` this resolves the path on disk (symlinks, ``..``): call it in a thread.
    """
    if kind == "local":
        return LocalProvider(config.local_roots).check_location(location)
    if kind == "google_drive":
        return drive_folder(location)
    if kind == "s3":
        return s3_location(location)
    raise LocationRefused(kind, location, f"names no provider (one of {', '.join(KINDS)})")
