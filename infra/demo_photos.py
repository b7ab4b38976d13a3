"""The demo folder ``make run`` ships: small JPEGs with real EXIF dates and dimensions.

Generated rather than committed, so the repository carries no binaries; deterministic, so every
machine shows the same album; idempotent, so a second run rewrites nothing and a sync sees no
change.
"""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import ExifTags, Image, ImageDraw

LANDSCAPE = (320, 213)
PORTRAIT = (213, 320)
FIRST_SHOT = datetime(2024, 6, 15, 14, 0, 0)
SUBFOLDER = "details"
"""Every third photo goes here, so the demo shows a nested folder too."""


def generate(folder: Path, count: int = 24, seed: int = 7) -> list[Path]:
    """Write ``count`` demo photos under ``folder`` (those missing only); return all their paths."""
    rng = random.Random(seed)
    paths: list[Path] = []
    taken = FIRST_SHOT
    for number in range(1, count + 1):
        size = PORTRAIT if number % 4 == 0 else LANDSCAPE
        colours = [_colour(rng) for _ in range(4)]
        taken += timedelta(seconds=rng.randint(20, 600))
        subfolder = SUBFOLDER if number % 3 == 0 else ""
        path = folder / subfolder / f"demo-{number:03d}.jpg"
        paths.append(path)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write(path, size, colours, taken)
    return paths


def _colour(rng: random.Random) -> tuple[int, int, int]:
    return (rng.randint(30, 230), rng.randint(30, 230), rng.randint(30, 230))


def _write(
    path: Path, size: tuple[int, int], colours: list[tuple[int, int, int]], taken: datetime
) -> None:
    width, height = size
    image = Image.new("RGB", size, colours[0])
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill=colours[1])
    radius = min(width, height) // 5
    centre = (width // 3, height // 3)
    draw.ellipse(
        (centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius),
        fill=colours[2],
    )
    draw.polygon(
        [(width // 2, height * 2 // 3), (width * 4 // 5, height // 4), (width, height * 2 // 3)],
        fill=colours[3],
    )
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhotoFlow"
    exif[ExifTags.Base.Model] = "Demo"
    exif[ExifTags.Base.DateTime] = taken.strftime("%Y:%m:%d %H:%M:%S")
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = taken.strftime("%Y:%m:%d %H:%M:%S")
    details[ExifTags.Base.ExifImageWidth] = width
    details[ExifTags.Base.ExifImageHeight] = height
    partial = path.with_name(f".{path.name}.partial")
    image.save(partial, "JPEG", quality=82, exif=exif)
    stamp = taken.replace(tzinfo=UTC).timestamp()
    os.utime(partial, (stamp, stamp))  # the file's time is the shot's: the same on every machine
    partial.replace(path)
