"""A studio's watermark: what client previews of a watermarked album carry.

A watermark is text, an uploaded PNG (named by the SHA-256 of its bytes, which live in the
rendition store), or both. It is a value: two studios with the same settings share the same
watermarked previews, and its ``fingerprint`` names the previews made with it, so changing the
watermark makes new previews instead of invalidating old ones.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from domains.errors import InvalidValue
from domains.text import check_text

POSITIONS = ("center", "top-left", "top-right", "bottom-left", "bottom-right", "tiled")
TEXT_MAX_LENGTH = 100
IMAGE_ID = re.compile(r"[0-9a-f]{64}")
PNG_KIND = "watermark-png"
"""The rendition store's kind for uploaded watermark PNGs (keyed by their SHA-256)."""


@dataclass(frozen=True)
class Watermark:
    text: str | None
    image_id: str | None
    """SHA-256 (hex) of an uploaded PNG; the PNG itself is in the rendition store."""
    position: str = "bottom-right"
    opacity: float = 0.5
    """0.05 (barely there) to 1 (opaque)."""
    scale: float = 0.3
    """The mark's width as a share of the photo's width (each tile's, when tiled)."""

    @classmethod
    def checked(
        cls,
        text: str | None,
        image_id: str | None,
        position: str = "bottom-right",
        opacity: float = 0.5,
        scale: float = 0.3,
    ) -> Watermark:
        """A watermark from a studio's input, or InvalidValue naming the field."""
        if text is not None:
            text = " ".join(check_text("text", text).split()) or None
            if text is not None and len(text) > TEXT_MAX_LENGTH:
                raise InvalidValue("text", f"must be at most {TEXT_MAX_LENGTH} characters")
        if image_id is not None and not IMAGE_ID.fullmatch(image_id):
            raise InvalidValue("image_id", "must be the id of an uploaded PNG")
        if text is None and image_id is None:
            raise InvalidValue("text", "give a text, an image_id, or both")
        if position not in POSITIONS:
            raise InvalidValue("position", f"must be one of {', '.join(POSITIONS)}")
        if not 0.05 <= opacity <= 1:
            raise InvalidValue("opacity", "must be between 0.05 and 1")
        if not 0.05 <= scale <= 1:
            raise InvalidValue("scale", "must be between 0.05 and 1")
        return cls(text, image_id, position, round(opacity, 3), round(scale, 3))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Watermark:
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def preview_kind(self) -> str:
        """The rendition kind of previews made with this watermark."""
        return f"preview-wm-{self.fingerprint}"

    @property
    def fingerprint(self) -> str:
        """16 hex digits naming what a watermarked preview looks like."""
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]
