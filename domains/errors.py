"""Errors the domain raises when a command breaks a rule.

The HTTP layer maps each kind to one status code, so the domain never needs to know about HTTP:
``InvalidValue`` is a 422 naming the field, ``NotFound`` a 404, ``RuleBroken`` a 409 and
``ConcurrencyConflict`` a 409 whose problem type ends in ``/concurrency-conflict``.
"""


class DomainError(Exception):
    """Base class: a command was refused and nothing was recorded."""


class InvalidValue(DomainError):
    """A value does not satisfy the model's invariants."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(DomainError):
    """The aggregate does not exist (or the caller may not know it exists)."""

    def __init__(self, kind: str, aggregate_id: object) -> None:
        super().__init__(f"{kind} {aggregate_id} was not found")
        self.kind = kind
        self.aggregate_id = aggregate_id


class RuleBroken(DomainError):
    """The command is valid in itself but the aggregate's current state forbids it."""


class ConcurrencyConflict(DomainError):
    """Another write to the same aggregate won the race; the caller should reload and retry."""
