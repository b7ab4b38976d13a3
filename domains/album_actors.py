"""Who acts on an album: a studio member (by role) or a client's guest (by share link).

Every album event names its actor as text: a member by its user id (as the studio's events
do), a guest as ``client:<guest name>``. These value objects carry what each kind of actor
proves itself with, so an application method can take either and check the right thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

GUEST_PREFIX = "client:"


@dataclass(frozen=True)
class Member:
    """A signed-in studio member; its role in the album's studio is looked up on the write side."""

    user_id: UUID

    @property
    def actor(self) -> str:
        return str(self.user_id)


@dataclass(frozen=True)
class Guest:
    """A client's browser holding the share link; several guests may share one link."""

    share_token: str
    name: str = "guest"

    @property
    def actor(self) -> str:
        return f"{GUEST_PREFIX}{self.name}"
