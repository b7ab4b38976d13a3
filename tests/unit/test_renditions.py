"""Renditions and serving without the platform: what a viewer gets from the pieces."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
from PIL import Image

from bench.rendition_files import make_jpeg
from infra.imaging import NotAnImage, render
from infra.originals import FolderPlace, Original, Originals
from queries.downloads import zip_stream
from queries.image_answers import byte_range
from queries.problems import Problem


def sizes(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size


@pytest.mark.parametrize(
    ("orientation", "thumbnail", "preview"),
    [(1, (400, 267), (2048, 1365)), (6, (267, 400), (1365, 2048)), (8, (267, 400), (1365, 2048))],
)
def test_renditions_are_upright_and_sized_on_the_long_edge(
    tmp_path: Path, orientation: int, thumbnail: tuple[int, int], preview: tuple[int, int]
) -> None:
    path = tmp_path / "photo.jpg"
    make_jpeg(path, (3000, 2000), 1, orientation)
    made = {r.kind: r for r in render(path.read_bytes())}
    assert (
        sizes(made["thumbnail"].data)
        == thumbnail
        == (made["thumbnail"].width, made["thumbnail"].height)
    )
    assert sizes(made["preview"].data) == preview


def test_bytes_that_are_no_image_are_refused() -> None:
    with pytest.raises(NotAnImage):
        render(b"not a jpeg" * 50)


def test_byte_ranges() -> None:
    assert byte_range(None, 100) is None
    assert byte_range("bytes=10-19", 100) == (10, 20)
    assert byte_range("bytes=90-", 100) == (90, 100)
    assert byte_range("bytes=-5", 100) == (95, 100)
    assert byte_range("bytes=90-500", 100) == (90, 100)
    assert byte_range("bytes=0-1,5-9", 100) is None, "several ranges: the whole file"
    with pytest.raises(Problem) as refused:
        byte_range("bytes=100-", 100)
    assert refused.value.status == 416
    assert refused.value.headers == {"Content-Range": "bytes */100"}


class FakeOriginals(Originals):
    """Originals held in memory, read in small chunks as a provider would hand them."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    async def open(self, folder: FolderPlace, file_id: str) -> Original:
        data = self.files[file_id]

        async def chunks(start: int, end: int) -> AsyncIterator[bytes]:
            for offset in range(start, end, 7):
                yield data[offset : min(end, offset + 7)]

        return Original(len(data), None, chunks)


async def test_a_zip_streams_every_photo_under_a_unique_name() -> None:
    files = {"a/x.jpg": b"first" * 100, "b/x.jpg": b"second" * 50, "y.jpg": b""}
    org = uuid4()
    rows = [
        {
            "org_id": org,
            "folder_id": uuid4(),
            "file_id": file_id,
            "name": file_id.rpartition("/")[2],
            "mime_type": "image/jpeg",
            "checksum": file_id,
            "provider": "local",
            "location": "/",
        }
        for file_id in files
    ]
    pieces = [piece async for piece in zip_stream(FakeOriginals(files), rows)]
    assert len(pieces) > 10, "written as it goes, not at the end"
    with zipfile.ZipFile(io.BytesIO(b"".join(pieces))) as archive:
        assert archive.namelist() == ["x.jpg", "x (2).jpg", "y.jpg"]
        assert archive.read("x (2).jpg") == files["b/x.jpg"]
        assert archive.testzip() is None
