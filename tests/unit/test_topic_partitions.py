"""How many partitions each topic is created with: the default, or the one named for it."""

from __future__ import annotations

import pytest

from broker.topics import ALBUMS, DLT_SUFFIX, ORGS, all_topics, planned_partitions
from infra.settings import Settings


def test_a_named_topic_gets_its_count_and_every_other_the_default() -> None:
    planned = planned_partitions(6, {ALBUMS.topic: 24})
    assert planned[ALBUMS.topic] == 24
    assert planned[ORGS.topic] == 6
    assert planned[ALBUMS.topic + DLT_SUFFIX] == 6
    assert set(planned) == set(all_topics())


def test_a_name_that_is_no_topic_is_refused_with_the_names_there_are() -> None:
    with pytest.raises(ValueError) as refused:
        planned_partitions(6, {"photoflow.albums": 24})
    assert "photoflow.albums" in str(refused.value)
    assert ALBUMS.topic in str(refused.value)


def test_the_setting_reads_json_and_refuses_a_count_below_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOTOFLOW_TOPIC_PARTITIONS", '{"photoflow.album": 24}')
    assert Settings().topic_partitions == {"photoflow.album": 24}
    monkeypatch.setenv("PHOTOFLOW_TOPIC_PARTITIONS", '{"photoflow.album": 0}')
    with pytest.raises(ValueError, match="topic_partitions"):
        Settings()
