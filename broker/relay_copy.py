"""The relay's rows as PostgreSQL's binary ``COPY`` sends them, and parsed from those bytes.

The relay selects each batch with ``COPY (SELECT ...) TO STDOUT (FORMAT binary)``: the bytes
arrive as one buffer that the relay's process hands, unopened, to the process that builds the
messages (``broker.relay_process``), so the process that sends to Kafka spends no time on the
rows at all. The format is PostgreSQL's documented one: an 11-byte signature, two 32-bit
words (flags, header extension length) and the extension; then per row a 16-bit field count
and, per field, a 32-bit length (-1 for NULL) and the value in its type's binary form; a
field count of -1 ends the data. The select casts every column, so the binary forms are fixed:
``bigint`` (8 bytes, big-endian), ``text`` (UTF-8), ``bytea`` (the bytes themselves).
"""

from __future__ import annotations

import struct

from broker.relay_envelopes import Row

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
COLUMNS = (
    "originator_id::text, originator_version::bigint, topic::text, state::bytea, "
    "notification_id::bigint"
)
"""The five columns, in the order and types ``rows`` reads them. The notification id comes
last so that ``last_position`` finds the batch's end in the last bytes, without parsing."""
_TRAILER = b"\xff\xff"
_LAST_ID = b"\x00\x00\x00\x08"  # the last field's length: a bigint's 8 bytes

_HEADER = struct.Struct(">II")
_LENGTH = struct.Struct(">i")
_BIGINT = struct.Struct(">q")
_ROW_HEAD = struct.Struct(">hi")
_ROW_MIDDLE = struct.Struct(">iqi")
_ROW_TAIL = struct.Struct(">iq")


def copy_query(table: str, after: int, limit: int) -> str:
    """The select to COPY: the rows after ``after``, at most ``limit``, in notification order.

    The two numbers are written into the text (as integers: nothing else can get in), because
    asyncpg's ``copy_from_query`` would otherwise inline its arguments itself, with two more
    round trips to the server (a prepare and a select) before every COPY.
    """
    return (
        f"SELECT {COLUMNS} FROM {table} WHERE notification_id > {int(after)} "
        f"ORDER BY notification_id LIMIT {int(limit)}"
    )


class CopyFormatError(ValueError):
    """The bytes are not the binary COPY of the relay's five columns."""


def last_position(data: bytes) -> int:
    """The notification id of the last row of a binary COPY of ``COLUMNS`` (not empty)."""
    if not data.endswith(_TRAILER) or data[-14:-10] != _LAST_ID:
        raise CopyFormatError("no bigint notification id at the end of the COPY")
    return int(_BIGINT.unpack(data[-10:-2])[0])


def rows(data: bytes) -> list[Row]:
    """The rows of one binary COPY of ``COLUMNS``: (id, originator id text, version, topic,
    stored state).

    Read with one ``struct`` call per run of fixed-size fields: the builder parses a few
    thousand rows a batch.
    """
    if not data.startswith(SIGNATURE):
        raise CopyFormatError("not a binary COPY")
    _, extension = _HEADER.unpack_from(data, len(SIGNATURE))
    at = len(SIGNATURE) + _HEADER.size + extension
    head = _ROW_HEAD.unpack_from  # field count, originator's length
    middle = _ROW_MIDDLE.unpack_from  # version's length and value, topic's length
    length = _LENGTH.unpack_from  # state's length
    tail = _ROW_TAIL.unpack_from  # notification id's length and value
    found: list[Row] = []
    end = len(data) - len(_TRAILER)
    try:
        while True:
            if at == end and data[at:] == _TRAILER:
                return found
            count, size = head(data, at)
            if count != 5:
                raise CopyFormatError(f"a row of {count} columns, not 5")
            at += 6
            originator = data[at : at + size].decode()
            at += size
            eight, version, size = middle(data, at)
            at += 16
            topic = data[at : at + size].decode()
            at += size
            (size,) = length(data, at)
            at += 4
            state = data[at : at + size]
            at += size
            last, ident = tail(data, at)
            at += 12
            if eight != 8 or last != 8 or size < 0 or len(originator) != 36:
                raise CopyFormatError("a NULL or a length the relay's columns never have")
            found.append((ident, originator, version, topic, state))
    except struct.error as e:
        raise CopyFormatError(f"the COPY ended early: {e}") from None
