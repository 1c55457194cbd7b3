"""The match policy: core vs SMT arithmetic, gang allocation, memory, GPUs."""

from __future__ import annotations

from computenet.clusters.embedded.allocator import (
    JobShape,
    NodePool,
    VirtualNode,
    host_cpus_for,
    spread,
)
from computenet.model import CpuMode


def _pool(
    nodes: int = 1, cores: int = 2, tpc: int = 2, mem: int = 8 * 2**30, gpus: int = 0
) -> NodePool:
    return NodePool(
        VirtualNode(
            name=f"n{i + 1}", index=i, cores=cores, threads_per_core=tpc, mem_bytes=mem, gpus=gpus
        )
        for i in range(nodes)
    )


def test_core_mode_takes_whole_cores_and_binds_first_thread() -> None:
    pool = _pool(cores=2, tpc=2)
    shape = JobShape(tasks=1, cpus_per_task=1, mode=CpuMode.CORE)
    first = pool.plan(shape)
    assert first is not None
    assert first.nodes[0].cpus == (0, 1)  # the sibling is held, not shared
    assert first.nodes[0].bind == (0,)
    pool.take(first)
    second = pool.plan(shape)
    assert second is not None and second.nodes[0].cpus == (2, 3)
    pool.take(second)
    assert pool.plan(shape) is None
    assert pool.threads_for(JobShape(tasks=2, mode=CpuMode.CORE)) == 4


def test_smt_mode_hands_out_hardware_threads() -> None:
    pool = _pool(cores=2, tpc=2)
    shape = JobShape(tasks=1, cpus_per_task=1, mode=CpuMode.SMT)
    got = []
    for _ in range(4):
        alloc = pool.plan(shape)
        assert alloc is not None
        pool.take(alloc)
        got.append(alloc.nodes[0].cpus)
    assert got == [(0,), (1,), (2,), (3,)]
    assert pool.plan(shape) is None
    assert pool.threads_for(JobShape(tasks=3, cpus_per_task=1, mode=CpuMode.SMT)) == 3


def test_a_half_used_core_is_not_whole_for_core_mode() -> None:
    pool = _pool(cores=2, tpc=2)
    smt = pool.plan(JobShape(tasks=1, mode=CpuMode.SMT))
    assert smt is not None
    pool.take(smt)
    core = pool.plan(JobShape(tasks=1, mode=CpuMode.CORE))
    assert core is not None and core.nodes[0].cpus == (2, 3)
    pool.take(core)
    assert pool.plan(JobShape(tasks=1, mode=CpuMode.CORE)) is None
    assert pool.plan(JobShape(tasks=1, mode=CpuMode.SMT)) is not None  # thread 1 is free


def test_release_gives_everything_back() -> None:
    pool = _pool(nodes=2, cores=2, tpc=1, gpus=1)
    alloc = pool.plan(JobShape(tasks=4, gpus_per_node=1, nodes=2))
    assert alloc is not None
    pool.take(alloc)
    assert all(not n.free_cpus and not n.free_gpus for n in pool.nodes)
    pool.release(alloc)
    assert all(n.idle and n.free_mem_bytes == n.mem_bytes for n in pool.nodes)


def test_gang_allocation_spreads_tasks_over_the_asked_nodes() -> None:
    pool = _pool(nodes=3, cores=4, tpc=1)
    alloc = pool.plan(JobShape(tasks=3, nodes=2))
    assert alloc is not None
    assert [(n.node, n.tasks) for n in alloc.nodes] == [("n1", 2), ("n2", 1)]
    assert spread(5, 2) == [3, 2]


def test_tasks_per_node_fixes_the_layout() -> None:
    pool = _pool(nodes=4, cores=4, tpc=1)
    alloc = pool.plan(JobShape(tasks=4, tasks_per_node=2))
    assert alloc is not None
    assert [n.tasks for n in alloc.nodes] == [2, 2]
    assert pool.plan(JobShape(tasks=10, tasks_per_node=2)) is None  # five nodes needed


def test_gang_needs_every_node_at_once() -> None:
    pool = _pool(nodes=2, cores=2, tpc=1)
    busy = pool.plan(JobShape(tasks=1))
    assert busy is not None
    pool.take(busy)
    assert pool.plan(JobShape(tasks=4, nodes=2)) is None
    assert pool.plan(JobShape(tasks=2, nodes=2)) is not None


def test_without_node_count_tasks_pack_across_nodes() -> None:
    pool = _pool(nodes=2, cores=2, tpc=1)
    alloc = pool.plan(JobShape(tasks=3))
    assert alloc is not None
    assert [(n.node, n.tasks) for n in alloc.nodes] == [("n1", 2), ("n2", 1)]


def test_cpus_per_task_stay_on_one_node() -> None:
    pool = _pool(nodes=2, cores=3, tpc=1)
    alloc = pool.plan(JobShape(tasks=2, cpus_per_task=2))
    assert alloc is not None
    assert [len(n.cpus) for n in alloc.nodes] == [2, 2]


def test_exclusive_holds_whole_idle_nodes() -> None:
    pool = _pool(nodes=2, cores=2, tpc=2)
    alloc = pool.plan(JobShape(tasks=1, exclusive=True))
    assert alloc is not None
    assert alloc.nodes[0].cpus == (0, 1, 2, 3)
    assert alloc.nodes[0].mem_bytes == 8 * 2**30
    pool.take(alloc)
    small = pool.plan(JobShape(tasks=1, mode=CpuMode.SMT))
    assert small is not None and small.nodes[0].node == "n2"
    pool.take(small)
    assert pool.plan(JobShape(tasks=1, exclusive=True)) is None


def test_memory_requests_limit_placement() -> None:
    pool = _pool(nodes=1, cores=4, tpc=1, mem=4 * 2**30)
    assert pool.plan(JobShape(tasks=1, mem_per_node_bytes=5 * 2**30)) is None
    alloc = pool.plan(JobShape(tasks=2, mem_per_cpu_bytes=2**30))
    assert alloc is not None and alloc.nodes[0].mem_bytes == 2 * 2**30
    big = pool.plan(JobShape(tasks=1, mem_per_node_bytes=3 * 2**30))
    assert big is not None
    pool.take(big)
    # one CPU left free by memory: 1 GiB remains
    assert pool.plan(JobShape(tasks=2, mem_per_cpu_bytes=2**30)) is None
    assert pool.plan(JobShape(tasks=1, mem_per_cpu_bytes=2**30)) is not None


def test_default_memory_is_a_share_of_the_node() -> None:
    pool = _pool(nodes=1, cores=4, tpc=1, mem=4 * 2**30)
    alloc = pool.plan(JobShape(tasks=1))
    assert alloc is not None and alloc.nodes[0].mem_bytes == 2**30


def test_gpus_are_counted_per_node() -> None:
    pool = _pool(nodes=2, cores=4, tpc=1, gpus=2)
    alloc = pool.plan(JobShape(tasks=1, gpus_per_node=2))
    assert alloc is not None and alloc.nodes[0].gpus == (0, 1)
    pool.take(alloc)
    other = pool.plan(JobShape(tasks=1, gpus_per_node=1))
    assert other is not None and other.nodes[0].node == "n2"
    assert pool.plan(JobShape(tasks=1, gpus_per_node=3)) is None


def test_virtual_cpus_map_onto_host_cpus_modulo() -> None:
    assert host_cpus_for((0, 1), first_cpu=0, host_cpus=[0, 1]) == [0, 1]
    assert host_cpus_for((1,), first_cpu=4, host_cpus=[0, 1]) == [1]
    assert host_cpus_for((0, 1, 2), first_cpu=0, host_cpus=[3, 5]) == [3, 5]
    assert host_cpus_for((0,), first_cpu=0, host_cpus=[]) == []
