"""A wrong setting stops the start with one line naming its environment variable."""

from __future__ import annotations

import pytest

from infra.__main__ import read_settings
from infra.settings import Settings


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("PHOTOFLOW_TOPIC_PARTITIONS", '{"nope": 3}', "names no topic: nope"),
        ("PHOTOFLOW_TOPIC_PARTITIONS", '{"photoflow.album": 0}', "greater than 0"),
        ("PHOTOFLOW_TOPIC_PARTITIONS", "not json", "not valid JSON"),
        ("PHOTOFLOW_READ_REPLICA_URL", "garbage", "postgresql:// URL"),
        ("PHOTOFLOW_HTTP_PORT", "eighty", "valid integer"),
    ],
)
def test_a_wrong_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, said: str
) -> None:
    monkeypatch.setenv(name, value)
    found = read_settings()
    assert isinstance(found, str)
    assert "\n" not in found and said in found
    assert name in found or "PHOTOFLOW_TOPIC_PARTITIONS" in found


def test_good_settings_are_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PHOTOFLOW_TOPIC_PARTITIONS", '{"photoflow.album": 24}')
    found = read_settings()
    assert isinstance(found, Settings) and found.topic_partitions == {"photoflow.album": 24}
