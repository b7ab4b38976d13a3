"""The ``google_drive`` provider: a Drive folder, listed through Google's own client library.

``google-api-python-client`` builds the Drive v3 client from the discovery document it bundles
(no network needed for that), ``google-auth`` signs the requests with the studio's service
account or OAuth refresh token, and the API and token addresses are settings, so tests point
both at a local server that speaks the same protocol.

The library is blocking (httplib2), so each request runs in a worker thread (``drive_client``),
and the next page is requested while the caller is still storing the current one.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Mapping

import google.auth.credentials
import google.oauth2.credentials
import httplib2
from google.oauth2 import service_account
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build

from domains.files import Changes, FileInfo
from infra.cloud.backoff import Backoff
from infra.cloud.base import PAGE_SIZE, LocationRefused, ProviderError
from infra.cloud.drive_client import KIND, LIST_FIELDS, DriveClient, OrjsonModel
from infra.cloud.drive_tree import FolderTree, Walk

DRIVE_API_URL = "https://www.googleapis.com/drive/v3/"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPES = ("https://www.googleapis.com/auth/drive.readonly",)
CHANGE_FIELDS = (
    "nextPageToken,newStartPageToken,changes(fileId,removed,"
    f"file({LIST_FIELDS.removeprefix('nextPageToken,files(')})"
)
FOLDER_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")
"""Drive ids are URL-safe base64: checking them keeps quotes out of the ``q`` we build."""


def drive_credentials(
    fields: Mapping[str, str], token_uri: str = GOOGLE_TOKEN_URI
) -> google.auth.credentials.Credentials:
    """The studio's service account, or else its OAuth user grant, read-only on Drive.

    ``token_uri`` comes from our settings and overrides the one inside a service account's
    JSON: tokens are only ever requested where the platform's operator says.
    """
    try:
        if "service_account_json" in fields:
            info = {**json.loads(fields["service_account_json"]), "token_uri": token_uri}
            account: google.auth.credentials.Credentials = (
                service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
                    info, scopes=SCOPES
                )
            )
            return account
        return google.oauth2.credentials.Credentials(  # type: ignore[no-untyped-call]
            token=None,
            refresh_token=fields["refresh_token"],
            client_id=fields["client_id"],
            client_secret=fields["client_secret"],
            token_uri=token_uri,
            scopes=SCOPES,
        )
    except (KeyError, ValueError, TypeError) as error:
        reason = f"the Drive credentials are incomplete or malformed ({error})"
        raise ProviderError(KIND, reason, retryable=False) from None


def drive_folder(location: str) -> str:
    """A Drive folder id, checked: the ``q`` we build quotes it."""
    folder = location.strip()
    if not FOLDER_ID.fullmatch(folder):
        raise LocationRefused(KIND, location, "is not a Drive folder id")
    return folder


class GoogleDriveProvider:
    kind = KIND

    def __init__(
        self,
        credentials: google.auth.credentials.Credentials,
        api_url: str = DRIVE_API_URL,
        page_size: int = PAGE_SIZE,
        backoff: Backoff | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.credentials = credentials
        self.api_url = api_url
        self.page_size = page_size
        self.backoff = backoff or Backoff()
        self.timeout = timeout

    def check_location(self, location: str) -> str:
        return drive_folder(location)

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        folder = self.check_location(location)
        client = await self.client()
        await client.check_folder(folder)
        async for page in client.walk(Walk(FolderTree(folder))):
            yield page

    async def start_cursor(self, location: str) -> str | None:
        self.check_location(location)
        client = await self.client()
        answer = await client.call(
            client.service.changes().getStartPageToken(supportsAllDrives=True)
        )
        return str(answer["startPageToken"])

    async def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        """Changes below the folder, one Drive page at a time.

        The folder tree is listed first, as it is now, so each change can be placed: a file
        whose parent is in the tree is changed; one that is trashed or outside it is removed.
        A folder in the tree that appears in the feed (it arrived, moved or was renamed) has
        its files listed again, with their paths as they are now; a folder outside the tree
        (trashed, moved out) has everything below it removed. Since we cannot tell what used
        to be below the folder, removed ids may name files that never were: the catalogue
        ignores ids it does not know.
        """
        folder = self.check_location(location)
        client = await self.client()
        tree = FolderTree(folder)
        async for _ in client.walk(Walk(tree, folders_only=True)):
            pass
        token: str | None = cursor
        while token:
            answer = await client.call(
                client.service.changes().list(
                    pageToken=token,
                    pageSize=self.page_size,
                    fields=CHANGE_FIELDS,
                    includeRemoved=True,
                    supportsAllDrives=True,
                    includeItemsFromAllDrives=True,
                    spaces="drive",
                )
            )
            changed, removed = await client.apply(tree, answer.get("changes", []))
            token = answer.get("nextPageToken")
            yield Changes(
                changed=tuple(changed.values()),
                removed=tuple(removed),
                next_cursor=None if token else str(answer["newStartPageToken"]),
            )

    async def client(self) -> DriveClient:
        """A client of its own for each listing or read (``infra.originals``): an httplib2
        connection is not thread-safe."""
        http = AuthorizedHttp(self.credentials, http=httplib2.Http(timeout=self.timeout))
        service = await asyncio.to_thread(
            build,
            "drive",
            "v3",
            http=http,
            static_discovery=True,
            client_options={"api_endpoint": self.api_url},
            cache_discovery=False,
            model=OrjsonModel(),
        )
        return DriveClient(service, self.page_size, self.backoff)
