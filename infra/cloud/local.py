"""The ``local`` provider: a directory on this machine, confined to the configured roots.

A location is resolved (``..`` and every symlink) before it is checked against the roots, so a
path can only name a directory that really lies inside one. While walking, symlinked
directories are skipped (no cycles, no escapes) and a symlinked file is read only when its
target lies inside a root too. Dimensions and capture times come from the image header and
EXIF, which Pillow reads without decoding a pixel.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

from PIL import ExifTags, Image

from domains.files import Changes, FileInfo
from infra.cloud.base import (
    PAGE_SIZE,
    LocationRefused,
    NoChangeFeed,
    ProviderError,
    exif_datetime,
    mime_for_name,
)

KIND = "local"
STEP = 200
"""Files per page at most: one page is one step of the worker thread (reading 200 headers takes
a few tens of milliseconds), so a sync can report progress several times a second."""
Unchanged = Callable[[str, str, str, str], bool]
"""(file id, checksum, path, name) -> whether the catalogue already has the file as it is."""
ROTATED = frozenset({5, 6, 7, 8})
"""EXIF orientations that turn the picture a quarter: width and height swap on screen."""


class LocalProvider:
    kind = KIND

    def __init__(self, roots: Sequence[Path], page_size: int = PAGE_SIZE) -> None:
        self.roots = tuple(Path(root).expanduser().resolve() for root in roots)
        self.page_size = min(page_size, STEP)

    def check_location(self, location: str) -> str:
        if not location.strip():
            raise LocationRefused(KIND, location, "is empty")
        path = Path(location).expanduser()
        if not path.is_absolute():
            raise LocationRefused(KIND, location, "is not an absolute path")
        resolved = path.resolve()
        if not self._inside_roots(resolved):
            raise LocationRefused(KIND, location, "is outside PHOTOFLOW_LOCAL_ROOTS")
        if not resolved.is_dir():
            raise LocationRefused(KIND, location, "is not a directory")
        return str(resolved)

    async def pages(self, location: str) -> AsyncIterator[list[FileInfo]]:
        async for page in self.changed_pages(location, None):
            yield page

    async def changed_pages(
        self, location: str, unchanged: Unchanged | None
    ) -> AsyncIterator[list[FileInfo]]:
        """Every image, like ``pages``; a file ``unchanged`` recognises by its path, name, size
        and modification time is listed without reading its header again (its dimensions and
        capture time are then None: the catalogue has them)."""
        top = Path(self.check_location(location))
        walk = self._walk(top, unchanged)
        while page := await asyncio.to_thread(_next_page, walk):
            yield page

    async def count(self, location: str) -> int:
        """How many images the listing will give: names only, no file is opened."""
        top = Path(self.check_location(location))
        return await asyncio.to_thread(self._count, top)

    def _count(self, top: Path) -> int:
        total = 0
        stack = [top]
        while stack:
            try:
                with os.scandir(stack.pop()) as listing:
                    for entry in listing:
                        if entry.name.startswith("."):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(Path(entry.path))
                        elif mime_for_name(entry.name) is not None:
                            total += 1
            except OSError:
                continue  # the listing itself reports what it cannot read
        return total

    async def start_cursor(self, location: str) -> str | None:
        self.check_location(location)
        return None

    async def changes(self, location: str, cursor: str) -> AsyncIterator[Changes]:
        raise NoChangeFeed(KIND)
        yield  # pragma: no cover - makes this an async generator

    def _inside_roots(self, resolved: Path) -> bool:
        return any(resolved.is_relative_to(root) for root in self.roots)

    def _walk(self, top: Path, unchanged: Unchanged | None = None) -> Iterator[list[FileInfo]]:
        """Depth-first, names sorted, in pages: runs in a worker thread, one page per step."""
        page: list[FileInfo] = []
        stack = [""]
        while stack:
            folder = stack.pop()
            try:
                with os.scandir(top / folder) as listing:
                    entries = sorted(listing, key=lambda entry: entry.name)
            except OSError as error:
                reason = f"cannot read {folder or '.'!r}: {error}"
                raise ProviderError(KIND, reason, retryable=False) from None
            subfolders: list[str] = []
            for entry in entries:
                if entry.name.startswith("."):
                    continue  # hidden files, macOS '._' resource forks
                relative = f"{folder}/{entry.name}" if folder else entry.name
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(relative)
                    continue
                info = self._file(entry, folder, relative, unchanged)
                if info is not None:
                    page.append(info)
                    if len(page) >= self.page_size:
                        yield page
                        page = []
            stack.extend(reversed(subfolders))
        if page:
            yield page

    def _file(
        self,
        entry: os.DirEntry[str],
        folder: str,
        relative: str,
        unchanged: Unchanged | None = None,
    ) -> FileInfo | None:
        mime_type = mime_for_name(entry.name)
        if mime_type is None:
            return None
        if entry.is_symlink() and not self._inside_roots(Path(entry.path).resolve()):
            return None
        try:
            if not entry.is_file():
                return None
            stat = entry.stat()
        except OSError:
            return None  # vanished or unreadable since the directory was listed
        checksum = f"{stat.st_size}-{stat.st_mtime_ns}"
        if unchanged is not None and unchanged(relative, checksum, folder, entry.name):
            width = height = taken_at = None
        else:
            width, height, taken_at = read_image_header(Path(entry.path))
        return FileInfo(
            file_id=relative,
            name=entry.name,
            path=folder,
            mime_type=mime_type,
            size=stat.st_size,
            checksum=checksum,
            modified_at=datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC),
            width=width,
            height=height,
            taken_at=taken_at,
        )


def _next_page(walk: Iterator[list[FileInfo]]) -> list[FileInfo]:
    return next(walk, [])


def read_image_header(path: Path) -> tuple[int | None, int | None, datetime | None]:
    """Width and height as displayed, and the capture time; Nones when Pillow cannot tell.

    ``Image.open`` parses only the header (and the EXIF segment for JPEG); pixels are never
    decoded. Raw formats Pillow does not know simply get no dimensions.
    """
    try:
        with Image.open(path) as image:
            width, height = image.size
            exif = image.getexif()
    except Exception:  # Pillow raises many types for files it cannot parse
        return None, None, None
    if exif.get(ExifTags.Base.Orientation) in ROTATED:
        width, height = height, width
    details = exif.get_ifd(ExifTags.IFD.Exif)
    taken = details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    offset = details.get(ExifTags.Base.OffsetTimeOriginal)
    return (
        width,
        height,
        exif_datetime(
            taken if isinstance(taken, str) else None, offset if isinstance(offset, str) else None
        ),
    )
