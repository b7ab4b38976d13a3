"""The relay's fast path's small parts agree with what they replace, on their own."""

from __future__ import annotations

import random
from uuid import uuid4

import pytest
from aiokafka.partitioner import DefaultPartitioner

from broker.envelope import event_id
from broker.relay_copy import CopyFormatError, rows
from broker.relay_envelopes import event_id_text
from broker.relay_process import key_hash


def test_the_event_id_text_is_the_envelopes_uuid5() -> None:
    for version in (1, 2, 9, 10, 12345):
        aggregate = uuid4()
        assert event_id_text(str(aggregate), version) == str(event_id(aggregate, version))


def test_the_key_hash_picks_the_default_partitioners_partition() -> None:
    pick = DefaultPartitioner()
    rng = random.Random(12)
    for _ in range(500):
        key = str(uuid4()).encode() if rng.random() < 0.8 else rng.randbytes(rng.randrange(40))
        partitions = list(range(rng.randrange(1, 13)))
        expected = pick(key, partitions, partitions)
        assert partitions[key_hash(key) % len(partitions)] == expected


def test_bytes_that_are_no_binary_copy_are_refused() -> None:
    with pytest.raises(CopyFormatError):
        rows(b"not a copy")
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    assert rows(header + b"\xff\xff") == []
    with pytest.raises(CopyFormatError):
        rows(header + b"\x00\x05\x00\x00")  # a row cut short
