"""The test Drive's contents: files and folders in memory, a change log, and bulk generators.

Each item is kept as the Drive v3 file resource itself (a dict), so listing is filtering and
field selection, nothing more. Children lists are append-only indexes (removals rebuild one),
which makes a page of 1,000 out of 100,000 cost 1,000 steps, not 100,000.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.drive_query import Query

FOLDER = "application/vnd.google-apps.folder"
ROOT = "root"
Item = dict[str, Any]
EPOCH = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)


class DriveStore:
    """Thread-safe: the HTTP server's threads read while a test mutates."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.items: dict[str, Item] = {}
        self.children: dict[str, list[str]] = {}
        self.log: list[str] = []
        self.contents: dict[str, bytes] = {}
        """Bytes given to files; any other file's bytes are made up from its id and size."""
        self._ids = itertools.count(1)
        self._clock = itertools.count(1)
        self.items[ROOT] = self._resource(ROOT, "My Drive", FOLDER, None)

    # building -----------------------------------------------------------------------------

    def add_folder(self, name: str, parent: str = ROOT) -> str:
        with self.lock:
            return self._add(self._resource(self._new_id(), name, FOLDER, parent))

    def add_file(
        self,
        name: str,
        parent: str = ROOT,
        mime_type: str = "image/jpeg",
        size: int = 123_456,
        width: int | None = 6000,
        height: int | None = 4000,
        taken: str | None = "2024:05:01 10:00:00",
        rotation: int | None = None,
        content: bytes | None = None,
    ) -> str:
        """One file; ``taken`` is EXIF-style, as Drive reports ``imageMediaMetadata.time``.

        With ``content`` the file holds those bytes (its ``size`` and ``md5Checksum`` follow
        them); without, ``size`` made-up bytes are served.
        """
        with self.lock:
            item = self._resource(self._new_id(), name, mime_type, parent)
            item.update(size=str(size), md5Checksum=_md5(item["id"], 1))
            if content is not None:
                self._hold(item, content)
            if mime_type.startswith("image/"):
                meta = {"width": width, "height": height, "time": taken, "rotation": rotation}
                item["imageMediaMetadata"] = {k: v for k, v in meta.items() if v is not None}
            return self._add(item)

    def add_images(self, count: int, parent: str = ROOT, per_folder: int | None = None) -> str:
        """``count`` JPEGs under ``parent``: flat, or in subfolders of ``per_folder`` each.

        Built in one go under the lock (100,000 take well under a second); returns ``parent``.
        """
        meta = {"width": 6000, "height": 4000, "time": "2024:05:01 10:00:00"}  # shared: 100k
        with self.lock:
            parents, stamp = [parent], self._stamp()
            for number in range(count):
                if per_folder and number % per_folder == 0:
                    name = f"set-{number // per_folder + 1:04d}"
                    parents = [self._add(self._resource(self._new_id(), name, FOLDER, parent))]
                file_id = self._new_id()
                self._add(
                    {
                        "kind": "drive#file",
                        "id": file_id,
                        "name": f"IMG_{number + 1:06d}.jpg",
                        "mimeType": "image/jpeg",
                        "parents": parents,
                        "trashed": False,
                        "version": "1",
                        "modifiedTime": stamp,
                        "size": str(200_000 + number),
                        "md5Checksum": _md5(file_id, 1),
                        "imageMediaMetadata": meta,
                    }
                )
            return parent

    # changing -----------------------------------------------------------------------------

    def change_content(self, file_id: str) -> None:
        with self.lock:
            item = self.items[file_id]
            version = int(item["version"]) + 1
            item.update(version=str(version), md5Checksum=_md5(file_id, version))
            self._touch(item)

    def set_content(self, file_id: str, content: bytes) -> None:
        """New bytes for a file: a new version, size and checksum, as an upload makes."""
        with self.lock:
            item = self.items[file_id]
            item["version"] = str(int(item["version"]) + 1)
            self._hold(item, content)
            self._touch(item)

    def rename(self, item_id: str, name: str) -> None:
        with self.lock:
            item = self.items[item_id]
            item.update(name=name, version=str(int(item["version"]) + 1))
            self._touch(item)

    def move(self, item_id: str, parent: str) -> None:
        with self.lock:
            item = self.items[item_id]
            self._unlink(item)
            item.update(parents=[parent], version=str(int(item["version"]) + 1))
            self.children.setdefault(parent, []).append(item_id)
            self._touch(item)

    def trash(self, item_id: str) -> None:
        """Trash an item and, as Drive does, everything below it; only the item is logged."""
        with self.lock:
            for below in self._below(item_id):
                self.items[below]["trashed"] = True
            item = self.items[item_id]
            item.update(trashed=True, explicitlyTrashed=True)
            self._touch(item)

    def delete(self, item_id: str) -> None:
        """Delete for good: the item and everything below it, each logged as removed."""
        with self.lock:
            self._unlink(self.items[item_id])
            for gone in [item_id, *self._below(item_id)]:
                self.items.pop(gone, None)
                self.contents.pop(gone, None)
                self.children.pop(gone, None)
                self.log.append(gone)

    # reading ------------------------------------------------------------------------------

    def list_page(
        self, query: Query, size: int, token: str | None
    ) -> tuple[list[Item], str | None]:
        """Up to ``size`` matches, and a token only if another match follows (no empty pages)."""
        with self.lock:
            sources = [self.children.get(p, []) for p in query.parents] or [list(self.items)]
            source, start = map(int, (token or "0.0").split("."))
            found: list[Item] = []
            for index, position in self._positions(sources, source, start):
                item = self.items.get(sources[index][position])
                if item is None or not query.test(item):
                    continue
                if len(found) == size:
                    return found, f"{index}.{position}"
                found.append(item)
            return found, None

    def changes_page(self, token: int, size: int) -> tuple[list[Item], int, bool]:
        """Log entries from ``token``: each shows the file as it is now, or as removed."""
        with self.lock:
            window = self.log[token : token + size]
            entries = [self._change(file_id) for file_id in window]
            end = token + len(window)
            return entries, end, end < len(self.log)

    def content(self, file_id: str) -> bytes:
        """The bytes ``alt=media`` serves: those given, or ``size`` bytes made from the id."""
        with self.lock:
            held = self.contents.get(file_id)
            if held is not None:
                return held
            size = int(self.items[file_id]["size"])
        pattern = f"{file_id}:".encode()
        return (pattern * (size // len(pattern) + 1))[:size]

    def below(self, item_id: str) -> list[str]:
        with self.lock:
            return self._below(item_id)

    # inside -------------------------------------------------------------------------------

    def _positions(
        self, sources: list[list[str]], source: int, position: int
    ) -> Iterator[tuple[int, int]]:
        for index in range(source, len(sources)):
            start = position if index == source else 0
            for at in range(start, len(sources[index])):
                yield index, at

    def _change(self, file_id: str) -> Item:
        item = self.items.get(file_id)
        entry: Item = {
            "kind": "drive#change",
            "changeType": "file",
            "fileId": file_id,
            "removed": item is None,
            "time": self._stamp(),
        }
        if item is not None:
            entry["file"] = item
        return entry

    def _resource(self, item_id: str, name: str, mime_type: str, parent: str | None) -> Item:
        return {
            "kind": "drive#file",
            "id": item_id,
            "name": name,
            "mimeType": mime_type,
            "parents": [parent] if parent else [],
            "trashed": False,
            "version": "1",
            "modifiedTime": self._stamp(),
        }

    def _hold(self, item: Item, content: bytes) -> None:
        self.contents[item["id"]] = content
        item.update(size=str(len(content)), md5Checksum=hashlib.md5(content).hexdigest())

    def _add(self, item: Item) -> str:
        self.items[item["id"]] = item
        for parent in item["parents"]:
            self.children.setdefault(parent, []).append(item["id"])
        self.log.append(item["id"])
        return str(item["id"])

    def _touch(self, item: Item) -> None:
        item["modifiedTime"] = self._stamp()
        self.log.append(item["id"])

    def _unlink(self, item: Item) -> None:
        for parent in item["parents"]:
            siblings = self.children.get(parent, [])
            self.children[parent] = [s for s in siblings if s != item["id"]]

    def _below(self, item_id: str) -> list[str]:
        found, stack = [], list(self.children.get(item_id, ()))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(self.children.get(child, ()))
        return found

    def _new_id(self) -> str:
        return f"1dRv{next(self._ids):08d}"

    def _stamp(self) -> str:
        moment = EPOCH + timedelta(seconds=next(self._clock))
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _md5(file_id: str, version: int) -> str:
    return hashlib.md5(f"{file_id}:{version}".encode()).hexdigest()
