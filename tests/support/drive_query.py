"""Drive's query language (``q``) and partial responses (``fields``), as far as we use them.

The test server evaluates ``q`` for real, so a client that forgets ``trashed = false`` or the
image filter sees trashed files and PDFs; and it honours ``fields``, so a client that forgets
``nextPageToken`` there never sees a second page, exactly as with Google.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Item = dict[str, Any]
Predicate = Callable[[Item], bool]
TOKEN = re.compile(
    r"\s*(?:(?P<punct>[(),])|(?P<string>'(?:[^'\\]|\\.)*')|"
    r"(?P<op>!=|<=|>=|=|<|>)|(?P<word>[A-Za-z_][A-Za-z0-9_]*))"
)
FIELDS = {"name", "mimeType", "trashed", "starred", "modifiedTime", "fullText"}


class QueryError(ValueError):
    """The query is not one Drive would accept (our subset of it): a 400."""


@dataclass
class Query:
    """A compiled ``q``: the test for one file, and the parents it names (for the index)."""

    test: Predicate
    parents: list[str] = field(default_factory=list)


def compile_query(text: str) -> Query:
    tokens = _tokens(text)
    parser = _Parser(tokens)
    test = parser.disjunction()
    if parser.position != len(tokens):
        raise QueryError(f"unexpected {tokens[parser.position][1]!r} in q")
    return Query(test, parser.parents)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if match is None or match.lastgroup is None:
            raise QueryError(f"cannot read q at {text[position : position + 20]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0
        self.parents: list[str] = []

    def disjunction(self) -> Predicate:
        tests = [self.conjunction()]
        while self._accept("word", "or"):
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else lambda item: any(t(item) for t in tests)

    def conjunction(self) -> Predicate:
        tests = [self.negation()]
        while self._accept("word", "and"):
            tests.append(self.negation())
        return tests[0] if len(tests) == 1 else lambda item: all(t(item) for t in tests)

    def negation(self) -> Predicate:
        if self._accept("word", "not"):
            inner = self.negation()
            return lambda item: not inner(item)
        if self._accept("punct", "("):
            inner = self.disjunction()
            self._expect("punct", ")")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, value = self._next()
        if kind == "string":  # 'x' in parents
            self._expect("word", "in")
            self._expect("word", "parents")
            self.parents.append(value)
            return lambda item: value in (item.get("parents") or ())
        if kind != "word" or value not in FIELDS:
            raise QueryError(f"unknown field {value!r} in q")
        name = value
        op_kind, op = self._next()
        if op_kind != "op" and op != "contains":
            raise QueryError(f"expected an operator after {name!r}")
        kind, operand = self._next()
        expected: Any = operand == "true" if kind == "word" else operand
        if op == "contains":
            return lambda item: str(expected) in str(item.get(name, ""))
        if op == "=":
            return lambda item: item.get(name, False) == expected
        if op == "!=":
            return lambda item: item.get(name, False) != expected
        raise QueryError(f"operator {op!r} is not supported here")

    def _next(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise QueryError("q ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _accept(self, kind: str, value: str) -> bool:
        if self.position < len(self.tokens) and self.tokens[self.position] == (kind, value):
            self.position += 1
            return True
        return False

    def _expect(self, kind: str, value: str) -> None:
        if not self._accept(kind, value):
            raise QueryError(f"expected {value!r} in q")


Selection = dict[str, "Selection | None"]


def parse_fields(text: str | None) -> Selection | None:
    """``a,b(c,d(e))`` as ``{a: None, b: {c: None, d: {e: None}}}``; None selects everything."""
    if not text or text.strip() == "*":
        return None
    selection, _ = _fields(text.replace(" ", ""), 0)
    return selection


def _fields(text: str, position: int) -> tuple[Selection, int]:
    selection: Selection = {}
    while position < len(text):
        match = re.compile(r"[A-Za-z0-9_/*]+").match(text, position)
        if match is None:
            raise QueryError(f"cannot read fields at {text[position:]!r}")
        name, position = match.group(), match.end()
        sub: Selection | None = None
        if position < len(text) and text[position] == "(":
            sub, position = _fields(text, position + 1)
            position += 1  # the closing parenthesis
        head, *rest = name.split("/")
        for part in reversed(rest):
            sub = {part: sub}
        selection[head] = sub
        if position < len(text) and text[position] == ",":
            position += 1
        elif position < len(text) and text[position] == ")":
            break
    return selection, position


def select(value: Any, selection: Selection | None) -> Any:
    """Keep only the selected fields, inside lists too, as a partial response does."""
    if selection is None or "*" in selection:
        return value
    if isinstance(value, list):
        return [select(element, selection) for element in value]
    if isinstance(value, dict):
        return {k: select(v, selection[k]) for k, v in value.items() if k in selection}
    return value
