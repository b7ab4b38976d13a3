"""Exceptions raised by :mod:`infra.stack`.

Two kinds, so callers can tell "a server does not answer" (often expected, e.g. while polling)
from "bringing the stack up or down failed" (always worth showing to a developer).
"""

from __future__ import annotations


class StackError(RuntimeError):
    """Starting, stopping or installing a local service failed; the message says which and why."""


class ServiceUnavailable(StackError):
    """A health check did not get a correct protocol answer from a server within its timeout."""
