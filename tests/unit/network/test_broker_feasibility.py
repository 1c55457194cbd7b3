"""Filtering: every reason a cluster cannot run a job, in words a user can act on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from computenet.model import ClusterHealth, ClusterInfo, JobSpec
from computenet.network import ClusterView, feasible, place


def why_not(spec: JobSpec, view: ClusterView) -> str | None:
    [cand] = [c for c in place(spec, [view], now=0.0).candidates if c.cluster == view.name]
    return cand.why_not


@pytest.mark.parametrize(
    ("spec", "info_kwargs", "expected"),
    [
        (JobSpec(nodes=1, ntasks=64), {"cores": 4}, "needs 64 CPUs per node, c has 4"),
        (JobSpec(ntasks=512), {"cores": 4, "nodes": 2}, "needs 512 CPUs, c has 8"),
        (JobSpec(nodes=3), {"nodes": 2}, "needs 3 nodes, c has 2"),
        (JobSpec(cpus_per_task=8), {"cores": 4}, "needs 8 CPUs per task, c has 4 per node"),
        (
            JobSpec(mem_per_node_bytes=64 * 2**30),
            {"mem_gib": 16},
            "needs 64 GiB memory per node, c has 16 GiB",
        ),
        (JobSpec(gpus=2), {}, "needs 2 GPUs, c has none"),
        (
            JobSpec(gpus=1, gpu_type="a100"),
            {"gpus": 4, "gpu_model": "v100"},
            "needs GPU model a100, c has v100",
        ),
        (JobSpec(gpus=16), {"gpus": 4, "gpu_model": "a100"}, "needs 16 GPUs, c has 8"),
        (
            JobSpec(constraint="ib&avx512"),
            {"features": ("ib",)},
            "needs features 'ib&avx512', c has (ib, x86_64)",
        ),
        (
            JobSpec(constraint="aarch64"),
            {},
            "needs features 'aarch64', c has (x86_64)",
        ),
        (
            JobSpec(time_limit_s=7200),
            {"max_time_s": 3600},
            "needs 2.0 h, c allows at most 60 min",
        ),
        (JobSpec(partition="gpu"), {}, "c has no partition 'gpu' (has: batch)"),
        (JobSpec(clusters=("a", "b")), {}, "not among the requested clusters (a, b)"),
        (JobSpec(site="hpc2n"), {"site": "sdsc"}, "c is at site sdsc, the job asks for hpc2n"),
        (JobSpec(region="eu"), {"region": "us"}, "c is in region us, the job asks for eu"),
    ],
)
def test_each_reason_names_the_need_and_what_the_cluster_has(
    spec: JobSpec,
    info_kwargs: dict[str, object],
    expected: str,
    make_cluster: Callable[..., ClusterInfo],
) -> None:
    view = ClusterView(make_cluster("c", **info_kwargs), None)  # type: ignore[arg-type]
    assert why_not(spec, view) == expected


def test_features_or_and_matching_pass(make_cluster: Callable[..., ClusterInfo]) -> None:
    view = ClusterView(make_cluster("c", features=("ib", "avx2")), None)
    assert why_not(JobSpec(constraint="avx512|avx2"), view) is None
    assert why_not(JobSpec(constraint="ib&avx2"), view) is None
    assert why_not(JobSpec(constraint="ib&avx512|avx2"), view) is None


def test_gres_gpu_counts_like_gpus(make_cluster: Callable[..., ClusterInfo]) -> None:
    view = ClusterView(make_cluster("c", gpus=2, gpu_model="a100"), None)
    assert why_not(JobSpec(gres="gpu:v100:1"), view) == "needs GPU model v100, c has a100"
    assert why_not(JobSpec(gres="gpu:a100:2"), view) is None


def test_user_not_allowed(make_cluster: Callable[..., ClusterInfo]) -> None:
    view = ClusterView(make_cluster("c"), None, allowed=False)
    assert why_not(JobSpec(), view) == "the user may not use c"


def test_budget_and_max_cost_exclude_expensive_clusters(
    make_cluster: Callable[..., ClusterInfo],
) -> None:
    info = make_cluster("c", price=1.0)  # 1 per core-hour
    spec = JobSpec(ntasks=4, time_limit_s=3600)
    assert why_not(spec, ClusterView(info, None, budget_left=2.0)) == (
        "costs 4.00 on c, budget left 2.00"
    )
    capped = JobSpec(ntasks=4, time_limit_s=3600, max_cost=1.0)
    assert why_not(capped, ClusterView(info, None)) == (
        "costs 4.00 on c, more than the job's max cost 1.00"
    )


def test_nothing_feasible_summarises_every_reason(make_cluster: Callable[..., ClusterInfo]) -> None:
    views = [
        ClusterView(make_cluster("a", cores=4), None),
        ClusterView(make_cluster("b", cores=8), None),
    ]
    p = place(JobSpec(nodes=1, ntasks=64), views, now=0.0)
    assert p.chosen is None
    assert p.reason == (
        "no cluster can run this job: needs 64 CPUs per node, a has 4; "
        "needs 64 CPUs per node, b has 8"
    )


def test_all_feasible_clusters_down_means_waiting_not_error(
    make_cluster: Callable[..., ClusterInfo],
) -> None:
    views = [
        ClusterView(make_cluster("a"), None, health=ClusterHealth.DOWN),
        ClusterView(make_cluster("b", cores=1), None),
    ]
    p = place(JobSpec(nodes=1, ntasks=2), views, now=0.0)
    assert p.chosen is None
    assert p.reason == "waiting: a is down"


def test_degraded_cluster_still_gets_work(make_cluster: Callable[..., ClusterInfo]) -> None:
    views = [ClusterView(make_cluster("a"), None, health=ClusterHealth.DEGRADED)]
    assert place(JobSpec(), views, now=0.0).chosen == "a"


def test_feasible_lists_shape_only_and_keeps_reasons(
    make_cluster: Callable[..., ClusterInfo],
) -> None:
    views = [ClusterView(make_cluster("b", cores=1), None), ClusterView(make_cluster("a"), None)]
    cands = feasible(JobSpec(nodes=1, ntasks=2), views)
    assert [(c.cluster, c.feasible, c.why_not) for c in cands] == [
        ("a", True, None),
        ("b", False, "needs 2 CPUs per node, b has 1"),
    ]


def test_named_partition_among_several(make_cluster: Callable[..., ClusterInfo]) -> None:
    from dataclasses import replace

    from computenet.model import NodeType, PartitionInfo

    base = make_cluster("c")
    gpu = PartitionInfo("gpu", NodeType(cores=4, gpus=2, gpu_model="a100"), 1)
    info = replace(base, partitions=(*base.partitions, gpu))
    p = place(JobSpec(gpus=1), [ClusterView(info, None)], now=0.0)
    assert (p.chosen, p.partition) == ("c", "gpu")
    batch_only = place(JobSpec(gpus=1, partition="batch"), [ClusterView(info, None)], now=0.0)
    assert batch_only.chosen is None
    assert "needs 1 GPU, c partition batch has none" in batch_only.reason


def test_a_containerised_job_skips_clusters_without_a_runtime(
    make_cluster: Callable[..., ClusterInfo],
) -> None:
    spec = JobSpec(container_image="mpi")
    without = ClusterView(make_cluster("c"), None, containers="no pyxis here")
    with_runtime = ClusterView(make_cluster("d"), None)
    assert why_not(spec, without) == "c cannot run containers: no pyxis here"
    assert why_not(JobSpec(), without) is None  # a bare job still goes there
    assert place(spec, [without, with_runtime], now=0.0).chosen == "d"


def test_the_image_copy_counts_in_staging(make_cluster: Callable[..., ClusterInfo]) -> None:
    spec = JobSpec(container_image="mpi", time_limit_s=600)
    far = ClusterView(make_cluster("far"), None, image_staging_s=120.0)
    near = ClusterView(make_cluster("near"), None)
    placement = place(spec, [far, near], now=0.0, policy="fastest")
    staging = {c.cluster: c.staging_s for c in placement.candidates}
    assert staging == {"far": 120.0, "near": 0.0}
    assert placement.chosen == "near"
