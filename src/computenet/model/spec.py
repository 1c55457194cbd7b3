"""JobSpec: what a user asked for, independent of where it runs.

A JobSpec is built by ``spec.parse_sbatch`` from a script's ``#SBATCH``
directives and command-line options. It keeps the user's original options
(``sbatch_args``) so a Slurm cluster receives them unchanged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from enum import StrEnum
from typing import Any

SPEC_VERSION = 1


class CpuMode(StrEnum):
    CORE = "core"  # whole physical cores (bare metal, no SMT sibling shared)
    SMT = "smt"  # hardware threads


class DependencyType(StrEnum):
    AFTER = "after"  # after the job started (or was cancelled)
    AFTEROK = "afterok"
    AFTERANY = "afterany"
    AFTERNOTOK = "afternotok"
    AFTERCORR = "aftercorr"  # array task N after task N of the other array succeeded
    AFTERBURSTBUFFER = "afterburstbuffer"
    SINGLETON = "singleton"


@dataclass(frozen=True)
class Dependency:
    kind: DependencyType
    job_ids: tuple[str, ...] = ()
    delay_s: int = 0  # "after:ID+minutes": this long after the other job started


@dataclass(frozen=True)
class ArraySpec:
    indices: tuple[int, ...]
    max_running: int | None = None  # the %N limit
    text: str = ""


@dataclass(frozen=True)
class Signal:
    name: str  # e.g. "USR1"
    seconds_before: int = 60
    batch_only: bool = False  # "B:" prefix: signal the batch shell only


@dataclass(frozen=True)
class Staging:
    """One declared input or output: ``site:path`` to ``dest`` (or back)."""

    site: str
    path: str
    dest: str


@dataclass(frozen=True)
class Mount:
    """One ``--container-mounts`` entry: a host path seen at ``target`` inside
    the container (pyxis's ``SRC[:DST[:FLAGS]]``)."""

    source: str
    target: str
    read_only: bool = False

    def text(self) -> str:
        return f"{self.source}:{self.target}" + (":ro" if self.read_only else "")


@dataclass(frozen=True)
class AppFigure:
    """How a catalogue run's performance figure is read from its output."""

    regex: str
    unit: str
    higher_is_better: bool
    stream: str = "stdout"
    per: str = "cpu"  # the allocation unit figures are normalised by: cpu | gpu | node


@dataclass(frozen=True)
class AppRef:
    """A job made from the catalogue: which application, with what values,
    and where it is installed (cluster names or globs; empty: anywhere).
    ``unusable`` lists clusters matched by ``installed`` that cannot run it
    all the same, with the reason (a command missing on an embedded host)."""

    name: str
    version: str
    installed: tuple[str, ...] = ()
    unusable: tuple[tuple[str, str], ...] = ()
    figure: AppFigure | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AppRef:
        figure = data.get("figure")
        return cls(
            name=str(data["name"]),
            version=str(data.get("version", "")),
            installed=tuple(data.get("installed", ())),
            unusable=tuple((str(c), str(w)) for c, w in data.get("unusable", ())),
            figure=AppFigure(**figure) if figure else None,
            params=dict(data.get("params") or {}),
        )


@dataclass(frozen=True)
class Sizes:
    nodes: int
    tasks: int
    cpus: int
    gpus: int


def derived_sizes(
    nodes: int | None,
    ntasks: int | None,
    ntasks_per_node: int | None,
    cpus_per_task: int | None,
    gpus: int | None,
    gpus_per_node: int | None,
    gpus_per_task: int | None,
) -> Sizes:
    """Totals from what was given, by sbatch's defaults (one node, one task per
    node, one CPU per task); also used on stored spec dicts."""
    node_count = nodes or 1
    if ntasks is not None:
        tasks = ntasks
    elif ntasks_per_node is not None:
        tasks = ntasks_per_node * node_count
    else:
        tasks = node_count
    if gpus is not None:
        total_gpus = gpus
    elif gpus_per_node is not None:
        total_gpus = gpus_per_node * node_count
    elif gpus_per_task is not None:
        total_gpus = gpus_per_task * tasks
    else:
        total_gpus = 0
    return Sizes(node_count, tasks, tasks * (cpus_per_task or 1), total_gpus)


@dataclass(frozen=True)
class JobSpec:
    """A job request. Sizes are totals unless the name says per-node/per-task.

    ``None`` means "not given" (the cluster's default applies), so a Slurm
    cluster receives only what the user wrote.
    """

    name: str = "job"
    script: str | None = None  # full batch script text (with #! line)
    command: str | None = None  # --wrap
    args: tuple[str, ...] = ()  # arguments after the script
    workdir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    export: str = "ALL"
    output: str | None = None
    error: str | None = None
    input: str | None = None
    open_mode: str | None = None  # append | truncate
    nodes: int | None = None
    max_nodes: int | None = None
    ntasks: int | None = None
    ntasks_per_node: int | None = None
    cpus_per_task: int | None = None
    ntasks_per_core: int | None = None
    mem_per_node_bytes: int | None = None
    mem_per_cpu_bytes: int | None = None
    gpus: int | None = None  # total GPUs (-G/--gpus)
    gpus_per_node: int | None = None
    gpus_per_task: int | None = None
    gpu_type: str | None = None
    gres: str | None = None
    time_limit_s: int | None = None
    partition: str | None = None
    account: str | None = None
    qos: str | None = None
    exclusive: bool = False
    constraint: str | None = None
    reservation: str | None = None
    cpu_mode: CpuMode | None = None
    array: ArraySpec | None = None
    dependency: tuple[Dependency, ...] = ()
    dependency_any: bool = False  # "?"-separated: any one satisfied is enough
    signal: Signal | None = None
    begin_time: float | None = None
    hold: bool = False
    comment: str | None = None
    # network options
    clusters: tuple[str, ...] = ()
    policy: str | None = None
    deadline: float | None = None
    max_cost: float | None = None
    site: str | None = None
    region: str | None = None
    hedge: int | None = None
    app: str | None = None
    catalogue: AppRef | None = None  # set for jobs made from the application catalogue
    inputs: tuple[Staging, ...] = ()
    outputs: tuple[Staging, ...] = ()
    # containers (pyxis's option names); None: the job runs on the host
    container_image: str | None = None
    container_mounts: tuple[Mount, ...] = ()
    container_workdir: str | None = None
    # what we did with options the embedded cluster does not act on
    ignored: tuple[str, ...] = ()
    sbatch_args: tuple[str, ...] = ()  # command-line options as the user gave them

    # ----- derived sizes -------------------------------------------------
    @property
    def tasks(self) -> int:
        return derived_sizes(
            self.nodes,
            self.ntasks,
            self.ntasks_per_node,
            self.cpus_per_task,
            self.gpus,
            self.gpus_per_node,
            self.gpus_per_task,
        ).tasks

    @property
    def cpus(self) -> int:
        """Total CPUs asked for (tasks x cpus per task)."""
        return self.tasks * (self.cpus_per_task or 1)

    @property
    def node_count(self) -> int:
        return self.nodes or 1

    @property
    def total_gpus(self) -> int:
        return derived_sizes(
            self.nodes,
            self.ntasks,
            self.ntasks_per_node,
            self.cpus_per_task,
            self.gpus,
            self.gpus_per_node,
            self.gpus_per_task,
        ).gpus

    def mem_bytes_total(self, default_per_cpu: int = 0) -> int:
        if self.mem_per_node_bytes is not None:
            return self.mem_per_node_bytes * self.node_count
        if self.mem_per_cpu_bytes is not None:
            return self.mem_per_cpu_bytes * self.cpus
        return default_per_cpu * self.cpus

    # ----- persistence ---------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (equal to ``dataclasses.asdict``, which costs
        several times more: it deep-copies every value of some 60 fields)."""
        data = {name: _plain(getattr(self, name)) for name in _FIELD_NAMES}
        data["version"] = SPEC_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        data = dict(data)
        data.pop("version", None)
        known = {f.name for f in fields(cls)}
        data = {k: v for k, v in data.items() if k in known}
        if data.get("cpu_mode") is not None:
            data["cpu_mode"] = CpuMode(data["cpu_mode"])
        if data.get("array") is not None:
            arr = data["array"]
            data["array"] = ArraySpec(
                tuple(arr["indices"]), arr.get("max_running"), arr.get("text", "")
            )
        data["dependency"] = tuple(
            Dependency(DependencyType(d["kind"]), tuple(d["job_ids"]), int(d.get("delay_s", 0)))
            for d in data.get("dependency", ())
        )
        if data.get("signal") is not None:
            data["signal"] = Signal(**data["signal"])
        for key in ("inputs", "outputs"):
            data[key] = tuple(Staging(**s) for s in data.get(key, ()))
        data["container_mounts"] = tuple(Mount(**m) for m in data.get("container_mounts", ()))
        if data.get("catalogue") is not None:
            data["catalogue"] = AppRef.from_dict(data["catalogue"])
        for key in ("args", "clusters", "ignored", "sbatch_args"):
            data[key] = tuple(data.get(key, ()))
        return cls(**data)


_SCALARS = frozenset({str, int, float, bool})


#: JobSpec's field names, in order (read by ``to_dict`` on every submission).
_FIELD_NAMES = tuple(f.name for f in fields(JobSpec))


def _plain(value: Any) -> Any:
    """One field as ``asdict`` gives it: nested dataclasses become dicts,
    containers are copied, scalars (str, int, float, enums, None) kept."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, tuple):
        return tuple(asdict(v) if is_dataclass(v) and not isinstance(v, type) else v for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return value
