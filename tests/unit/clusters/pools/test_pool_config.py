"""Pool settings and Slurm host lists: each bad value is a clear error."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.config import ClusterConfig, load_settings
from computenet.errors import ConfigError, SpecError
from computenet.shims.hostlist import compress, expand


def cluster(**pool: object) -> ClusterConfig:
    return ClusterConfig.model_validate(
        {
            "name": "a",
            "partitions": [{"name": "batch", "default": True}, {"name": "burst", "cores": 4}],
            "pools": [{"name": "p", "partition": "burst", **pool}],
        }
    )


def test_a_pool_takes_its_partitions_size_and_bills_its_node_price_per_core() -> None:
    c = cluster(max_nodes=3, price_per_node_hour=0.4)
    assert c.partitions[1].nodes == 3
    assert c.partitions[1].price_per_core_hour == pytest.approx(0.1)
    assert c.pool_for("burst") is c.pools[0] and c.pool_for("batch") is None


@pytest.mark.parametrize(
    ("pool", "message"),
    [
        ({"partition": "nosuch"}, "no partition 'nosuch'"),
        ({"min_nodes": 5, "max_nodes": 2}, "min_nodes is over max_nodes"),
        ({"provider": "nosuch"}, "unknown provider 'nosuch'"),
        ({"provider": "libcloud"}, "provider libcloud and a [cloud] table go together"),
        ({"nodes": "c[1-"}, "unbalanced brackets"),
        ({"nodes": "c[1-2]", "max_nodes": 3}, "max_nodes 3 but only 2 node names"),
        ({"boot_delay_s": -1}, "greater than or equal to 0"),
        ({"bogus": 1}, "Extra inputs are not permitted"),
    ],
)
def test_bad_pool_settings_are_refused(pool: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        cluster(**pool)


def test_a_slurm_pool_needs_its_cloud_node_names(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="set nodes to the partition's State=CLOUD hostlist"):
        ClusterConfig(name="s", kind="slurm", pools=[{"name": "p", "partition": "cloud"}])  # type: ignore[list-item]
    ok = ClusterConfig(
        name="s", kind="slurm", pools=[{"name": "p", "partition": "cloud", "nodes": "s1c[1-4]"}]
    )  # type: ignore[list-item]
    assert ok.pools[0].max_nodes == 4


def test_a_broken_pool_in_the_environment_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CN_POOL_SPEND_CAP_PER_HOUR", "-3")
    with pytest.raises(ConfigError, match="pool_spend_cap_per_hour"):
        load_settings()


def test_expand_reads_slurm_host_lists() -> None:
    assert expand("c1c[1-3,7]") == ["c1c1", "c1c2", "c1c3", "c1c7"]
    assert expand("gpu[01-02],login") == ["gpu01", "gpu02", "login"]
    assert expand("r[1-2]n[1-2]") == ["r1n1", "r1n2", "r2n1", "r2n2"]
    for bad, why in (
        ("n[1-", "unbalanced"),
        ("n[a]", "bad range"),
        ("n[3-1]", "backwards"),
        ("", "empty"),
        ("n[1-99999999]", "more than"),
    ):
        with pytest.raises(SpecError, match=why):
            expand(bad)


@given(st.sets(st.integers(0, 500), min_size=1, max_size=40))
def test_expand_undoes_compress(numbers: set[int]) -> None:
    names = [f"node{n}" for n in sorted(numbers)]
    assert expand(compress(names)) == names
