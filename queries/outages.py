"""A dependency that does not answer is the platform's trouble, not the client's: 503, not 500.

Which errors count as an outage is decided once, in ``infra.outages``; every route answers the
same problem for them, with a hint when to come back.
"""

from __future__ import annotations

from infra.outages import is_outage
from queries.problems import Problem

__all__ = ["is_outage", "unavailable"]

RETRY_AFTER_SECONDS = 5


def unavailable() -> Problem:
    return Problem(
        503,
        "unavailable",
        "Service unavailable",
        "A server PhotoFlow depends on does not answer right now; nothing was lost, "
        f"try again in {RETRY_AFTER_SECONDS} s",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
