"""The folders below a synced Drive folder, and the breadth-first walk that discovers them.

Drive has no recursive listing: a folder's children are found by ``'<id>' in parents``. The walk
asks for the children of up to ``MAX_PARENTS`` folders in one query, so a tree of many small
folders costs a few requests rather than one per folder, and builds each file's ``path`` from
the folder names on the way down.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domains.files import IMAGE_TYPES, FileInfo
from infra.cloud.base import exif_datetime

FOLDER = "application/vnd.google-apps.folder"
MAX_PARENTS = 20
"""Folders per query: enough to save requests, short enough for Drive's query limits."""


class FolderTree:
    """Folder id -> (parent id, path below the top folder); the top folder's path is ''."""

    def __init__(self, top: str) -> None:
        self.top = top
        self.folders: dict[str, tuple[str | None, str]] = {top: (None, "")}

    def __contains__(self, folder_id: object) -> bool:
        return folder_id in self.folders

    def path(self, folder_id: str) -> str:
        return self.folders[folder_id][1]

    def parent_of(self, item: dict[str, Any]) -> str | None:
        """The item's parent, if that parent is one of ours."""
        return next((p for p in item.get("parents") or () if p in self.folders), None)

    def add(self, folder_id: str, parent: str, name: str) -> None:
        parent_path = self.path(parent)
        self.folders[folder_id] = (parent, f"{parent_path}/{name}" if parent_path else name)

    def place(self, item: dict[str, Any]) -> None:
        """Record a folder that arrived, moved or was renamed (its parent must be ours).

        What was known below it is forgotten: the caller lists it again, with the new paths.
        """
        folder_id, parent = str(item["id"]), self.parent_of(item)
        if parent is None:
            raise ValueError(f"folder {folder_id} is not below {self.top}")
        for below in self._below(folder_id):
            del self.folders[below]
        self.add(folder_id, parent, str(item["name"]))

    def cut(self, folder_id: str) -> FolderTree:
        """Detach a folder and everything below it, as a tree of its own."""
        detached = FolderTree(folder_id)
        for below in self._below(folder_id):
            parent, _ = self.folders.pop(below)
            detached.folders[below] = (parent, "")
        self.folders.pop(folder_id, None)
        return detached

    def drop(self, folder_id: str) -> None:
        if folder_id in self.folders and folder_id != self.top:
            self.cut(folder_id)

    def _below(self, folder_id: str) -> list[str]:
        children: dict[str, list[str]] = {}
        for child, (parent, _) in self.folders.items():
            if parent is not None:
                children.setdefault(parent, []).append(child)
        found, stack = [], list(children.get(folder_id, ()))
        while stack:
            child = stack.pop()
            found.append(child)
            stack.extend(children.get(child, ()))
        return found


class Walk:
    """Breadth-first over a tree's folders: the next query to send, and what an answer holds."""

    def __init__(
        self,
        tree: FolderTree,
        roots: Iterable[str] | None = None,
        folders_only: bool = False,
        include_trashed: bool = False,
    ) -> None:
        self.tree = tree
        self.queue = deque(roots if roots is not None else [tree.top])
        self.batch: list[str] = []
        self.folders_only = folders_only
        self.include_trashed = include_trashed

    def query(self, page_token: str | None) -> str | None:
        """The ``q`` for the next request: the same batch while it pages, then the next one."""
        if page_token is None:
            if not self.queue:
                return None
            self.batch = [self.queue.popleft() for _ in range(min(MAX_PARENTS, len(self.queue)))]
        parents = " or ".join(f"'{folder}' in parents" for folder in self.batch)
        clauses = [f"({parents})"]
        if not self.include_trashed:
            clauses.append("trashed = false")
        if self.folders_only:
            clauses.append(f"mimeType = '{FOLDER}'")
        else:
            clauses.append(f"(mimeType contains 'image/' or mimeType = '{FOLDER}')")
        return " and ".join(clauses)

    def take(self, items: list[dict[str, Any]]) -> list[FileInfo]:
        """The photos in one answer; the folders in it join the tree and the queue."""
        page: list[FileInfo] = []
        for item in items:
            parent = self.tree.parent_of(item)
            if parent is None:
                continue
            if item.get("mimeType") == FOLDER:
                folder_id = str(item["id"])
                if folder_id not in self.tree:
                    self.tree.add(folder_id, parent, str(item["name"]))
                    self.queue.append(folder_id)
            elif (info := file_info(item, self.tree.path(parent))) is not None:
                page.append(info)
        return page


def file_info(item: dict[str, Any], path: str) -> FileInfo | None:
    """A Drive file resource as a FileInfo; None for anything that is not a photo we keep.

    Dimensions are as displayed (Drive's ``rotation`` counts quarter turns); the checksum is
    the content's md5, or the version for files Drive keeps no md5 for.
    """
    mime_type = item.get("mimeType")
    if mime_type not in IMAGE_TYPES:
        return None
    meta = item.get("imageMediaMetadata") or {}
    width, height = meta.get("width"), meta.get("height")
    if meta.get("rotation") in (1, 3):
        width, height = height, width
    return FileInfo(
        file_id=str(item["id"]),
        name=str(item["name"]),
        path=path,
        mime_type=str(mime_type),
        size=int(item.get("size") or 0),
        checksum=str(item.get("md5Checksum") or f"v{item.get('version', 0)}"),
        modified_at=datetime.fromisoformat(str(item["modifiedTime"])),
        width=int(width) if width is not None else None,
        height=int(height) if height is not None else None,
        taken_at=exif_datetime(meta.get("time")),
    )
