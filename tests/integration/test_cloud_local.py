"""The local provider on real directories: recursion, EXIF, and confinement to the roots."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domains.files import IMAGE_TYPES, FileInfo
from infra.cloud import (
    LocationRefused,
    NoChangeFeed,
    ProviderConfig,
    check_location,
    make_provider,
)
from infra.cloud.base import MIME_BY_EXTENSION
from infra.cloud.local import LocalProvider
from infra.demo_photos import generate


async def listing(provider: LocalProvider, location: Path | str) -> list[list[FileInfo]]:
    return [page async for page in provider.pages(str(location))]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


def test_every_extension_maps_to_an_image_type() -> None:
    assert set(MIME_BY_EXTENSION.values()) <= IMAGE_TYPES


async def test_lists_demo_photos_recursively_with_exif(root: Path) -> None:
    shoot = root / "shoot"
    photos = generate(shoot, count=12)
    (shoot / "notes.txt").write_text("not a photo")
    (shoot / ".hidden.jpg").write_bytes(b"")
    (shoot / "broken.jpg").write_bytes(b"not really a jpeg")
    provider = LocalProvider([root], page_size=5)

    pages = await listing(provider, shoot)

    assert [len(page) for page in pages] == [5, 5, 3]
    files = {info.file_id: info for page in pages for info in page}
    assert set(files) == {str(p.relative_to(shoot)) for p in photos} | {"broken.jpg"}
    nested = files["details/demo-003.jpg"]
    assert (nested.name, nested.path, nested.mime_type) == ("demo-003.jpg", "details", "image/jpeg")
    stat = photos[2].stat()
    assert nested.checksum == f"{stat.st_size}-{stat.st_mtime_ns}"
    assert nested.size == stat.st_size
    assert (nested.width, nested.height) == (320, 213)
    assert (files["demo-004.jpg"].width, files["demo-004.jpg"].height) == (213, 320)
    assert files["demo-001.jpg"].taken_at is not None
    assert files["demo-001.jpg"].taken_at.tzinfo is UTC
    assert files["demo-001.jpg"].taken_at < files["demo-002.jpg"].taken_at  # type: ignore[operator]
    assert files["demo-001.jpg"].modified_at == files["demo-001.jpg"].taken_at
    assert (files["broken.jpg"].width, files["broken.jpg"].taken_at) == (None, None)


def test_demo_photos_are_deterministic_and_written_once(tmp_path: Path) -> None:
    first = generate(tmp_path / "a")
    again = generate(tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in again]
    stamps = [p.stat().st_mtime_ns for p in first]
    os.utime(first[0], ns=(1, 1))
    assert generate(tmp_path / "a") == first
    assert first[0].stat().st_mtime_ns == 1  # not rewritten
    assert [p.stat().st_mtime_ns for p in first[1:]] == stamps[1:]
    assert first[0].stat().st_mtime_ns != stamps[0]
    assert datetime.fromtimestamp(stamps[0] / 1e9, UTC).year == 2024


async def test_paths_outside_the_roots_are_refused(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    generate(outside, count=2)
    provider = LocalProvider([root])
    for location in (outside, root / ".." / "outside", "relative/path", "", root / "missing"):
        with pytest.raises(LocationRefused):
            await listing(provider, location)
    (root / "a").mkdir()
    assert provider.check_location(str(root / "a" / ".." / "a")) == str(root / "a")


async def test_symlinks_cannot_lead_out_of_the_roots(root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    photos = generate(outside, count=2)
    (root / "escape").symlink_to(outside, target_is_directory=True)
    shoot = root / "shoot"
    generate(shoot, count=1)
    (shoot / "linked-dir").symlink_to(outside, target_is_directory=True)
    (shoot / "linked-out.jpg").symlink_to(photos[0])
    (shoot / "linked-in.jpg").symlink_to(shoot / "demo-001.jpg")
    provider = LocalProvider([root])

    with pytest.raises(LocationRefused, match="outside"):
        await listing(provider, root / "escape")
    pages = await listing(provider, shoot)
    assert sorted(info.file_id for page in pages for info in page) == [
        "demo-001.jpg",
        "linked-in.jpg",
    ]


async def test_no_change_feed(root: Path) -> None:
    provider = make_provider("local", None, ProviderConfig(local_roots=[root]))
    assert await provider.start_cursor(str(root)) is None
    with pytest.raises(NoChangeFeed):
        await anext(provider.changes(str(root), "cursor"))


def test_locations_are_checked_without_credentials(root: Path) -> None:
    config = ProviderConfig(local_roots=[root])
    assert check_location("local", str(root), config) == str(root.resolve())
    assert check_location("google_drive", " 1AbC-d_9 ", config) == "1AbC-d_9"
    assert check_location("s3", "s3://photos/2024/", config) == "s3://photos/2024/"
    assert check_location("s3", "s3://photos", config) == "s3://photos/"
    for kind, location in [
        ("local", "/etc"),
        ("google_drive", "a' or 'b"),
        ("s3", "photos/2024"),
        ("ftp", "x"),
    ]:
        with pytest.raises(LocationRefused):
            check_location(kind, location, config)
