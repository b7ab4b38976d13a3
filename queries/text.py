"""Text fields at the HTTP edge: the domain's one rule for acceptable text, as pydantic types.

``Line`` is one line of text (a name, a title, an email, a tag, a search term); ``Lines`` may
hold tabs and newlines (a comment, a note). Both refuse U+0000 and the other control characters
with a 422 naming the field, before any command runs; the aggregates check the same rule
(``domains.text``) so a path that skips the edge cannot record such text either. The OpenAPI
document carries the rule as a ``pattern``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError
from starlette.requests import Request

from domains.errors import InvalidValue
from domains.text import check_text
from queries.problems import invalid

LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"
LINES_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u2028\\u2029]*$"


def _checked(multiline: bool) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            return check_text("", value, multiline)
        except InvalidValue as refused:
            raise PydanticCustomError("control_character", refused.message) from None

    return AfterValidator(validate)


Line = Annotated[str, _checked(multiline=False), Field(json_schema_extra={"pattern": LINE_PATTERN})]
"""One line of text: no control characters at all."""

Lines = Annotated[
    str, _checked(multiline=True), Field(json_schema_extra={"pattern": LINES_PATTERN})
]
"""Text that may have lines: tab, newline and carriage return allowed, no other control."""


def header_line(request: Request, name: str, default: str) -> str:
    """A text header read as UTF-8, ``default`` when absent; anything else is a 422 naming it.

    Starlette hands headers over as Latin-1, which would turn the bytes of many UTF-8
    characters into C1 control characters; the bytes are decoded as the UTF-8 they are.
    """
    value = request.headers.get(name)
    if value is None:
        return default
    field = f"header.{name.lower()}"
    try:
        text = value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        raise invalid([{"field": field, "message": "must be UTF-8 text"}]) from None
    try:
        return check_text(field, text)
    except InvalidValue as refused:
        raise invalid([{"field": refused.field, "message": refused.message}]) from None
