"""What clusters are and what they report: plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from computenet.model.spec import JobSpec
from computenet.model.state import JobState
from computenet.model.tenancy import ClusterIdentity


@dataclass(frozen=True)
class NodeType:
    cores: int  # physical cores per node
    threads_per_core: int = 1
    mem_bytes: int = 4 * 2**30
    gpus: int = 0
    gpu_model: str | None = None
    arch: str = "x86_64"
    features: tuple[str, ...] = ()
    speed: float = 1.0  # relative speed; run time = requested / speed
    clock_ghz: float | None = None  # nominal core clock, for the derived peak
    flops_per_cycle: int | None = None  # double-precision FLOPs per core per cycle

    @property
    def cpus(self) -> int:
        """Schedulable CPUs per node (hardware threads)."""
        return self.cores * self.threads_per_core


@dataclass(frozen=True)
class PartitionInfo:
    name: str
    node_type: NodeType
    nodes: int
    max_time_s: int | None = None
    default: bool = False
    price_per_core_hour: float = 0.0
    price_per_gpu_hour: float = 0.0

    @property
    def total_cpus(self) -> int:
        return self.nodes * self.node_type.cpus

    @property
    def total_cores(self) -> int:
        return self.nodes * self.node_type.cores


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    kind: str  # embedded | slurm | fake
    partitions: tuple[PartitionInfo, ...]
    site: str = "local"
    region: str = "local"
    scheduler: str = "easy"  # the queue policy the cluster runs: fcfs | easy | conservative

    def partition(self, name: str | None) -> PartitionInfo | None:
        if name is None:
            for p in self.partitions:
                if p.default:
                    return p
            return self.partitions[0] if self.partitions else None
        for p in self.partitions:
            if p.name == name:
                return p
        return None


@dataclass(frozen=True)
class NodeSnapshot:
    name: str
    partition: str
    cpus: int
    cpus_alloc: int
    gpus: int = 0
    gpus_alloc: int = 0
    mem_bytes: int = 0
    mem_alloc_bytes: int = 0
    # idle | mixed | allocated | down | drained | powered_down | powering_up | powering_down
    state: str = "idle"
    load: float | None = None


@dataclass(frozen=True)
class SnapshotJob:
    """A job as the cluster's queue sees it (ours or anyone's)."""

    native_id: str
    partition: str
    cpus: int
    nodes: int
    time_limit_s: int
    submit_time: float
    start_time: float | None = None  # None while pending
    gpus: int = 0


@dataclass(frozen=True)
class Snapshot:
    time: float
    nodes: tuple[NodeSnapshot, ...]
    running: tuple[SnapshotJob, ...] = ()
    pending: tuple[SnapshotJob, ...] = ()

    def free_cpus(self, partition: str | None = None) -> int:
        return sum(
            n.cpus - n.cpus_alloc
            for n in self.nodes
            if n.state not in ("down", "drained")
            and (partition is None or n.partition == partition)
        )


@dataclass(frozen=True)
class AttemptRequest:
    """What the controller asks a cluster to run.

    ``tag`` is unique per (job, attempt) and is stored with the native job
    (name or comment) so ``find`` can tell after a crash whether the
    submission happened.
    """

    tag: str
    job_id: str
    attempt: int
    spec: JobSpec
    partition: str | None
    owner: str
    array_job_id: str | None = None
    array_task_id: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    #: who submits it there (None: the cluster's own account); see model.tenancy
    identity: ClusterIdentity | None = None
    project: str | None = None


@dataclass(frozen=True)
class AttemptStatus:
    native_id: str
    state: JobState
    exit_code: str | None = None  # Slurm's "code:signal"
    reason: str | None = None
    start_time: float | None = None
    end_time: float | None = None
    node_list: str | None = None


@dataclass(frozen=True)
class Usage:
    native_id: str
    elapsed_s: float
    cpus: int
    gpus: int = 0
    nodes: int = 1
    mem_bytes: int = 0  # allocated
    cpu_time_s: float | None = None  # TotalCPU
    max_rss_bytes: int | None = None

    @property
    def core_seconds(self) -> float:
        return self.elapsed_s * self.cpus

    @property
    def gpu_seconds(self) -> float:
        return self.elapsed_s * self.gpus
