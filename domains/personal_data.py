"""An album's personal data, sealed with its client's key so that destroying the key forgets it.

The album's events keep the client's name and email, the guests' names, their comments and a
request for changes only **sealed**: encrypted with the album client's own data key (AES-256-GCM),
as text of the form ``pd1:<base64url(nonce || ciphertext || tag)>`` (12-byte nonce, 16-byte tag,
no associated data, no padding). A guest acting through the share link is named in ``actor`` (and
a comment's ``author``) as ``client:<sealed name>``.

Sealing is deterministic: the nonce is an HMAC of the text under a key derived from the data
key, so one guest's name seals to the same text every time. That sealed text is the guest's
identity in the album (its picks and ratings are kept per guest) without being its name, and a
command decides on the write model alone. Equal texts of one album look equal; nothing else
leaks, and nothing at all once the key is gone (the HMAC cannot be recomputed either).

Forgetting the client destroys the key. A reader then shows every sealed value as forgotten:
``FORGOTTEN`` for texts, and ``[forgotten guest <8 hex>]`` for a guest (stable per guest, a
digest of its sealed name, so picks and ratings stay apart). Values recorded before sealing
existed (plain text) are read as they are, and are not forgotten.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SEALED_PREFIX = "pd1:"
FORGOTTEN = "[forgotten]"
"""What a sealed text reads as once its key was destroyed."""
GUEST_PREFIX = "client:"
KEY_BYTES = 32
NONCE_BYTES = 12
_SEALED = re.compile(r"pd1:[A-Za-z0-9_-]{38,}")

PERSONAL_FIELDS: dict[str, dict[str, str]] = {
    "AlbumCreated": {"client.name": "text", "client.email": "text"},
    "AlbumPhotoSelected": {"guest": "guest"},
    "AlbumPhotoDeselected": {"guest": "guest"},
    "AlbumPhotoRated": {"guest": "guest"},
    "AlbumCommentAdded": {"author": "actor", "text": "text"},
    "AlbumChangesRequested": {"note": "text"},
    "DownloadServed": {"guest": "guest"},
}
"""Per album event type, the ``data`` fields recorded sealed, and how each reads: ``text`` (a
sealed text), ``guest`` (a sealed guest name) or ``actor`` (a member's id, or ``client:`` and a
sealed guest name). Every album event's ``actor`` reads as an ``actor``."""


GUEST_ACTED = frozenset(
    {
        "AlbumPhotoSelected",
        "AlbumPhotoDeselected",
        "AlbumPhotoRated",
        "AlbumCommentAdded",
        "AlbumSelectionSubmitted",
        "AlbumChangesRequested",
        "AlbumApproved",
    }
)
"""The album event types a guest causes: their ``actor`` is ``client:<sealed name>``."""


class Unreadable(ValueError):
    """A sealed text that this key did not seal (or that was altered)."""


@dataclass(frozen=True)
class ClientKey:
    """The data key of one album's client: AES-256-GCM, 32 random bytes."""

    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != KEY_BYTES:
            raise ValueError(f"a client key has {KEY_BYTES} bytes")

    def __repr__(self) -> str:  # never in a log line
        return "ClientKey(...)"

    def seal(self, text: str) -> str:
        """``text`` encrypted; the same text always seals to the same value under this key."""
        plain = text.encode()
        nonce_key = hmac.new(self.secret, b"photoflow:nonce", hashlib.sha256).digest()
        nonce = hmac.new(nonce_key, plain, hashlib.sha256).digest()[:NONCE_BYTES]
        sealed = nonce + AESGCM(self.secret).encrypt(nonce, plain, None)
        return SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def open(self, sealed: str) -> str:
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX) :] + "==")
        try:
            return AESGCM(self.secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], None).decode()
        except (InvalidTag, ValueError) as error:
            raise Unreadable("not sealed with this key") from error


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and _SEALED.fullmatch(value) is not None


def forgotten_guest(sealed: str) -> str:
    """A forgotten guest's stand-in: the same for every event of that guest, and no name."""
    return f"[forgotten guest {hashlib.sha256(sealed.encode()).hexdigest()[:8]}]"


def open_text(value: Any, key: ClientKey | None) -> Any:
    """A sealed text read with the key, or ``FORGOTTEN``; anything else as it is."""
    if not is_sealed(value):
        return value
    if key is None:
        return FORGOTTEN
    try:
        return key.open(value)
    except Unreadable:
        return value  # plain text that only looks sealed (recorded before sealing existed)


def open_guest(value: Any, key: ClientKey | None) -> Any:
    """A guest's name from its sealed form, or its forgotten stand-in."""
    if is_sealed(value) and key is None:
        return forgotten_guest(value)
    return open_text(value, key)


def open_actor(value: Any, key: ClientKey | None) -> Any:
    """``client:<sealed>`` reads as ``client:<name>``; a member's id as it is."""
    if isinstance(value, str) and value.startswith(GUEST_PREFIX):
        return GUEST_PREFIX + str(open_guest(value[len(GUEST_PREFIX) :], key))
    return value


_READERS = {"text": open_text, "guest": open_guest, "actor": open_actor}


def open_data(event_type: str, data: Mapping[str, Any], key: ClientKey | None) -> dict[str, Any]:
    """An album event's ``data`` with its sealed fields read (or shown forgotten)."""
    opened = dict(data)
    for path, kind in PERSONAL_FIELDS.get(event_type, {}).items():
        head, _, leaf = path.rpartition(".")
        holder = opened
        if head:
            inner = opened.get(head)
            if not isinstance(inner, Mapping):
                continue
            holder = opened[head] = dict(inner)
        if leaf in holder:
            holder[leaf] = _READERS[kind](holder[leaf], key)
    return opened


def has_sealed(event_type: str, data: Mapping[str, Any], actor: str | None) -> bool:
    """Whether reading this event needs its album's key."""
    if isinstance(actor, str) and actor.startswith(GUEST_PREFIX):
        return True
    return event_type in PERSONAL_FIELDS


def guest_actor(sealed_name: str) -> str:
    return GUEST_PREFIX + sealed_name
