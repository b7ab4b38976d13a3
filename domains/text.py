"""What counts as acceptable text, for every text a person or a client sends.

One rule, used by the aggregates' own value checks and by the HTTP edge alike, so that no path
can record an event carrying a character that a read table, a mail or a spreadsheet would
choke on. PostgreSQL refuses U+0000 in text outright, and a projection that cannot store an
event stalls every later write of every studio; the other control characters (Unicode category
Cc) and the line and paragraph separators have no business in a name either.

Tab and newline (and the carriage return of a Windows newline) stay allowed where text may have
lines: comments and notes.
"""

from __future__ import annotations

import re
import unicodedata

from domains.errors import InvalidValue

LINE_BREAKS = frozenset("\t\n\r")
"""Allowed in multi-line text only."""

SEPARATORS = frozenset("\u2028\u2029")
"""Line and paragraph separators: category Zl/Zp, refused like control characters."""


def refused_character(text: str, multiline: bool = False) -> str | None:
    """The first character the rule refuses, or None when the text is acceptable."""
    for char in text:
        if multiline and char in LINE_BREAKS:
            continue
        if char in SEPARATORS or unicodedata.category(char) == "Cc":
            return char
    return None


def check_text(field: str, text: str, multiline: bool = False) -> str:
    """``text`` unchanged if acceptable; otherwise ``InvalidValue`` naming ``field``."""
    char = refused_character(text, multiline)
    if char is not None:
        allowed = " (tab and newline are allowed)" if multiline else ""
        raise InvalidValue(
            field, f"must not contain control characters such as U+{ord(char):04X}{allowed}"
        )
    return text


def scrubbed(text: str, multiline: bool = False) -> str:
    """``text`` with each refused character replaced by U+FFFD.

    For text the platform records but did not get from a person, such as a provider's error
    message: refusing it would lose the fact, recording it as is would stall the read tables.
    """
    if refused_character(text, multiline) is None:
        return text
    return "".join(
        "\ufffd" if refused_character(char, multiline) is not None else char for char in text
    )


EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_email(field: str, email: str) -> str:
    """An email address, trimmed and lower-cased: one ``@``, a dotted domain, no spaces.

    Mail that can never be sent is refused when it is typed (422 naming the field), not found
    out later by the Sender, when the client should already have had it.
    """
    cleaned = check_text(field, email).strip().lower()
    if len(cleaned) > 254 or not EMAIL_PATTERN.match(cleaned):
        raise InvalidValue(field, "is not an email address")
    return cleaned
