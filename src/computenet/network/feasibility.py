"""Can this cluster run this job at all? Each "no" comes with a reason a
person can act on ("needs 64 CPUs per node, local-b has 4")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from computenet.model import AppRef, ClusterInfo, CpuMode, JobSpec, PartitionInfo

DEFAULT_TIME_LIMIT_S = 3600  # when neither the job nor the partition says


@dataclass(frozen=True)
class Fit:
    """How a job would sit on one partition: what its queue and bill see."""

    partition: PartitionInfo
    cpus: int  # CPUs held (whole nodes when exclusive)
    nodes: int
    gpus: int
    time_limit_s: int  # requested wall time, the scheduler's view of length


def fmt_bytes(n: int) -> str:
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            value = n / size
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n} B"


def fmt_duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 600:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


_GRES_GPU = re.compile(r"^gpu(?::(?P<model>[A-Za-z][\w.-]*))?(?::(?P<count>\d+))?$")


def requested_gpus(spec: JobSpec) -> tuple[int, str | None]:
    """Total GPUs and model, from -G/--gpus* or a ``gpu[:model][:count]`` gres."""
    total, model = spec.total_gpus, spec.gpu_type
    if total == 0 and spec.gres:
        for item in spec.gres.split(","):
            m = _GRES_GPU.match(item.strip())
            if m:
                per_node = int(m.group("count") or 1)
                total = per_node * spec.node_count
                model = model or m.group("model")
    return total, model


def constraint_ok(expr: str | None, features: frozenset[str]) -> bool:
    """Slurm-style ``a&b``, ``a|b`` (``&`` binds tighter; brackets ignored)."""
    if not expr:
        return True
    text = expr.replace("[", "").replace("]", "").replace(",", "&")
    return any(
        all(term.strip() in features for term in alt.split("&") if term.strip())
        for alt in text.split("|")
    )


def cluster_why_not(
    spec: JobSpec,
    info: ClusterInfo,
    allowed: bool,
    denied: str | None = None,
    containers: str | None = None,
) -> str | None:
    """Reasons that hold for the whole cluster, whatever the partition
    (``denied``: the project's own reason, see ``network.access``;
    ``containers``: why the cluster cannot run container images)."""
    if spec.clusters and info.name not in spec.clusters:
        return f"not among the requested clusters ({', '.join(spec.clusters)})"
    if spec.site is not None and info.site != spec.site:
        return f"{info.name} is at site {info.site}, the job asks for {spec.site}"
    if spec.region is not None and info.region != spec.region:
        return f"{info.name} is in region {info.region}, the job asks for {spec.region}"
    if denied is not None:
        return denied
    if not allowed:
        return f"the user may not use {info.name}"
    if spec.container_image and containers is not None:
        return f"{info.name} cannot run containers: {containers}"
    if spec.catalogue is not None:
        return app_why_not(spec.catalogue, info.name)
    return None


def app_why_not(app: AppRef, cluster: str) -> str | None:
    """Why a catalogue application cannot run on ``cluster``: no install
    entry names it, or the entry that does cannot be used there."""
    for name, why in app.unusable:
        if name == cluster:
            return f"{app.name} cannot run on {cluster}: {why}"
    if app.installed and not any(fnmatchcase(cluster, p) for p in app.installed):
        where = ", ".join(app.installed)
        return f"{app.name} is not installed on {cluster} (installed on: {where})"
    return None


def candidate_partitions(spec: JobSpec, info: ClusterInfo) -> tuple[PartitionInfo, ...] | str:
    """The named partition, or every partition (the default first)."""
    if spec.partition is not None:
        p = info.partition(spec.partition)
        if p is None:
            names = ", ".join(q.name for q in info.partitions) or "none"
            return f"{info.name} has no partition {spec.partition!r} (has: {names})"
        return (p,)
    if not info.partitions:
        return f"{info.name} has no partitions"
    return tuple(sorted(info.partitions, key=lambda q: not q.default))


def fit(spec: JobSpec, info: ClusterInfo, p: PartitionInfo) -> Fit | str:
    """The job's shape on partition ``p``, or why it can never run there."""
    where = info.name if len(info.partitions) == 1 else f"{info.name} partition {p.name}"
    nt = p.node_type
    node_cpus = nt.cores if spec.cpu_mode == CpuMode.CORE else nt.cpus
    cpt = spec.cpus_per_task or 1
    cpus = spec.cpus
    if cpt > node_cpus:
        return f"needs {cpt} CPUs per task, {where} has {node_cpus} per node"
    if spec.nodes is not None:
        nodes = spec.nodes
        if spec.ntasks_per_node is not None:
            per_node = spec.ntasks_per_node * cpt
        else:
            per_node = math.ceil(cpus / nodes)
        if per_node > node_cpus:
            return f"needs {per_node} CPUs per node, {where} has {node_cpus}"
    else:
        tasks_per_node = node_cpus // cpt
        nodes = math.ceil(spec.tasks / tasks_per_node)
        per_node = min(cpus, tasks_per_node * cpt)
    mem_node = spec.mem_per_node_bytes
    if mem_node is None and spec.mem_per_cpu_bytes is not None:
        mem_node = spec.mem_per_cpu_bytes * per_node
    if mem_node is not None and mem_node > nt.mem_bytes:
        return f"needs {fmt_bytes(mem_node)} memory per node, {where} has {fmt_bytes(nt.mem_bytes)}"
    gpus, model = requested_gpus(spec)
    if gpus > 0:
        if nt.gpus == 0:
            return f"needs {gpus} GPU{'s' if gpus > 1 else ''}, {where} has none"
        if model is not None and (nt.gpu_model or "").lower() != model.lower():
            return f"needs GPU model {model}, {where} has {nt.gpu_model or 'unnamed GPUs'}"
        per_node_gpus = spec.gpus_per_node or math.ceil(gpus / nodes)
        if per_node_gpus > nt.gpus:
            if spec.nodes is not None or spec.gpus_per_node is not None:
                return f"needs {per_node_gpus} GPUs per node, {where} has {nt.gpus}"
            nodes = math.ceil(gpus / nt.gpus)
    if nodes > p.nodes:
        if spec.nodes is not None:
            return f"needs {nodes} nodes, {where} has {p.nodes}"
        if gpus > 0 and nodes * node_cpus >= cpus:
            return f"needs {gpus} GPUs, {where} has {p.nodes * nt.gpus}"
        return f"needs {cpus} CPUs, {where} has {p.nodes * node_cpus}"
    features = frozenset((*nt.features, nt.arch))
    if not constraint_ok(spec.constraint, features):
        have = ", ".join(sorted(features))
        return f"needs features {spec.constraint!r}, {where} has ({have})"
    limit = spec.time_limit_s or p.max_time_s or DEFAULT_TIME_LIMIT_S
    if p.max_time_s is not None and limit > p.max_time_s:
        return f"needs {fmt_duration(limit)}, {where} allows at most {fmt_duration(p.max_time_s)}"
    if spec.exclusive:
        cpus = nodes * node_cpus
    return Fit(partition=p, cpus=cpus, nodes=nodes, gpus=gpus, time_limit_s=int(limit))
