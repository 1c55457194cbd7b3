"""The match policy of the embedded cluster: which CPUs, GPUs and memory of
which virtual nodes a job gets.

A virtual node has ``cores`` x ``threads_per_core`` CPUs (hardware threads),
numbered ``core * threads_per_core + thread``. In ``core`` mode a task's CPUs
are whole physical cores: every thread of each core is allocated (no SMT
sibling is shared with another job) and the task is bound to the first thread
of each core, as on bare metal. In ``smt`` mode a task gets hardware threads,
packed onto sibling threads first.

``plan`` is pure (the queue policy's "fits" check); ``NodePool.take`` and
``NodePool.release`` change the pool.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from computenet.model import CpuMode


@dataclass(frozen=True)
class JobShape:
    """What a job needs, normalised from its JobSpec."""

    tasks: int = 1
    cpus_per_task: int = 1
    nodes: int | None = None  # exact node count; None = as few or many as needed
    tasks_per_node: int | None = None
    mode: CpuMode = CpuMode.CORE
    mem_per_node_bytes: int | None = None
    mem_per_cpu_bytes: int | None = None
    gpus_per_node: int = 0
    exclusive: bool = False


@dataclass(frozen=True)
class NodeAllocation:
    node: str
    index: int  # position of the node in its partition
    tasks: int
    cpus: tuple[int, ...]  # hardware threads held (idle siblings included in core mode)
    bind: tuple[int, ...]  # threads the tasks run on
    gpus: tuple[int, ...] = ()
    mem_bytes: int = 0


@dataclass(frozen=True)
class Allocation:
    nodes: tuple[NodeAllocation, ...]

    @property
    def cpus(self) -> int:
        return sum(len(n.cpus) for n in self.nodes)

    @property
    def gpus(self) -> int:
        return sum(len(n.gpus) for n in self.nodes)

    @property
    def mem_bytes(self) -> int:
        return sum(n.mem_bytes for n in self.nodes)

    @property
    def tasks(self) -> int:
        return sum(n.tasks for n in self.nodes)


@dataclass
class VirtualNode:
    name: str
    index: int
    cores: int
    threads_per_core: int
    mem_bytes: int
    gpus: int = 0
    free_cpus: set[int] = field(default_factory=set)
    free_gpus: set[int] = field(default_factory=set)
    free_mem_bytes: int = 0

    def __post_init__(self) -> None:
        self.free_cpus = set(range(self.cpus))
        self.free_gpus = set(range(self.gpus))
        self.free_mem_bytes = self.mem_bytes

    @property
    def cpus(self) -> int:
        return self.cores * self.threads_per_core

    @property
    def idle(self) -> bool:
        return len(self.free_cpus) == self.cpus and len(self.free_gpus) == self.gpus

    def _free_cores(self) -> list[int]:
        tpc = self.threads_per_core
        return [
            c for c in range(self.cores) if all(c * tpc + t in self.free_cpus for t in range(tpc))
        ]

    def threads_per_task(self, shape: JobShape) -> int:
        """Hardware threads one task holds on this node."""
        if shape.mode is CpuMode.CORE:
            return shape.cpus_per_task * self.threads_per_core
        return shape.cpus_per_task

    def _task_mem_bytes(self, shape: JobShape) -> int:
        if shape.mem_per_cpu_bytes is not None:
            return shape.mem_per_cpu_bytes * shape.cpus_per_task
        # no request: a share of the node in proportion to the threads held
        return self.mem_bytes * self.threads_per_task(shape) // self.cpus

    def mem_for(self, shape: JobShape, tasks: int) -> int:
        if shape.exclusive and shape.mem_per_node_bytes is None and shape.mem_per_cpu_bytes is None:
            return self.mem_bytes
        if shape.mem_per_node_bytes is not None:
            return shape.mem_per_node_bytes
        return self._task_mem_bytes(shape) * tasks

    def max_tasks(self, shape: JobShape) -> int:
        """How many of the job's tasks fit on this node now."""
        if shape.exclusive and not self.idle:
            return 0
        if len(self.free_gpus) < shape.gpus_per_node:
            return 0
        if shape.mode is CpuMode.CORE:
            by_cpu = len(self._free_cores()) // shape.cpus_per_task
        else:
            by_cpu = len(self.free_cpus) // shape.cpus_per_task
        if shape.mem_per_node_bytes is not None:
            by_mem = by_cpu if self.free_mem_bytes >= shape.mem_per_node_bytes else 0
        else:
            per_task = self._task_mem_bytes(shape)
            by_mem = self.free_mem_bytes // per_task if per_task else by_cpu
        return min(by_cpu, by_mem)

    def pick(self, shape: JobShape, tasks: int) -> NodeAllocation:
        """The resources ``tasks`` tasks would get here (call only when they fit)."""
        tpc = self.threads_per_core
        if shape.mode is CpuMode.CORE:
            cores = self._free_cores()[: tasks * shape.cpus_per_task]
            cpus = tuple(c * tpc + t for c in cores for t in range(tpc))
            bind = tuple(c * tpc for c in cores)
        else:
            cpus = tuple(sorted(self.free_cpus)[: tasks * shape.cpus_per_task])
            bind = cpus
        if shape.exclusive:
            cpus = tuple(range(self.cpus))
        gpus = tuple(sorted(self.free_gpus)[: shape.gpus_per_node])
        if shape.exclusive:
            gpus = tuple(range(self.gpus))
        return NodeAllocation(
            node=self.name,
            index=self.index,
            tasks=tasks,
            cpus=cpus,
            bind=bind,
            gpus=gpus,
            mem_bytes=self.mem_for(shape, tasks),
        )


def spread(tasks: int, nodes: int) -> list[int]:
    """Tasks per node, as even as possible, larger counts first (Slurm's block layout)."""
    base, extra = divmod(tasks, nodes)
    return [base + 1] * extra + [base] * (nodes - extra)


class NodePool:
    """The virtual nodes of one partition and what is free on them."""

    def __init__(self, nodes: Iterable[VirtualNode]) -> None:
        self.nodes = list(nodes)
        self._by_name = {n.name: n for n in self.nodes}

    @property
    def total_cpus(self) -> int:
        return sum(n.cpus for n in self.nodes)

    def threads_for(self, shape: JobShape) -> int:
        """The job's size in hardware threads (what the queue policy counts)."""
        if not self.nodes:
            return shape.tasks * shape.cpus_per_task
        node = self.nodes[0]
        per_task = node.threads_per_task(shape)
        if not shape.exclusive:
            return shape.tasks * per_task
        per_node = max(1, node.cpus // per_task)
        return (shape.nodes or -(-shape.tasks // per_node)) * node.cpus

    def plan(self, shape: JobShape) -> Allocation | None:
        """Where the job would run now, or None if it does not fit. Changes nothing."""
        if shape.nodes is not None:
            counts = spread(shape.tasks, shape.nodes)
            if shape.tasks_per_node is not None:
                counts = [shape.tasks_per_node] * shape.nodes
            return self._plan_counts(shape, counts)
        if shape.tasks_per_node is not None:
            full, rest = divmod(shape.tasks, shape.tasks_per_node)
            return self._plan_counts(
                shape, [shape.tasks_per_node] * full + ([rest] if rest else [])
            )
        picked: list[NodeAllocation] = []
        left = shape.tasks
        for node in self.nodes:
            if left == 0:
                break
            take = min(left, node.max_tasks(shape))
            if take > 0:
                picked.append(node.pick(shape, take))
                left -= take
        return Allocation(tuple(picked)) if left == 0 else None

    def _plan_counts(self, shape: JobShape, counts: Sequence[int]) -> Allocation | None:
        if len(counts) > len(self.nodes) or any(c < 1 for c in counts):
            return None
        picked: list[NodeAllocation] = []
        used: set[str] = set()
        for count in counts:
            node = next(
                (n for n in self.nodes if n.name not in used and n.max_tasks(shape) >= count), None
            )
            if node is None:
                return None
            used.add(node.name)
            picked.append(node.pick(shape, count))
        return Allocation(tuple(picked))

    def take(self, allocation: Allocation) -> None:
        for part in allocation.nodes:
            node = self._by_name.get(part.node)
            if node is None:
                continue  # the node left the configuration since
            node.free_cpus.difference_update(part.cpus)
            node.free_gpus.difference_update(part.gpus)
            node.free_mem_bytes -= part.mem_bytes

    def release(self, allocation: Allocation) -> None:
        for part in allocation.nodes:
            node = self._by_name.get(part.node)
            if node is None:
                continue  # the node left the configuration since
            node.free_cpus.update(c for c in part.cpus if c < node.cpus)
            node.free_gpus.update(g for g in part.gpus if g < node.gpus)
            node.free_mem_bytes = min(node.mem_bytes, node.free_mem_bytes + part.mem_bytes)


def host_cpus_for(bind: Sequence[int], first_cpu: int, host_cpus: Sequence[int]) -> list[int]:
    """Virtual CPU ids (offset by the node's first global CPU) mapped onto host CPUs."""
    if not host_cpus:
        return []
    return sorted({host_cpus[(first_cpu + cpu) % len(host_cpus)] for cpu in bind})
