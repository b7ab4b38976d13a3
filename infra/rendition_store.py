"""Where renditions live: a directory, one file per (checksum, kind).

Keyed by the file's checksum, never by its id or name: an unchanged file is never rendered
twice, a rename or a second album on the same folder costs nothing. The checksum is a
provider's text (an S3 ETag with quotes, ``size-mtime`` on disk), so the file name is its
SHA-256, fanned out over 256 sub-directories. A file is written under a temporary name and
renamed into place, so a reader never sees half a JPEG and two workers racing write the same
bytes harmlessly.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from domains.rendition import KINDS

MEDIA_TYPE = "image/jpeg"


def rendition_key(checksum: str) -> str:
    return hashlib.sha256(checksum.encode()).hexdigest()


class RenditionStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, checksum: str, kind: str) -> Path:
        key = rendition_key(checksum)
        return self.root / kind / key[:2] / f"{key}.jpg"

    def has_all(self, checksum: str) -> bool:
        return all(self.path(checksum, kind).is_file() for kind in KINDS)

    def put(self, checksum: str, kind: str, data: bytes) -> None:
        target = self.path(checksum, kind)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, target)

    def etag(self, checksum: str, kind: str) -> str:
        """A strong validator: the bytes of a (checksum, kind) never change once written."""
        return f'"{rendition_key(checksum)[:32]}-{kind}"'
