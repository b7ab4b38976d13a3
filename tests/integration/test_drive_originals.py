"""Google Drive originals, read through the real client library from our Drive v3 server.

Whole and by ranges (each chunk a ranged ``alt=media`` request), the errors in our terms (a
missing file is final, an absent Drive an outage the render worker waits out), and the render
use case making a synced Drive folder's thumbnails and previews through the platform's wiring.
"""

from __future__ import annotations

import io
import socket
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httplib2
import pytest
from google_auth_httplib2 import AuthorizedHttp
from PIL import Image

from bench.rendition_files import make_jpeg
from broker.topics import FOLDERS, PROVIDERS
from commands.folder_sync import FolderSync
from commands.group_commit import GroupCommitter
from commands.providers import ProviderCommands
from commands.storage import StorageCommands
from domains.folder import Folder
from domains.outbound import PrivateAllowance
from domains.rendition import KINDS, PREVIEW, THUMBNAIL
from infra.bootstrap import Platform, open_platform, render_service
from infra.cloud.backoff import Backoff
from infra.cloud.base import ProviderError
from infra.originals import FolderPlace, Original, Originals, ProviderUnavailable
from infra.outages import is_outage
from infra.rendition_store import rendition_store
from infra.storage_wiring import Sources, outbound_policy, provider_config
from tests.support.drive_server import DriveServer, drive_server
from tests.support.world import World

CHUNK = 64 * 1024


@pytest.fixture
def drive() -> Iterator[DriveServer]:
    with drive_server() as server:
        yield server


async def no_wait(_: float) -> None:
    return None


def originals_of(
    drive: DriveServer, fields: Mapping[str, str] | None = None, retries: int = 2
) -> Originals:
    settings = dict(drive.service_account_settings() if fields is None else fields)

    async def credentials(_: uuid.UUID, kind: str) -> dict[str, str] | None:
        return settings if kind == "google_drive" and settings else None

    return Originals(
        [],
        credentials,
        drive_api_url=drive.api_endpoint,
        google_token_uri=drive.token_uri,
        drive_backoff=Backoff(max_retries=retries, sleep=no_wait),
        drive_chunk=CHUNK,
    )


def photo(tmp_path: Path, seed: int, size: tuple[int, int] = (1200, 800)) -> bytes:
    path = tmp_path / f"photo-{seed}.jpg"
    make_jpeg(path, size, seed)
    return path.read_bytes()


async def collect(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


def media_calls(drive: DriveServer, file_id: str) -> list[str | None]:
    return [c.range for c in drive.calls_to(f"files/{file_id}") if c.params.get("alt") == "media"]


async def test_an_original_reads_whole_and_by_ranges_one_chunk_per_request(
    drive: DriveServer, tmp_path: Path
) -> None:
    data = photo(tmp_path, 1)
    assert len(data) > 3 * CHUNK, "a photo of several chunks"
    top = drive.store.add_folder("Wedding")
    file_id = drive.store.add_file("a.jpg", top, content=data)
    place = FolderPlace("google_drive", top, uuid.uuid4())

    original = await originals_of(drive).open(place, file_id)
    assert (original.size, original.path) == (len(data), None)
    assert await original.read() == data
    chunks = await collect(original.chunks())
    assert max(len(c) for c in chunks) == CHUNK and len(chunks) == -(-len(data) // CHUNK)
    assert media_calls(drive, file_id)[-1] == f"bytes={(len(chunks) - 1) * CHUNK}-{len(data) - 1}"

    for start, end in [(0, 1), (10, CHUNK + 10), (CHUNK, 2 * CHUNK), (len(data) - 7, None)]:
        assert b"".join(await collect(original.chunks(start, end))) == data[start:end]
    before = len(media_calls(drive, file_id))
    assert await collect(original.chunks(5, 5)) == []
    assert await collect(original.chunks(len(data), len(data) + 10)) == []
    assert len(media_calls(drive, file_id)) == before, "an empty range asks Drive nothing"
    ranged = await collect(original.chunks(100, 100 + 2 * CHUNK + 1))
    assert [len(c) for c in ranged] == [CHUNK, CHUNK, 1], "held a chunk at a time"
    assert media_calls(drive, file_id)[-3:] == [
        f"bytes=100-{100 + CHUNK - 1}",
        f"bytes={100 + CHUNK}-{100 + 2 * CHUNK - 1}",
        f"bytes={100 + 2 * CHUNK}-{100 + 2 * CHUNK}",
    ]
    calls = drive.calls_to(f"files/{file_id}")
    size_calls = [c for c in calls if c.params.get("alt") != "media"]
    assert [c.params.get("fields") for c in size_calls] == ["size,mimeType"]


async def test_the_test_drive_answers_ranges_as_drive_does(drive: DriveServer) -> None:
    """206 with Content-Range, 416 past the end, the whole file without a Range."""
    file_id = drive.store.add_file("a.jpg", content=b"0123456789")
    http = AuthorizedHttp(drive.service_account(), http=httplib2.Http())
    url = f"{drive.api_endpoint}files/{file_id}?alt=media"

    def get(wanted: str | None) -> tuple[int, bytes, str | None]:
        headers = {"range": wanted} if wanted else {}
        response, body = http.request(url, headers=headers)
        return response.status, body, response.get("content-range")

    assert get(None) == (200, b"0123456789", None)
    assert get("bytes=2-4") == (206, b"234", "bytes 2-4/10")
    assert get("bytes=7-") == (206, b"789", "bytes 7-9/10")
    assert get("bytes=-3") == (206, b"789", "bytes 7-9/10")
    assert get("bytes=8-100") == (206, b"89", "bytes 8-9/10")
    assert get("bytes=10-12")[::2] == (416, "bytes */10")
    folder = drive.store.add_folder("Wedding")
    assert get(None)[0] == 200 and http.request(url.replace(file_id, folder))[0].status == 403
    made_up = drive.store.add_file("b.jpg", size=1000)
    assert len(drive.store.content(made_up)) == 1000
    drive.store.set_content(file_id, b"new")
    assert drive.store.items[file_id]["size"] == "3" and get(None)[1] == b"new"


async def test_a_missing_file_is_final_and_an_absent_drive_an_outage(
    drive: DriveServer, tmp_path: Path
) -> None:
    top = drive.store.add_folder("Wedding")
    file_id = drive.store.add_file("a.jpg", top, content=photo(tmp_path, 2, (400, 300)))
    place = FolderPlace("google_drive", top, uuid.uuid4())
    originals = originals_of(drive)

    with pytest.raises(ProviderError) as missing:
        await originals.open(place, "1NoSuchFile")
    assert not missing.value.retryable and not is_outage(missing.value)
    assert "not found" in missing.value.reason

    drive.fail_next(3, 503)  # the first try and both retries
    with pytest.raises(ProviderUnavailable) as away:
        await originals.open(place, file_id)
    assert away.value.retryable and is_outage(away.value), "waited out, never parked"
    assert "503" in away.value.reason

    drive.fail_next(2, 503)  # within the client's own retries: nobody sees it
    original = await originals.open(place, file_id)
    drive.fail_next(2, 429)
    assert await original.read() == drive.store.content(file_id)

    drive.fail_next(3, 502)  # mid-read, past the retries: an outage too
    with pytest.raises(ProviderUnavailable):
        await original.read()

    drive.store.delete(file_id)  # gone between open and read: final
    with pytest.raises(ProviderError) as gone:
        await original.read()
    assert not gone.value.retryable and not is_outage(gone.value)


async def test_what_has_no_bytes_or_no_settings_is_refused_and_never_retried(
    drive: DriveServer,
) -> None:
    top = drive.store.add_folder("Wedding")
    place = FolderPlace("google_drive", top, uuid.uuid4())
    file_id = drive.store.add_file("a.jpg", top, content=b"\xff\xd8 not much")
    sub = drive.store.add_folder("Inside", top)
    refusals: list[ProviderError] = []
    for originals, target in [
        (originals_of(drive), sub),  # a folder has no content
        (originals_of(drive), "x' or '1"),  # never a Drive id: no request is made
        (originals_of(drive, {}), file_id),  # the studio has no Drive settings
        (originals_of(drive, {**drive.user_settings(), "refresh_token": "x"}), file_id),
    ]:
        with pytest.raises(ProviderError) as caught:
            await originals.open(place, target)
        refusals.append(caught.value)
    assert [r.retryable or is_outage(r) for r in refusals] == [False] * 4
    assert "no content" in refusals[0].reason and "credentials" in refusals[3].reason

    drive.fail_next(1, 403, "insufficientFilePermissions")
    with pytest.raises(ProviderError) as forbidden:
        await originals_of(drive).open(place, file_id)
    assert not forbidden.value.retryable and not is_outage(forbidden.value)


async def test_one_token_serves_every_file_of_a_studio(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    place = FolderPlace("google_drive", top, uuid.uuid4())
    originals = originals_of(drive, drive.user_settings())
    for number in range(3):
        file_id = drive.store.add_file(f"{number}.jpg", top, content=bytes([number]) * 10)
        original: Original = await originals.open(place, file_id)
        assert await original.read() == bytes([number]) * 10
    assert len([c for c in drive.calls if c.path == "/token"]) == 1


# the render use case ------------------------------------------------------------------------


@pytest.fixture
async def drive_platform(
    world: World, drive: DriveServer, tmp_path: Path
) -> AsyncIterator[Platform]:
    """The platform with the Drive API and token addresses of our Drive server."""
    settings = world.settings.model_copy(
        update={
            "drive_api_url": drive.api_endpoint,
            "google_token_uri": drive.token_uri,
            "renditions_dir": str(tmp_path / "renditions"),
        }
    )
    async with open_platform(settings) as platform:
        yield platform


async def synced_drive_folder(platform: Platform, drive: DriveServer, top: str) -> Folder:
    """A studio with Drive settings and a folder of ``top``, synced as the sync worker does."""
    org_id, actor = uuid.uuid4(), uuid.uuid4()
    async with GroupCommitter(platform.apps[PROVIDERS.name]) as committer:
        providers = ProviderCommands(committer, outbound_policy(platform.settings))
        await providers.configure(org_id, "google_drive", drive.service_account_settings(), actor)
    async with GroupCommitter(platform.apps[FOLDERS.name]) as committer:
        storage = StorageCommands(committer)
        written = await storage.register(org_id, "google_drive", top, "Drive", actor)
        await storage.start_sync(written.aggregate_id, "full", actor="test")
    sources = Sources(provider_config(platform.settings), platform.apps[PROVIDERS.name])
    assert await FolderSync(platform.apps[FOLDERS.name], sources.for_folder).run(
        written.aggregate_id
    )
    folder: Folder = platform.apps[FOLDERS.name].repository.get(written.aggregate_id)
    return folder


async def test_the_render_use_case_renders_a_drive_folder(
    drive_platform: Platform, drive: DriveServer, tmp_path: Path
) -> None:
    top = drive.store.add_folder("Wedding")
    drive.store.add_file("wide.jpg", top, content=photo(tmp_path, 3, (1600, 1000)))
    drive.store.add_file("tall.jpg", top, content=photo(tmp_path, 4, (1000, 1600)))
    drive.store.add_file("broken.jpg", top, content=b"not a jpeg at all" * 100)
    folder = await synced_drive_folder(drive_platform, drive, top)
    events = list(drive_platform.apps[FOLDERS.name].events.get(folder.id))
    files: list[dict[str, Any]] = [
        record
        for event in events
        if isinstance(event, Folder.FilesDiscovered)
        for record in event.files
    ]
    assert sorted(f["name"] for f in files) == ["broken.jpg", "tall.jpg", "wide.jpg"]

    service = await render_service(drive_platform)
    try:
        await service.render_files(folder.id, folder.org_id, files)
    finally:
        service.close()
    assert (service.rendered, service.failed) == (2, 1), "the broken file is recorded as failed"
    store = rendition_store(drive_platform.settings)
    sizes = {}
    for file in files:
        if file["name"] == "broken.jpg":
            continue
        thumbnail = await store.read(file["checksum"], THUMBNAIL)
        assert thumbnail is not None and await store.read(file["checksum"], PREVIEW) is not None
        with Image.open(io.BytesIO(thumbnail)) as image:
            sizes[file["name"]] = image.size
    assert sizes == {"wide.jpg": (KINDS[THUMBNAIL], 250), "tall.jpg": (250, KINDS[THUMBNAIL])}
    media = [c for c in drive.calls if c.params.get("alt") == "media"]
    assert media and all(c.status == 206 for c in media), "read by ranged requests"


async def test_an_s3_endpoint_that_does_not_answer_is_an_outage_too() -> None:
    """Same rule for S3: before, a head that got no answer was recorded as the file's failure."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed once the block ends: nothing listens there
    fields = {
        "access_key_id": "test",
        "secret_access_key": "test",
        "region": "us-east-1",
        "endpoint_url": f"http://127.0.0.1:{port}",
    }

    async def credentials(_: uuid.UUID, kind: str) -> dict[str, str] | None:
        return fields if kind == "s3" else None

    originals = Originals([], credentials, PrivateAllowance.parse(["127.0.0.1"]))
    place = FolderPlace("s3", "s3://shoots/wedding/", uuid.uuid4())
    with pytest.raises(ProviderUnavailable) as caught:
        await originals.open(place, "wedding/a.jpg")
    assert caught.value.retryable and is_outage(caught.value)
