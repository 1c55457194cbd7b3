"""Pools on a real embedded cluster, driven by the controller: a local-first
job bursts into a pool that grows a virtual node after its boot delay, runs
there, and the node is released after idling; a node that never boots is
released and its job placed again."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from computenet.clusters.pools import PROVIDERS, NodeProvider, ProviderNode
from computenet.clusters.pools.registry import PoolContext
from computenet.config import ClusterConfig, PartitionConfig, PoolConfig, Settings
from computenet.core.runtime import Runtime
from computenet.model import JobSpec
from computenet.store import jobs as repo
from tests.support.runtime import submit


def home_cluster(**pool: Any) -> ClusterConfig:
    return ClusterConfig(
        name="home",
        kind="embedded",
        partitions=[
            PartitionConfig(name="batch", nodes=1, cores=1, default=True),
            PartitionConfig(name="burst", cores=1),
        ],
        pools=[
            PoolConfig(
                **{
                    "name": "cloud",
                    "partition": "burst",
                    "max_nodes": 2,
                    "boot_delay_s": 0.3,
                    "idle_release_s": 0.5,
                    "resume_timeout_s": 30.0,
                    "price_per_node_hour": 3.6,
                    **pool,
                }
            )
        ],
    )


@pytest.fixture
def make_runtime(tmp_path: Path) -> Callable[..., Any]:
    started: list[Runtime] = []

    async def make(cluster: ClusterConfig, **settings: Any) -> Runtime:
        rt = Runtime(
            Settings(
                data_dir=tmp_path / "data",
                state_dir=tmp_path / "state",
                clusters=[cluster],
                token="cn_test_token",
                home_cluster="home",
                default_policy="local-first",
                local_first_wait_s=5.0,
                controller_interval_s=0.05,
                **settings,
            )
        )
        await rt.start()
        started.append(rt)
        return rt

    return make


async def wait_until(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def job(rt: Runtime, job_id: int) -> Any:
    with rt.store.session() as s:
        row = repo.get_job(s, job_id)
        s.expunge(row)
        return row


def events(rt: Runtime) -> list[dict[str, Any]]:
    return rt.controller.pools.events(None, 100)


async def test_a_local_first_job_grows_the_pool_runs_there_and_the_node_goes(
    make_runtime: Callable[..., Any],
) -> None:
    rt = await make_runtime(home_cluster())
    try:
        (blocker,) = submit(rt, JobSpec(command="sleep 30", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, blocker).state == "RUNNING")
        asked = time.monotonic()
        (burst,) = submit(rt, JobSpec(command="echo hi", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, burst).state == "COMPLETED")
        ran = job(rt, burst)
        assert (ran.cluster, ran.partition) == ("home", "burst")
        assert ran.placement is not None
        assert "pool cloud grows 1 node (boot 0 s)" in ran.placement["reason"]
        assert "bursts from home" in ran.placement["reason"]
        # the job did not start before the boot delay
        assert ran.start_time - ran.submit_time >= 0.3
        assert time.monotonic() - asked >= 0.3
        await wait_until(lambda: any(e["kind"] == "release" for e in events(rt)))
        kinds = [e["kind"] for e in events(rt)]
        assert kinds[:3] == ["grow", "up", "release"]
        (pool,) = rt.controller.pools.describe()
        assert pool["up"] == 0 and pool["booting"] == 0
        assert pool["cost"] > 0  # 3.6 per node-hour for the node's life
        assert pool["node_hours"] * 3.6 == pytest.approx(pool["cost"], rel=1e-3)
        assert "grows 1 node(s)" in pool["last_growth"]
        assert rt.adapters["home"].node_names("burst") == []  # type: ignore[attr-defined]
    finally:
        await rt.stop()


class NeverBoots(NodeProvider):
    """A provider whose nodes never come up (a cloud that never delivers)."""

    kind = "never"

    def __init__(self) -> None:
        self.held: set[str] = set()
        self.deleted: list[str] = []

    async def create(self, names: Sequence[str]) -> list[ProviderNode]:
        self.held |= set(names)
        return [ProviderNode(n, "booting") for n in names]

    async def delete(self, names: Sequence[str]) -> None:
        self.deleted += names
        self.held -= set(names)

    async def list(self) -> list[ProviderNode]:
        return [ProviderNode(n, "booting") for n in sorted(self.held)]


async def test_a_node_that_never_boots_is_released_and_its_job_placed_again(
    make_runtime: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = NeverBoots()

    def make(_: PoolContext) -> NodeProvider:
        return provider

    monkeypatch.setitem(PROVIDERS, "never", make)
    rt = await make_runtime(home_cluster(provider="never", resume_timeout_s=0.5))
    try:
        (blocker,) = submit(rt, JobSpec(command="sleep 2", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, blocker).state == "RUNNING")
        (burst,) = submit(rt, JobSpec(command="echo hi", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, burst).state == "COMPLETED")
        done = job(rt, burst)
        # placed again after the failed boot, it ran at home once the blocker ended
        assert (done.cluster, done.partition) == ("home", "batch")
        assert provider.deleted == ["home-burst-n1"]
        kinds = [e["kind"] for e in events(rt)]
        assert kinds[:3] == ["grow", "failed", "requeue"]
        with rt.store.session() as s:
            reasons = [e.reason or "" for e in repo.events(s, burst)]
        assert any(
            "REQUEUED_FAILOVER: pool cloud: node home-burst-n1 did not boot" in r for r in reasons
        )
        (pool,) = rt.controller.pools.describe()
        assert pool["blocked_why"] == "node home-burst-n1 did not boot in time"
    finally:
        await rt.stop()


async def test_the_hard_cap_keeps_jobs_home_and_the_soft_cap_warns(
    make_runtime: Callable[..., Any],
) -> None:
    rt = await make_runtime(home_cluster(), pool_spend_cap_per_hour=1.0)
    try:
        (blocker,) = submit(rt, JobSpec(command="sleep 1", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, blocker).state == "RUNNING")
        (second,) = submit(rt, JobSpec(command="true", time_limit_s=60))
        rt.controller.wake()
        await wait_until(lambda: job(rt, second).state == "COMPLETED")
        done = job(rt, second)
        assert (done.cluster, done.partition) == ("home", "batch")
        assert events(rt) == []
    finally:
        await rt.stop()
    soft = await make_runtime(home_cluster(), pool_spend_soft_cap_per_hour=1.0)
    try:
        (blocker,) = submit(soft, JobSpec(command="sleep 30", time_limit_s=60))
        soft.controller.wake()
        await wait_until(lambda: job(soft, blocker).state == "RUNNING")
        (third,) = submit(soft, JobSpec(command="true", time_limit_s=60))
        soft.controller.wake()
        await wait_until(lambda: job(soft, third).state == "COMPLETED")
        assert job(soft, third).partition == "burst"
        warnings = [e["message"] for e in events(soft) if e["kind"] == "warning"]
        assert warnings == ["pool spending 3.60/h passes the soft cap of 1.00/h"]
    finally:
        await soft.stop()


async def test_a_slurm_pool_job_is_held_until_the_node_it_powered_up_is_idle(
    make_runtime: Callable[..., Any],
) -> None:
    """On Slurm the controller powers a node up itself and sends the job once
    the node is idle (core.pool_steps.hold_for_node); the pool here is made a
    Slurm one around a recording adapter and provider."""
    from computenet.core import pool_steps
    from computenet.model import NodeSnapshot, Snapshot

    rt = await make_runtime(home_cluster(max_nodes=1, boot_delay_s=0.0))
    ctrl = rt.controller
    st = ctrl.pools.get("cloud")
    st.cluster = st.cluster.model_copy(update={"kind": "slurm"})
    name = st.names[0]
    asked: list[list[str]] = []
    created: list[list[str]] = []
    order: list[str] = []

    class Adapter:
        async def power_up(self, nodes: Sequence[str]) -> None:
            asked.append(list(nodes))
            order.append("power_up")

    class Provider:
        async def create(self, names: Sequence[str]) -> list[ProviderNode]:
            created.append(list(names))
            order.append("create")
            return []

    ctrl.adapters["home"] = Adapter()
    st.provider = Provider()  # type: ignore[assignment]

    def snap(state: str) -> Snapshot:
        return Snapshot(time=0.0, nodes=(NodeSnapshot(name, "burst", 1, 0, state=state),))

    # the pool is empty: a node is powered up, the job held
    why = await pool_steps.hold_for_node(ctrl, "home", "burst", snap("powered_down"))
    assert why == f"waiting for pool node {name} to power up"
    assert asked == [[name]] and created == [[name]]
    # the boot delay starts at the decision, before slurmctld is asked
    assert order == ["create", "power_up"]
    # still booting: held, not powered up twice
    why = await pool_steps.hold_for_node(ctrl, "home", "burst", snap("powering_up"))
    assert why is not None and asked == [[name]]
    # idle in Slurm: sent now; another partition is never held
    assert await pool_steps.hold_for_node(ctrl, "home", "burst", snap("idle")) is None
    assert await pool_steps.hold_for_node(ctrl, "home", "batch", snap("powered_down")) is None
    events = [e["kind"] for e in ctrl.pools.events("cloud", 10)]
    assert "grow" in events


async def test_a_slurm_pool_node_powering_down_or_refused_holds_nothing_forever(
    make_runtime: Callable[..., Any],
) -> None:
    from computenet.core import pool_steps
    from computenet.errors import ClusterError
    from computenet.model import NodeSnapshot, Snapshot

    rt = await make_runtime(home_cluster(max_nodes=1, boot_delay_s=0.0))
    ctrl = rt.controller
    st = ctrl.pools.get("cloud")
    st.cluster = st.cluster.model_copy(update={"kind": "slurm"})
    name = st.names[0]

    class Refusing:
        async def power_up(self, nodes: Sequence[str]) -> None:
            raise ClusterError("home: Invalid node state specified")

    class Provider:
        def __init__(self) -> None:
            self.booting: set[str] = set()

        async def create(self, names: Sequence[str]) -> list[ProviderNode]:
            self.booting.update(names)
            return []

        async def delete(self, names: Sequence[str]) -> None:
            self.booting.difference_update(names)

    ctrl.adapters["home"] = Refusing()
    provider = Provider()
    st.provider = provider  # type: ignore[assignment]

    def snap(state: str) -> Snapshot:
        return Snapshot(time=0.0, nodes=(NodeSnapshot(name, "burst", 1, 0, state=state),))

    # powering down: wait for it to end, ask nothing yet
    why = await pool_steps.hold_for_node(ctrl, "home", "burst", snap("powering_down"))
    assert why == "waiting for a pool node to finish powering down"
    # slurmctld refuses the power-up: the job goes to Slurm's own path
    assert await pool_steps.hold_for_node(ctrl, "home", "burst", snap("powered_down")) is None
    (pool,) = [p for p in ctrl.pools.describe() if p["name"] == "cloud"]
    assert pool["booting"] == 0
    assert provider.booting == set()  # the boot begun for it is withdrawn
    messages = [e["message"] for e in ctrl.pools.events("cloud", 10)]
    assert any("cannot power" in m for m in messages), messages
