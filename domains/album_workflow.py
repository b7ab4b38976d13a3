"""The album's workflow as one table, and the errors its rules raise.

``TRANSITIONS`` says, for every command, the states it may run in and the state it leads to:
it is the table to check against the contract. A command the current state forbids raises
``NotAllowedNow`` naming the state and the commands that are allowed.
"""

from __future__ import annotations

from domains.errors import DomainError, RuleBroken

DRAFT, SYNCING, READY, SHARED = "draft", "syncing", "ready", "shared"
SUBMITTED, EDITING, DELIVERED = "selection_submitted", "editing", "delivered"
CHANGES_REQUESTED, APPROVED, ARCHIVED = "changes_requested", "approved", "archived"
STATES = (
    DRAFT,
    SYNCING,
    READY,
    SHARED,
    SUBMITTED,
    EDITING,
    DELIVERED,
    CHANGES_REQUESTED,
    APPROVED,
    ARCHIVED,
)
LIVE = frozenset(STATES) - {ARCHIVED}

# command -> (the states it may run in, the state it leads to; None keeps the state)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "sync": (frozenset({DRAFT, READY, SHARED}), SYNCING),
    "finish_sync": (frozenset({SYNCING}), READY),  # back to shared if it was shared
    "share": (frozenset({READY, SHARED}), SHARED),
    "revoke_share": (frozenset(STATES), None),  # the link dies; the workflow stays where it is
    "select": (frozenset({SHARED}), None),
    "rate": (frozenset({SHARED}), None),
    "comment": (frozenset({SHARED, SUBMITTED, EDITING, DELIVERED, CHANGES_REQUESTED}), None),
    "submit": (frozenset({SHARED}), SUBMITTED),
    "start_editing": (frozenset({SUBMITTED, CHANGES_REQUESTED}), EDITING),
    "set_proc_status": (frozenset({EDITING, CHANGES_REQUESTED}), None),
    "deliver": (frozenset({EDITING}), DELIVERED),
    "request_changes": (frozenset({DELIVERED}), CHANGES_REQUESTED),
    "approve": (frozenset({DELIVERED}), APPROVED),
    "tag": (LIVE, None),  # adding and removing tags alike
    "archive": (LIVE, ARCHIVED),
    "reopen": (frozenset({ARCHIVED}), None),  # to the state it left
}
PROC_STATUSES = ("pending", "editing", "edited", "rejected")
COLORS = ("red", "yellow", "green", "blue", "purple")


def commands_allowed(state: str) -> list[str]:
    """The commands an album in ``state`` accepts (a page shows only these buttons)."""
    return sorted(c for c, (states, _) in TRANSITIONS.items() if state in states)


class NotAllowedNow(RuleBroken):
    def __init__(self, command: str, state: str) -> None:
        allowed = commands_allowed(state)
        super().__init__(
            f"'{command}' is not allowed while the album is {state}; "
            f"allowed now: {', '.join(allowed) or 'nothing'}"
        )
        self.command, self.state, self.allowed = command, state, allowed


class SelectionFull(RuleBroken):
    pass


class ShareGone(DomainError):
    """A share link that was valid once and is not any more: the client's page says why."""

    reason = "gone"


class ShareExpired(ShareGone):
    reason = "expired"

    def __init__(self) -> None:
        super().__init__("this share link has expired; ask the photographer for a new one")


class ShareArchived(ShareGone):
    reason = "archived"

    def __init__(self) -> None:
        super().__init__("this album was archived; ask the photographer to reopen it")
