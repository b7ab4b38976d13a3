"""Generated camera-sized JPEGs for the rendition benchmark and tests, made once and cached."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops

ORIENTATION = 0x0112


def make_jpeg(path: Path, size: tuple[int, int], seed: int, orientation: int = 1) -> None:
    """A gradient under sensor-like noise (so the JPEG is as costly to decode as a photo's),
    tinted by ``seed``, with an EXIF orientation tag."""
    horizontal = Image.linear_gradient("L").rotate(90).resize(size)
    vertical = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24 + seed % 16)
    red = ImageChops.add(horizontal, noise, scale=1.3)
    green = ImageChops.blend(horizontal, vertical, 0.3 + (seed % 5) / 10)
    blue = ImageChops.add(vertical, noise, scale=1.5)
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


def camera_files(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    """``count`` JPEGs of ``size`` in ``folder``, generated the first time only."""
    paths = [folder / f"IMG_{i:04d}.jpg" for i in range(count)]
    for i, path in enumerate(paths):
        if not path.exists():
            make_jpeg(path, size, i, (1, 6, 8, 3)[i % 4])
    return paths
