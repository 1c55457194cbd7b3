"""What a job sees: its environment (Slurm's names), its output paths, its hostfiles."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from computenet.clusters.embedded.allocator import Allocation
from computenet.clusters.embedded.hostlist import compress_counts, compress_hostlist

_PATTERN = re.compile(r"%(\d*)([%jxuAaNnts])")
_NOT_AN_ARRAY = "4294967294"  # what Slurm puts in %a for a job that is no array task
_NONE_BASE = ("HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TMPDIR")
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class JobIdentity:
    """The names a job is known by, for output patterns and SLURM_* variables."""

    native_id: str
    name: str
    user: str
    cluster: str
    partition: str
    array_job_id: str | None = None
    array_task_id: int | None = None
    network_job_id: str | None = None  # computenet's own id of the job, when it has one
    attempt: int | None = None


def expand_pattern(pattern: str, who: JobIdentity, first_node: str) -> str:
    """Slurm's filename patterns: %j %x %u %A %a %N %n %t %s %% (with zero padding)."""
    values = {
        "%": "%",
        "j": who.native_id,
        "x": who.name,
        "u": who.user,
        "A": who.array_job_id or who.native_id,
        "a": str(who.array_task_id) if who.array_task_id is not None else _NOT_AN_ARRAY,
        "N": first_node,
        "n": "0",
        "t": "0",
        "s": "batch",
    }

    def one(match: re.Match[str]) -> str:
        width, key = match.group(1), match.group(2)
        value = values[key]
        if width and value.isdigit():
            value = value.zfill(int(width))
        return value

    return _PATTERN.sub(one, pattern)


def exported(export: str, submitted: Mapping[str, str]) -> dict[str, str]:
    """Apply --export: ALL (the submitter's environment), NONE/NIL, or a list of
    NAME and NAME=value items (optionally after ALL)."""
    items = [item for item in export.split(",") if item] if export else ["ALL"]
    env: dict[str, str] = {}
    if items[0].upper() == "ALL":
        env.update(submitted)
        items = items[1:]
    elif items[0].upper() in ("NONE", "NIL"):
        items = items[1:]
        env.update({k: submitted[k] for k in _NONE_BASE if k in submitted})
    else:
        env.update({k: submitted[k] for k in _NONE_BASE if k in submitted})
    for item in items:
        name, eq, value = item.partition("=")
        if eq:
            env[name] = value
        elif name in submitted:
            env[name] = submitted[name]
    env.setdefault("PATH", _DEFAULT_PATH)
    return env


def slurm_variables(
    who: JobIdentity,
    allocation: Allocation,
    *,
    cpus_per_task: int,
    submit_dir: str,
    job_dir: Path,
    hostfile: Path,
    mpi_hostfile: Path,
) -> dict[str, str]:
    """The SLURM_* (and CN_*, MPI) variables of a batch job on ``allocation``."""
    nodes = [n.node for n in allocation.nodes]
    nodelist = compress_hostlist(nodes)
    tasks_per_node = compress_counts([n.tasks for n in allocation.nodes])
    cpus_per_node = compress_counts([len(n.cpus) for n in allocation.nodes])
    first = allocation.nodes[0]
    gpus = ",".join(str(g) for g in first.gpus)
    # the id the user was given (the network's, as cnet and the shims show it), so a
    # script that names files after $SLURM_JOB_ID (PSI/J) finds them under that id;
    # the cluster's own id when the adapter runs without the network
    network = who.network_job_id or ""
    job_id = network if network.isdigit() else who.native_id
    env = {
        "SLURM_JOB_ID": job_id,
        "SLURM_JOBID": job_id,
        "SLURM_JOB_NAME": who.name,
        "SLURM_JOB_USER": who.user,
        "SLURM_JOB_NODELIST": nodelist,
        "SLURM_NODELIST": nodelist,
        "SLURM_JOB_NUM_NODES": str(len(nodes)),
        "SLURM_NNODES": str(len(nodes)),
        "SLURM_NTASKS": str(allocation.tasks),
        "SLURM_NPROCS": str(allocation.tasks),
        "SLURM_CPUS_PER_TASK": str(cpus_per_task),
        "SLURM_TASKS_PER_NODE": tasks_per_node,
        "SLURM_CPUS_ON_NODE": str(len(first.cpus)),
        "SLURM_JOB_CPUS_PER_NODE": cpus_per_node,
        "SLURM_JOB_PARTITION": who.partition,
        "SLURM_CLUSTER_NAME": who.cluster,
        "SLURM_SUBMIT_DIR": submit_dir,
        "SLURM_SUBMIT_HOST": os.uname().nodename,
        "SLURMD_NODENAME": first.node,
        "SLURM_NODEID": "0",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_GTIDS": "0",
        "SLURM_MEM_PER_NODE": str(max(n.mem_bytes for n in allocation.nodes) // 2**20),
        "SLURM_HOSTFILE": str(hostfile),
        "OMP_NUM_THREADS": str(cpus_per_task),
        "CN_JOB_ID": who.network_job_id or who.native_id,
        "CN_NATIVE_JOB_ID": who.native_id,
        "CN_ATTEMPT": str(who.attempt or 1),
        "CN_JOB_DIR": str(job_dir),
        "CN_HOSTFILE": str(hostfile),
        "CN_MPI_HOSTFILE": str(mpi_hostfile),
        # mpirun inside the job: every virtual node is this host, so OpenMPI must
        # read our hostfile and launch locally instead of asking Slurm.
        "OMPI_MCA_orte_default_hostfile": str(mpi_hostfile),
        "OMPI_MCA_plm": "^slurm",
        "OMPI_MCA_ras": "^slurm",
        "OMPI_MCA_hwloc_base_binding_policy": "none",
        "PRTE_MCA_prte_default_hostfile": str(mpi_hostfile),
        "PRTE_MCA_plm": "^slurm",
        "PRTE_MCA_ras": "^slurm",
        "PRTE_MCA_hwloc_default_binding_policy": "none",
    }
    if gpus or any(n.gpus for n in allocation.nodes):
        env["CUDA_VISIBLE_DEVICES"] = gpus
        env["SLURM_JOB_GPUS"] = gpus
        env["GPU_DEVICE_ORDINAL"] = gpus
    if who.array_task_id is not None:
        env["SLURM_ARRAY_TASK_ID"] = str(who.array_task_id)
        env["SLURM_ARRAY_JOB_ID"] = who.array_job_id or who.native_id
    if os.geteuid() == 0:
        env["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
    return env


def hostfile_lines(allocation: Allocation) -> tuple[str, str]:
    """(one node name per task, as SLURM_HOSTFILE; an OpenMPI hostfile).

    The OpenMPI file names ``localhost`` because every virtual node is this
    machine; its slots are the job's task count, so ``mpirun -np N`` runs
    N ranks here without oversubscription errors.
    """
    per_task = "".join(f"{n.node}\n" * n.tasks for n in allocation.nodes)
    return per_task, f"localhost slots={allocation.tasks}\n"
