"""Pixels of a watermark: checking an uploaded PNG, and stamping a preview with the mark.

A watermarked preview is made from the clean preview (already 2,048 px, sRGB, oriented), not
from the original: it costs one JPEG decode and encode of a preview (about 40 ms here), needs no
access to the studio's storage, and looks exactly like the members' preview under the mark.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from domains.errors import InvalidValue
from domains.watermark import Watermark
from infra.imaging import QUALITY

PNG_MAX_BYTES = 2 * 1024 * 1024
PNG_MAX_EDGE = 4096
_MEASURE_SIZE = 100


def check_png(data: bytes) -> tuple[int, int]:
    """The PNG's size in pixels, or InvalidValue("image") saying what is wrong with it."""
    if len(data) > PNG_MAX_BYTES:
        raise InvalidValue("image", f"must be at most {PNG_MAX_BYTES // 1024} KB")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise InvalidValue("image", "must be a PNG")
            if max(image.size) > PNG_MAX_EDGE:
                raise InvalidValue("image", f"must be at most {PNG_MAX_EDGE} px on each edge")
            image.load()
            return image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidValue("image", "is not a readable PNG") from None


FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
"""Debian's fonts-dejavu-core (installed by ``make``): Pillow's own font lacks accents."""


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT.is_file():
        return ImageFont.truetype(str(FONT), size)
    return ImageFont.load_default(size=size)


def _text_mark(text: str, width: int) -> Image.Image:
    """White text with a dark outline (readable on light and dark photos), ``width`` wide."""
    left, top, right, bottom = _font(_MEASURE_SIZE).getbbox(text)
    size = max(8, int(_MEASURE_SIZE * width / max(1, right - left)))
    font = _font(size)
    stroke = max(1, size // 18)
    left, top, right, bottom = (round(b) for b in font.getbbox(text, stroke_width=stroke))
    mark = Image.new("RGBA", (max(1, right - left), max(1, bottom - top)), (0, 0, 0, 0))
    ImageDraw.Draw(mark).text(
        (-left, -top), text, font=font, fill=(255, 255, 255, 255),
        stroke_width=stroke, stroke_fill=(0, 0, 0, 200),
    )  # fmt: skip
    return mark


def _image_mark(png: bytes, width: int) -> Image.Image:
    with Image.open(io.BytesIO(png)) as image:
        mark = image.convert("RGBA")
    height = max(1, round(mark.height * width / mark.width))
    return mark.resize((width, height), Image.Resampling.LANCZOS)


def _mark(watermark: Watermark, png: bytes | None, width: int) -> Image.Image:
    """The mark at ``width`` pixels: the image above the text when there are both."""
    parts = []
    if png is not None:
        parts.append(_image_mark(png, width))
    if watermark.text:
        parts.append(_text_mark(watermark.text, width))
    gap = width // 20 if len(parts) > 1 else 0
    mark = Image.new(
        "RGBA", (max(p.width for p in parts), sum(p.height for p in parts) + gap), (0, 0, 0, 0)
    )
    y = 0
    for part in parts:
        mark.alpha_composite(part, ((mark.width - part.width) // 2, y))
        y += part.height + gap
    alpha = mark.getchannel("A").point(lambda a: round(a * watermark.opacity))
    mark.putalpha(alpha)
    return mark


def _places(position: str, size: tuple[int, int], mark: Image.Image) -> list[tuple[int, int]]:
    (w, h), (mw, mh) = size, mark.size
    margin = round(min(w, h) * 0.03)
    if position == "tiled":
        step_x, step_y = round(mw * 1.5), max(1, round(mh * 3))
        return [
            (x + (step_x // 2 if row % 2 else 0), y)
            for row, y in enumerate(range(margin, h, step_y))
            for x in range(margin - step_x // 2, w, step_x)
        ]
    x = {"left": margin, "right": w - mw - margin}.get(position.rpartition("-")[2], (w - mw) // 2)
    y = {"top": margin, "bottom": h - mh - margin}.get(position.partition("-")[0], (h - mh) // 2)
    return [(x, y)]


def stamp(preview: bytes, watermark: Watermark, png: bytes | None) -> bytes:
    """The preview (a JPEG) with the watermark on it, as a JPEG of the same size."""
    with Image.open(io.BytesIO(preview)) as opened:
        image = opened.convert("RGBA")
    width = max(8, round(image.width * watermark.scale))
    mark = _mark(watermark, png, width)
    for x, y in _places(watermark.position, image.size, mark):
        # a tile may start left of or above the photo: composite only its visible part
        image.alpha_composite(mark, (max(0, x), max(0, y)), (max(0, -x), max(0, -y)))
    stamped = image.convert("RGB")
    buffer = io.BytesIO()
    stamped.save(buffer, "JPEG", quality=QUALITY["preview"])
    return buffer.getvalue()
