"""Admission: turn a JobSpec into a partition, a shape and a script, or refuse it
with a clear reason (nothing is submitted then; these refusals are not transient)."""

from __future__ import annotations

import re
import shutil
import subprocess

from computenet.clusters.embedded.allocator import JobShape, NodePool, VirtualNode
from computenet.config import ClusterConfig, PartitionConfig
from computenet.errors import ClusterError, SpecError
from computenet.model import CpuMode, JobSpec

_GRES_GPU = re.compile(r"^gpu(?::([A-Za-z0-9_.-]+))?(?::(\d+))?$")


def choose_partition(
    partitions: list[PartitionConfig], cluster: str, name: str | None
) -> PartitionConfig:
    if not partitions:
        raise ClusterError(f"cluster {cluster} has no partitions")
    if name is None:
        return next((p for p in partitions if p.default), partitions[0])
    for p in partitions:
        if p.name == name:
            return p
    known = ", ".join(p.name for p in partitions)
    raise ClusterError(f"cluster {cluster} has no partition {name!r} (it has: {known})")


def gres_gpus(gres: str | None) -> tuple[str | None, int]:
    """(model, count) from ``--gres=gpu[:model][:count]``; (None, 0) when no GPU."""
    for item in (gres or "").split(","):
        match = _GRES_GPU.match(item.strip())
        if match:
            model, count = match.group(1), match.group(2)
            if model is not None and model.isdigit() and count is None:
                return None, int(model)
            return model, int(count or 1)
    return None, 0


def shape_of(spec: JobSpec, part: PartitionConfig) -> JobShape:
    mode = spec.cpu_mode or (CpuMode.SMT if part.threads_per_core > 1 else CpuMode.CORE)
    tasks = spec.tasks
    nodes = spec.nodes
    if nodes is not None and spec.ntasks is not None and spec.ntasks < nodes:
        nodes = spec.ntasks  # as Slurm does: one task cannot span nodes
    per_node_nodes = nodes or 1
    _, gres_count = gres_gpus(spec.gres)
    if spec.gpus_per_node is not None:
        gpus = spec.gpus_per_node
    elif spec.gpus is not None:
        gpus = -(-spec.gpus // per_node_nodes)
    elif spec.gpus_per_task is not None:
        gpus = spec.gpus_per_task * -(-tasks // per_node_nodes)
    else:
        gpus = gres_count
    return JobShape(
        tasks=tasks,
        cpus_per_task=spec.cpus_per_task or 1,
        nodes=nodes,
        tasks_per_node=spec.ntasks_per_node,
        mode=mode,
        mem_per_node_bytes=spec.mem_per_node_bytes,
        mem_per_cpu_bytes=spec.mem_per_cpu_bytes,
        gpus_per_node=gpus,
        exclusive=spec.exclusive,
    )


def check_fits_partition(
    spec: JobSpec,
    shape: JobShape,
    part: PartitionConfig,
    gpus_per_node: int,
    gpu_model: str | None,
    cluster: str,
) -> None:
    """Refuse a job this partition could never run, even when empty."""
    where = f"partition {part.name} of {cluster}"
    model = spec.gpu_type or gres_gpus(spec.gres)[0]
    if (
        shape.gpus_per_node
        and model
        and (gpu_model is None or model.lower() not in gpu_model.lower())
    ):
        raise ClusterError(f"{where} has no {model} GPUs (it has {gpu_model or 'none'})")
    if spec.constraint:
        wanted = [f for f in re.split(r"[&,]", spec.constraint) if f]
        alternatives = [a for a in spec.constraint.split("|") if a]
        have = set(part.features) | {part.arch}
        ok = (
            any(a.strip("[]() ") in have for a in alternatives)
            if len(alternatives) > 1
            else all(f.strip("[]() ") in have for f in wanted)
        )
        if not ok:
            raise ClusterError(
                f"{where} lacks the features {spec.constraint!r} "
                f"(it has: {', '.join(sorted(have))})"
            )
    empty = NodePool(
        VirtualNode(
            name=f"n{i}",
            index=i,
            cores=part.cores,
            threads_per_core=part.threads_per_core,
            mem_bytes=part.mem_bytes,
            gpus=gpus_per_node,
        )
        for i in range(part.nodes)
    )
    if empty.plan(shape) is None:
        raise ClusterError(
            f"{where} cannot run this job even when empty: it asks for {shape.tasks} task(s) "
            f"x {shape.cpus_per_task} CPU(s) ({shape.mode.value} mode)"
            f"{f' on {shape.nodes} node(s)' if shape.nodes else ''}"
            f"{f', {shape.gpus_per_node} GPU(s) per node' if shape.gpus_per_node else ''}"
            f"{_mem_text(shape)}; it has {part.nodes} node(s) of {part.cores} core(s) x "
            f"{part.threads_per_core} thread(s), {part.mem_bytes} bytes"
            f"{f', {gpus_per_node} GPU(s)' if gpus_per_node else ''} each"
        )


def _mem_text(shape: JobShape) -> str:
    if shape.mem_per_node_bytes is not None:
        return f", {shape.mem_per_node_bytes} bytes per node"
    if shape.mem_per_cpu_bytes is not None:
        return f", {shape.mem_per_cpu_bytes} bytes per CPU"
    return ""


def time_limit_of(spec: JobSpec, part: PartitionConfig, cluster: str) -> int | None:
    limit = spec.time_limit_s
    if limit is not None and limit <= 0:
        raise SpecError(f"time limit must be positive, got {limit} s")
    if limit is not None and part.max_time_s is not None and limit > part.max_time_s:
        raise ClusterError(
            f"time limit {limit} s is over the {part.max_time_s} s limit of "
            f"partition {part.name} of {cluster}"
        )
    return limit if limit is not None else part.max_time_s


def script_of(spec: JobSpec) -> str:
    if spec.script is not None:
        if not spec.script.startswith("#!"):
            raise SpecError(
                "this does not look like a batch script: the first line must "
                "start with #! followed by the path to an interpreter"
            )
        return spec.script
    if spec.command is not None:
        return f"#!/bin/sh\n{spec.command}\n"
    raise SpecError("a job needs a batch script or a --wrap command")


def detect_gpus() -> list[str]:
    """GPU models of this machine from ``nvidia-smi -L`` (empty without it)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, "-L"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    models = []
    for line in out.splitlines():
        match = re.match(r"GPU \d+: (.*?)(?: \(UUID.*)?$", line.strip())
        if match:
            models.append(match.group(1))
    return models


def build_pools(
    config: ClusterConfig, host_gpus: int
) -> tuple[dict[str, NodePool], dict[str, int]]:
    """The virtual nodes of every partition, and each node's first CPU in the cluster's
    numbering (virtual CPUs map onto host CPUs modulo their count).

    A GPU partition on a host with GPUs (``nvidia-smi -L``) gets the host's count per
    node; without them, the configured count (indices for testing).
    """
    pools: dict[str, NodePool] = {}
    first_cpu: dict[str, int] = {}
    offset = 0
    for part in config.partitions:
        gpus = host_gpus if host_gpus and (part.gpus or part.gpu_model) else part.gpus
        nodes = []
        # a pool's partition starts empty: its nodes are attached as they come up
        for i in range(0 if config.pool_for(part.name) else part.nodes):
            name = f"{config.name}-{part.name}-n{i + 1}"
            nodes.append(
                VirtualNode(
                    name=name,
                    index=i,
                    cores=part.cores,
                    threads_per_core=part.threads_per_core,
                    mem_bytes=part.mem_bytes,
                    gpus=gpus,
                )
            )
            first_cpu[name] = offset
            offset += part.cores * part.threads_per_core
        pools[part.name] = NodePool(nodes)
    return pools, first_cpu
