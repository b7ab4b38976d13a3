"""The split layout: which processes run, and the settings each gets."""

from __future__ import annotations

from infra.__main__ import ROLE_STREAMS
from infra.processes import ROLE_POOLS, child_env, layout, shape
from infra.settings import Settings


def test_auto_splits_only_on_two_cores_or_more() -> None:
    assert shape("auto", 2) == "split"
    assert shape("auto", 1) == "single"
    assert shape("auto", None) == "single"
    assert shape("single", 8) == "single"
    assert shape("split", 1) == "split"


def test_the_layout_has_the_api_processes_and_one_process_per_worker() -> None:
    children = layout(Settings(demo=True), api_workers=3)
    assert [c.name for c in children] == [
        "api-1",
        "api-2",
        "api-3",
        "relay",
        "projections",
        "sender",
        "sync",
        "album-sync",
        "render",
    ]
    assert all(c.args == ("api", "--shared-port") for c in children[:3])
    seeding = [c.name for c in children if c.env.get("PHOTOFLOW_DEMO") == "1"]
    assert seeding == ["api-1"], "the demo is seeded once"


def test_a_child_gets_its_roles_pools_unless_the_environment_sets_them() -> None:
    relay = layout(Settings(), 1)[1]
    env = child_env(relay, Settings(), {"PHOTOFLOW_READ_POOL_MAX": "12", "HOME": "/root"})
    assert env["PHOTOFLOW_READ_POOL_MAX"] == "12"
    assert env["PHOTOFLOW_EVENTSTORE_POOL_MAX"] == str(ROLE_POOLS["relay"][1])
    assert env["PHOTOFLOW_PROCESSES"] == "single"
    assert env["HOME"] == "/root"


def test_children_get_instance_names_of_their_own_when_one_is_configured() -> None:
    settings = Settings(instance="box-7")
    names = {child_env(c, settings, {})["PHOTOFLOW_INSTANCE"] for c in layout(settings, 2)}
    assert len(names) == 8
    assert "box-7:api-2" in names


def test_the_split_layout_on_two_cores_fits_in_100_connections_even_at_its_pools_maximum() -> None:
    every_store = 6

    def most(role: str) -> int:
        streams = ROLE_STREAMS.get(role)
        stores = every_store if streams is None else len(set(streams))
        _, store_max, _, read_max = ROLE_POOLS[role]
        return stores * store_max + read_max

    children = layout(Settings(), api_workers=2)
    assert sum(most(c.args[0]) for c in children) <= 100
