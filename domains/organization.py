"""The Organization aggregate: a studio that owns albums, folders and members.

Members, roles and invitations arrive with the identity work; this module starts with what the
event-sourced spine needs: creation and renaming, each recorded as an event.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, event

from domains.errors import InvalidValue

NAME_MAX_LENGTH = 200


def clean_name(name: str) -> str:
    """Trim the name and check it is neither empty nor too long."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidValue("name", "must not be empty")
    if len(cleaned) > NAME_MAX_LENGTH:
        raise InvalidValue("name", f"must be at most {NAME_MAX_LENGTH} characters")
    return cleaned


class Organization(Aggregate):
    """A studio. Its id is the tenant key that every other aggregate carries."""

    class Created(Aggregate.Created):
        name: str
        actor: str

    class Renamed(Aggregate.Event):
        name: str
        actor: str

    @event(Created)
    def __init__(self, name: str, actor: str) -> None:
        self.name = name
        self.created_by = actor

    @classmethod
    def create(cls, name: str, actor: str) -> Organization:
        return cls(name=clean_name(name), actor=actor)

    def rename(self, name: str, actor: str) -> None:
        """Rename the studio; renaming to the current name records nothing."""
        cleaned = clean_name(name)
        if cleaned != self.name:
            self._renamed(name=cleaned, actor=actor)

    @event(Renamed)
    def _renamed(self, name: str, actor: str) -> None:
        self.name = name
