"""The Drive provider: google-api-python-client and google-auth against our Drive server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domains.files import Changes, FileInfo
from infra.cloud import Backoff, LocationRefused, ProviderConfig, ProviderError, make_provider
from infra.cloud.google_drive import GoogleDriveProvider
from tests.support.drive_server import DriveServer, drive_server


@pytest.fixture
def drive() -> Iterator[DriveServer]:
    with drive_server() as server:
        yield server


class Sleeps:
    """Records the backoff's delays instead of waiting them out."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def provider(
    drive: DriveServer, page_size: int = 1000, backoff: Backoff | None = None
) -> GoogleDriveProvider:
    return GoogleDriveProvider(
        drive.service_account(),
        api_url=drive.api_endpoint,
        page_size=page_size,
        backoff=backoff or Backoff(sleep=Sleeps()),
    )


async def listing(source: GoogleDriveProvider, folder: str) -> list[list[FileInfo]]:
    return [page async for page in source.pages(folder)]


async def all_changes(source: GoogleDriveProvider, folder: str, cursor: str) -> list[Changes]:
    return [page async for page in source.changes(folder, cursor)]


async def test_lists_every_image_below_the_folder_in_pages_of_1000(drive: DriveServer) -> None:
    store = drive.store
    top = store.add_images(2500, parent=store.add_folder("Wedding"))
    ceremony = store.add_folder("Ceremony", top)
    rings = store.add_file(
        "rings.jpg", store.add_folder("Rings", ceremony), size=42, taken="2024:06:01 15:30:00"
    )
    store.add_file("vows.png", ceremony, mime_type="image/png")
    store.add_file("contract.pdf", ceremony, mime_type="application/pdf")
    store.add_file("icon.gif", ceremony, mime_type="image/gif")
    store.trash(store.add_file("blurry.jpg", ceremony))
    bin_folder = store.add_folder("Rejects", top)
    store.add_file("reject.jpg", bin_folder)
    store.trash(bin_folder)
    store.add_file("elsewhere.jpg", store.add_folder("Other shoot"))

    pages = await listing(provider(drive), top)

    files = {info.name: info for page in pages for info in page}
    assert len(files) == 2502
    assert [len(page) for page in pages[:2]] == [1000, 1000]
    assert files["vows.png"].path == "Ceremony"
    found = files["rings.jpg"]
    assert (found.file_id, found.path, found.size) == (rings, "Ceremony/Rings", 42)
    assert (found.width, found.height) == (6000, 4000)
    assert found.taken_at == datetime(2024, 6, 1, 15, 30, tzinfo=UTC)
    assert found.checksum == store.items[rings]["md5Checksum"]
    assert files["IMG_000001.jpg"].path == ""
    lists = drive.calls_to("files")
    assert all(call.params["pageSize"] == "1000" for call in lists)
    assert all("nextPageToken" in call.params["fields"] for call in lists)
    assert sum("pageToken" in call.params for call in lists) == 2  # the top folder's 3 pages
    assert len(lists) == 5  # Wedding x3, then Ceremony and Rejects together, then Rings


async def test_rotated_photos_report_their_displayed_size(drive: DriveServer) -> None:
    top = drive.store.add_folder("Portraits")
    drive.store.add_file("tall.jpg", top, width=6000, height=4000, rotation=1)
    [[info]] = await listing(provider(drive), top)
    assert (info.width, info.height) == (4000, 6000)


async def test_many_small_folders_cost_few_requests(drive: DriveServer) -> None:
    top = drive.store.add_images(30_000, parent=drive.store.add_folder("Archive"), per_folder=100)
    pages = await listing(provider(drive), top)
    assert sum(map(len, pages)) == 30_000
    assert {info.path for page in pages for info in page} == {f"set-{n:04d}" for n in range(1, 301)}
    assert len(drive.calls_to("files")) < 60  # 300 folders, asked about 20 at a time


async def test_the_next_page_is_requested_while_the_caller_works(drive: DriveServer) -> None:
    top = drive.store.add_images(2500, parent=drive.store.add_folder("Wedding"))
    pages = provider(drive).pages(top)
    await anext(pages)
    deadline = time.monotonic() + 5
    while len(drive.calls_to("files")) < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert len(drive.calls_to("files")) == 2
    assert [len(page) async for page in pages] == [1000, 500]


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (429, "rateLimitExceeded"),
        (503, "backendError"),
        (500, "backendError"),
        (403, "rateLimitExceeded"),
        (403, "userRateLimitExceeded"),
    ],
)
async def test_rate_limits_and_server_errors_are_retried(
    drive: DriveServer, status: int, reason: str
) -> None:
    top = drive.store.add_images(1500, parent=drive.store.add_folder("Wedding"))
    sleeps = Sleeps()
    source = provider(
        drive, backoff=Backoff(base=0.5, cap=3, jitter=lambda ceiling: ceiling, sleep=sleeps)
    )
    pages = source.pages(top)
    first = await anext(pages)
    drive.fail_next(4, status, reason)
    rest = [page async for page in pages]
    assert len(first) + sum(map(len, rest)) == 1500
    assert sleeps.delays == [0.5, 1.0, 2.0, 3.0]  # doubling, then capped
    answered = [call.status for call in drive.calls if call.path != "/token"]
    assert answered.count(status) == 4


async def test_full_jitter_stays_under_the_ceiling(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    drive.store.add_file("a.jpg", top)
    sleeps = Sleeps()
    backoff = Backoff(base=1, cap=8, max_retries=6, sleep=sleeps)
    drive.fail_next(6, 429)
    await listing(provider(drive, backoff=backoff), top)
    assert len(sleeps.delays) == 6
    assert all(0 <= d <= backoff.ceiling(n) for n, d in enumerate(sleeps.delays))
    assert [backoff.ceiling(n) for n in range(6)] == [1, 2, 4, 8, 8, 8]


async def test_gives_up_after_the_last_retry_with_a_retryable_error(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    drive.fail_next(10, 503)
    source = provider(drive, backoff=Backoff(max_retries=3, sleep=Sleeps()))
    with pytest.raises(ProviderError) as caught:
        await listing(source, top)
    assert caught.value.retryable
    assert "503" in caught.value.reason and "gave up after 3 retries" in caught.value.reason
    assert len([call for call in drive.calls if call.path != "/token"]) == 4


async def test_other_refusals_are_not_retried(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    drive.fail_next(1, 403, "insufficientFilePermissions")
    sleeps = Sleeps()
    with pytest.raises(ProviderError) as caught:
        await listing(provider(drive, backoff=Backoff(sleep=sleeps)), top)
    assert not caught.value.retryable
    assert sleeps.delays == []


async def test_unknown_folders_and_malformed_ids_are_refused(drive: DriveServer) -> None:
    with pytest.raises(ProviderError, match="not found") as caught:
        await listing(provider(drive), "1NoSuchFolder")
    assert not caught.value.retryable
    with pytest.raises(LocationRefused):
        await listing(provider(drive), "x' in parents or '1")


async def test_oauth_user_credentials_go_through_the_token_endpoint(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    drive.store.add_file("a.jpg", top)
    config = ProviderConfig(drive_api_url=drive.api_endpoint, google_token_uri=drive.token_uri)
    source = make_provider("google_drive", drive.user_settings(), config)
    assert [[info.name for info in page] async for page in source.pages(top)] == [["a.jpg"]]
    wrong = make_provider("google_drive", {**drive.user_settings(), "refresh_token": "x"}, config)
    with pytest.raises(ProviderError, match="credentials were refused") as caught:
        await anext(wrong.pages(top))
    assert not caught.value.retryable


async def test_an_expired_token_is_refreshed(drive: DriveServer) -> None:
    top = drive.store.add_folder("Wedding")
    drive.store.add_file("a.jpg", top)
    source = provider(drive)
    await listing(source, top)
    drive.revoke_tokens()
    assert len(await listing(source, top)) == 1
    assert [call.status for call in drive.calls if call.path == "/token"] == [200, 200]


async def test_changes_follow_the_folder(drive: DriveServer) -> None:
    store = drive.store
    top = store.add_folder("Wedding")
    kept, edited, renamed, leaving, deleted, trashed = (
        store.add_file(f"{name}.jpg", top)
        for name in ("kept", "edited", "renamed", "leaving", "deleted", "trashed")
    )
    party = store.add_folder("Party", top)
    dancing = store.add_file("dancing.jpg", party)
    gone = store.add_folder("Gone", top)
    lost = store.add_file("lost.jpg", store.add_folder("Deeper", gone))
    other = store.add_folder("Other shoot")
    arriving = store.add_file("arriving.jpg", other)
    moving_in = store.add_folder("Borrowed", other)
    borrowed = store.add_file("borrowed.jpg", store.add_folder("Inner", moving_in))
    moving_out = store.add_folder("Lent", top)
    lent = store.add_file("lent.jpg", moving_out)
    source = provider(drive, page_size=3)
    cursor = await source.start_cursor(top)
    assert cursor is not None

    added = store.add_file("added.jpg", top)
    store.change_content(edited)
    store.rename(renamed, "renamed-2.jpg")
    store.move(leaving, other)
    store.move(arriving, top)
    store.delete(deleted)
    store.trash(trashed)
    store.rename(party, "After party")
    store.trash(gone)
    store.move(moving_in, top)
    store.move(moving_out, other)
    store.add_file("notes.pdf", top, mime_type="application/pdf")
    store.add_file("unrelated.jpg", other)
    late = store.add_folder("Late", top)
    late_photo = store.add_file("late.jpg", late)

    pages = await all_changes(source, top, cursor)

    assert [page.next_cursor for page in pages[:-1]] == [None] * (len(pages) - 1)
    assert pages[-1].next_cursor == str(len(store.log))
    changed = {info.file_id: info for page in pages for info in page.changed}
    removed = {file_id for page in pages for file_id in page.removed}
    assert set(changed) == {added, edited, renamed, arriving, dancing, late_photo, borrowed}
    assert changed[edited].checksum == store.items[edited]["md5Checksum"]
    assert changed[renamed].name == "renamed-2.jpg"
    assert changed[dancing].path == "After party"
    assert changed[late_photo].path == "Late"
    assert changed[borrowed].path == "Borrowed/Inner"
    assert {leaving, deleted, trashed, lost, lent} <= removed
    assert kept not in removed and not removed & set(changed)

    assert await all_changes(source, top, str(pages[-1].next_cursor)) == [
        Changes(changed=(), removed=(), next_cursor=pages[-1].next_cursor)
    ]


async def test_deleted_folders_and_a_trashed_top_take_their_photos_along(
    drive: DriveServer,
) -> None:
    store = drive.store
    top = store.add_folder("Wedding")
    kept = store.add_file("kept.jpg", top)
    doomed = store.add_folder("Doomed", top)
    inside = store.add_file("inside.jpg", doomed)
    source = provider(drive)
    cursor = await source.start_cursor(top)
    assert cursor is not None
    store.delete(doomed)
    [page] = await all_changes(source, top, cursor)
    assert page.changed == () and {doomed, inside} <= set(page.removed)

    store.trash(top)
    [page] = await all_changes(source, top, str(page.next_cursor))
    assert page.changed == () and kept in page.removed
