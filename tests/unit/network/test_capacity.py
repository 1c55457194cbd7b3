"""Total and callable scale, peak FLOPS: what `cnet capacity` computes."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from computenet.errors import SpecError
from computenet.model import NodeType
from computenet.network import ClusterView
from computenet.network.bursting import UP, PoolNode, PoolView
from computenet.network.capacity import (
    callable_scale,
    charge_per_node,
    largest,
    parse_horizon,
    parse_shape,
    total_scale,
)
from computenet.network.peak import node_peak
from computenet.scheduling import QueuedJob, RunningJob, predict_start

from .conftest import cluster, snapshot

NOW = 1000.0


def test_total_scale_counts_cores_threads_gpus_by_model_and_memory() -> None:
    a = cluster("a", cores=8, nodes=3, mem_gib=64)
    smt = dataclasses.replace(a.partitions[0].node_type, threads_per_core=2)
    a = dataclasses.replace(a, partitions=(dataclasses.replace(a.partitions[0], node_type=smt),))
    g = cluster("g", cores=32, nodes=2, gpus=4, gpu_model="A100", mem_gib=512)
    s = total_scale([a, g])
    assert (s.nodes, s.cores, s.threads) == (5, 3 * 8 + 2 * 32, 3 * 16 + 2 * 32)
    assert s.mem_bytes == (3 * 64 + 2 * 512) * 2**30
    assert s.gpus == {"A100": 8}


@pytest.mark.parametrize(
    ("text", "cpus", "gpus", "mem", "whole", "limit"),
    [
        ("node", 0, 0, 0, True, 3600),
        ("cpus=4", 4, 0, 0, False, 3600),
        ("gpus=1,mem=32G", 0, 1, 32 * 2**30, False, 3600),
        ("cpus=8, time=4:00:00", 8, 0, 0, False, 14400),
    ],
)
def test_shapes_parse(text: str, cpus: int, gpus: int, mem: int, whole: bool, limit: int) -> None:
    s = parse_shape(text)
    assert (s.cpus, s.gpus, s.mem_bytes, s.whole_node, s.time_limit_s) == (
        cpus,
        gpus,
        mem,
        whole,
        limit,
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("big", "unknown shape part"),
        ("cores=4", "unknown shape part"),
        ("cpus=0", "whole number"),
        ("cpus=x", "whole number"),
        ("cpus=2,cpus=3", "repeated"),
        ("mem=4G", "asks for nothing"),
        ("node,cpus=2", "whole nodes"),
        ("cpus=2,time=UNLIMITED", "finite"),
        ("", "unknown shape"),
    ],
)
def test_bad_shapes_say_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse_shape(text)


def test_horizons_parse_and_out_of_range_is_refused() -> None:
    assert parse_horizon("10m") == 600
    assert parse_horizon("1h") == 3600
    assert parse_horizon("24h") == 86400
    assert parse_horizon("90") == 90
    assert parse_horizon("0") == 0
    for bad in ("8d", "-1h", "soon", "1y", "1e9"):
        with pytest.raises(SpecError):
            parse_horizon(bad)


def test_charge_counts_the_node_share_of_gpus_and_memory() -> None:
    g = cluster("g", cores=32, nodes=2, gpus=4, gpu_model="A100", mem_gib=256).partitions[0]
    assert charge_per_node(parse_shape("gpus=1"), g) == 8
    assert charge_per_node(parse_shape("cpus=2,mem=128G"), g) == 16
    assert charge_per_node(parse_shape("node"), g) == 32
    assert "GPUs per node" in str(charge_per_node(parse_shape("gpus=8"), g))
    assert "per node, has" in str(charge_per_node(parse_shape("cpus=1,mem=1T"), g))


def test_callable_on_an_idle_cluster_is_every_node() -> None:
    info = cluster("a", cores=4, nodes=8)
    view = ClusterView(info, snapshot(info, NOW))
    (row,) = callable_scale(view, parse_shape("node"), [0.0], NOW)
    assert (row.nodes, row.cpus, row.start) == (8, 32, NOW)


def test_callable_grows_with_the_horizon_as_running_jobs_end() -> None:
    info = cluster("a", cores=4, nodes=4, scheduler="fcfs")
    # 12 of 16 CPUs busy: 8 end at +600, 4 more at +7200
    snap = snapshot(info, NOW, running=[(8, NOW, 600), (4, NOW, 7200)])
    view = ClusterView(info, snap)
    rows = callable_scale(view, parse_shape("cpus=4"), [0.0, 600.0, 7200.0], NOW)
    assert [r.nodes for r in rows] == [1, 3, 4]
    assert rows[1].start == NOW + 600


def test_callable_agrees_with_the_planner_one_node_more_would_miss() -> None:
    """The answer is the planner's: n nodes start by the deadline, n + 1 do not."""
    info = cluster("a", cores=4, nodes=6)
    snap = snapshot(
        info,
        NOW,
        running=[(8, NOW - 100, 900), (8, NOW, 3000), (4, NOW, 200)],
        pending=[(16, 1800), (8, 600)],
    )
    view = ClusterView(info, snap)
    shape = parse_shape("cpus=4,time=30:00")
    running = [RunningJob(j.native_id, j.cpus, j.start_time + j.time_limit_s) for j in snap.running]  # type: ignore[operator]
    pending = [QueuedJob(j.native_id, j.cpus, j.time_limit_s, j.submit_time) for j in snap.pending]
    for h in (0.0, 300.0, 1000.0, 3600.0, 7200.0):
        (row,) = callable_scale(view, shape, [h], NOW)

        def start(n: int) -> float:
            job = QueuedJob("x", 4 * n, 1800.0, NOW)
            return predict_start("easy", pending, running, 24, NOW, job)

        if row.nodes:
            assert start(row.nodes) <= NOW + h
        if row.nodes < 6:
            assert start(row.nodes + 1) > NOW + h


def test_a_shape_no_node_holds_is_zero_with_the_reason() -> None:
    info = cluster("a", cores=4, nodes=2)
    (row,) = callable_scale(ClusterView(info, snapshot(info, NOW)), parse_shape("gpus=1"), [0], NOW)
    assert row.nodes == 0 and row.reason is not None and "GPUs" in row.reason


def test_a_cluster_without_a_snapshot_says_so() -> None:
    info = cluster("a")
    (row,) = callable_scale(ClusterView(info, None), parse_shape("node"), [60.0], NOW)
    assert row.nodes == 0 and "no snapshot" in (row.reason or "")


def test_a_pool_adds_its_nodes_after_the_boot_delay() -> None:
    info = cluster("a", cores=4, nodes=10)
    view = ClusterView(info, snapshot(info, NOW))
    pool = PoolView(
        "p",
        "a",
        "batch",
        cpus_per_node=4,
        max_nodes=10,
        price_per_node_hour=1.0,
        boot_delay_s=300.0,
        nodes=(PoolNode("a-n0", UP, NOW - 50, 4, NOW - 50), PoolNode("a-n1", UP, NOW, 4)),
    )
    rows = callable_scale(view, parse_shape("node"), [0.0, 299.0, 300.0], NOW, [pool])
    assert [r.nodes for r in rows] == [2, 2, 10]
    assert rows[2].pool and rows[2].start == NOW + 300
    blocked = dataclasses.replace(pool, blocked_until=NOW + 3600)
    rows = callable_scale(view, parse_shape("node"), [600.0], NOW, [blocked])
    assert rows[0].nodes == 2


def test_largest_picks_the_partition_with_most_nodes() -> None:
    a, b = cluster("a", cores=4, nodes=2), cluster("b", cores=4, nodes=5)
    rows = [
        *callable_scale(ClusterView(a, snapshot(a, NOW)), parse_shape("node"), [0.0], NOW),
        *callable_scale(ClusterView(b, snapshot(b, NOW)), parse_shape("node"), [0.0], NOW),
    ]
    best = largest(rows, 0.0)
    assert best is not None and best.cluster == "b"


def test_peak_is_cores_times_clock_times_flops_per_cycle_plus_gpus() -> None:
    nt = NodeType(cores=64, threads_per_core=2, clock_ghz=2.0, flops_per_cycle=32)
    peak = node_peak(nt)
    assert peak.cpu_gflops == 64 * 2.0 * 32  # threads add nothing
    assert "64 cores x 2 GHz x 32" in peak.derivation
    gpu = node_peak(dataclasses.replace(nt, gpus=4, gpu_model="A100"))
    assert gpu.gflops == pytest.approx(64 * 2.0 * 32 + 4 * 9700.0)
    unknown = node_peak(NodeType(cores=4))
    assert unknown.gflops is None and "clock_ghz" in unknown.derivation
    odd = node_peak(NodeType(cores=4, clock_ghz=1.0, flops_per_cycle=4, gpus=1, gpu_model="X9"))
    assert odd.gpu_gflops is None and "not in the peak table" in odd.derivation


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 16), st.integers(60, 7200)), max_size=6),
    st.lists(st.tuples(st.integers(1, 24), st.integers(60, 7200)), max_size=12),
    st.integers(1, 4),
    st.sampled_from([0.0, 300.0, 3600.0, 86400.0]),
    st.sampled_from(["easy", "fcfs"]),
)
def test_callable_is_the_largest_count_the_planner_starts_by_the_deadline(
    running_spec: list[tuple[int, int]],
    pending_spec: list[tuple[int, int]],
    per_node: int,
    horizon: float,
    policy: str,
) -> None:
    info = cluster("a", cores=4, nodes=6, scheduler=policy)
    running, used = [], 0
    for procs, limit in running_spec:
        if used + procs <= 24:
            running.append((procs, NOW, limit))
            used += procs
    snap = snapshot(info, NOW, running=running, pending=pending_spec)
    shape = parse_shape(f"cpus={per_node},time=20:00")
    (row,) = callable_scale(ClusterView(info, snap), shape, [horizon], NOW)
    run = [RunningJob(j.native_id, j.cpus, NOW + j.time_limit_s) for j in snap.running]
    queue = [QueuedJob(j.native_id, j.cpus, j.time_limit_s, j.submit_time) for j in snap.pending]

    def start(n: int) -> float:
        return predict_start(policy, queue, run, 24, NOW, QueuedJob("x", n * per_node, 1200.0, NOW))

    if row.nodes:
        assert start(row.nodes) <= NOW + horizon
        assert row.cpus == row.nodes * per_node
    if row.nodes < 6:
        assert start(row.nodes + 1) > NOW + horizon
