"""Starting a job on its allocation, and reading how it ended."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from computenet.clusters.embedded import launcher
from computenet.clusters.embedded.allocator import Allocation, host_cpus_for
from computenet.clusters.embedded.environment import (
    JobIdentity,
    expand_pattern,
    exported,
    hostfile_lines,
    slurm_variables,
)
from computenet.clusters.embedded.records import Job, JobFiles, allocation_to_list
from computenet.containers.runtime import (
    bwrap_argv,
    bwrap_path,
    check_mounts,
    check_starts,
    interpreter,
)
from computenet.containers.store import ImageStore
from computenet.errors import ComputeNetError, ImageError
from computenet.model import JobSpec, JobState

LAUNCH_VERSION = 1


@dataclass(frozen=True)
class LaunchSettings:
    cluster: str
    bin_dir: Path
    kill_grace_s: float = 5.0
    mem_poll_s: float = 0.5
    host_cpus: tuple[int, ...] = ()
    image_root: Path | None = None  # this cluster's site image store
    mount_roots: tuple[str, ...] = ()  # where --container-mounts may reach
    max_output_bytes: int | None = None


def _resolve(path: str, workdir: str) -> str:
    return path if os.path.isabs(path) else os.path.join(workdir, path)


def signal_number(name: str) -> int:
    name = name.upper()
    if name.isdigit():
        return int(name)
    return int(signal.Signals[name if name.startswith("SIG") else f"SIG{name}"])


def launch_config(
    files: JobFiles,
    settings: LaunchSettings,
    job: Job,
    request: dict[str, Any],
    allocation: Allocation,
    first_cpu: dict[str, int],
    now: float,
) -> dict[str, Any]:
    """What the supervisor needs to run the job (``launch.marshal``)."""
    spec = JobSpec.from_dict(request.get("spec", {}))
    job_dir = files.job_dir(job.native_id)
    given_env: dict[str, str] = dict(request.get("env") or {})
    submitted = given_env or dict(os.environ)
    workdir = spec.workdir or given_env.get("PWD") or str(job_dir)
    array_task = request.get("array_task_id")
    who = JobIdentity(
        native_id=job.native_id,
        name=job.name,
        user=request.get("owner") or os.environ.get("USER", "user"),
        cluster=settings.cluster,
        partition=job.partition,
        array_job_id=request.get("array_job_id"),
        array_task_id=array_task,
        network_job_id=request.get("job_id"),
        attempt=request.get("attempt"),
    )
    first = allocation.nodes[0].node
    default_out = "slurm-%A_%a.out" if array_task is not None else "slurm-%j.out"
    stdout = _resolve(expand_pattern(spec.output or default_out, who, first), workdir)
    stderr = _resolve(expand_pattern(spec.error, who, first), workdir) if spec.error else stdout
    per_task, mpi = hostfile_lines(allocation)
    hostfile, mpi_hostfile = job_dir / "hostfile", job_dir / "hostfile.openmpi"
    hostfile.write_text(per_task)
    mpi_hostfile.write_text(mpi)
    env = exported(spec.export, submitted)
    env.update(spec.environment)
    env.update(
        slurm_variables(
            who,
            allocation,
            cpus_per_task=job.shape.cpus_per_task,
            submit_dir=given_env.get("PWD") or workdir,
            job_dir=job_dir,
            hostfile=hostfile,
            mpi_hostfile=mpi_hostfile,
        )
    )
    if spec.mem_per_cpu_bytes is not None:
        env["SLURM_MEM_PER_CPU"] = str(spec.mem_per_cpu_bytes // 2**20)
    env["PATH"] = f"{settings.bin_dir}:{env.get('PATH', '/usr/bin:/bin')}"
    if settings.image_root is not None:
        env["CN_IMAGE_STORE"] = str(settings.image_root)
        env["CN_CONTAINER_MOUNT_ROOTS"] = os.pathsep.join(settings.mount_roots)
    argv = [str(job_dir / "script"), *spec.args]
    if spec.container_image:
        argv = container_argv(spec, settings, argv, binds=(str(job_dir), workdir))
    cpus = sorted(
        {
            c
            for n in allocation.nodes
            for c in host_cpus_for(n.bind, first_cpu.get(n.node, 0), settings.host_cpus)
        }
    )
    sig = None
    if spec.signal is not None:
        sig = {
            "number": signal_number(spec.signal.name),
            "seconds_before": spec.signal.seconds_before,
            "batch_only": spec.signal.batch_only,
        }
    return {
        "version": LAUNCH_VERSION,
        "native_id": job.native_id,
        "argv": argv,
        "cwd": workdir,
        "env": env,
        "stdout": stdout,
        "stderr": stderr,
        "stdin": _resolve(spec.input, workdir) if spec.input else None,
        "open_mode": spec.open_mode or "truncate",
        "time_limit_s": job.time_limit_s,
        "kill_grace_s": settings.kill_grace_s,
        "mem_limit_bytes": allocation.mem_bytes,
        "mem_poll_s": settings.mem_poll_s,
        "max_output_bytes": settings.max_output_bytes,
        "cpus": cpus,
        "signal": sig,
        "allocation": allocation_to_list(allocation),
        "start_time": now,
    }


def container_argv(
    spec: JobSpec, settings: LaunchSettings, argv: list[str], *, binds: tuple[str, ...]
) -> list[str]:
    """``argv`` run in the job's image (pyxis's sbatch behaviour: the batch
    script itself runs in the container). Raises ComputeNetError when the
    image is unknown here, a mount is not allowed or the image cannot start."""
    assert spec.container_image is not None
    bwrap = bwrap_path()
    if bwrap is None:
        raise ImageError("bubblewrap (bwrap) is not installed on this cluster's host")
    check_mounts(spec.container_mounts, settings.mount_roots)
    store = ImageStore(settings.image_root or settings.bin_dir.parent / "images")
    rootfs = store.rootfs(spec.container_image)
    check_starts(rootfs, interpreter(Path(argv[0])), spec.container_image)
    return bwrap_argv(
        rootfs,
        argv,
        mounts=spec.container_mounts,
        binds=binds,
        chdir=spec.container_workdir or binds[-1],
        bwrap=bwrap,
    )


def launch_job(
    files: JobFiles,
    settings: LaunchSettings,
    job: Job,
    request: dict[str, Any],
    allocation: Allocation,
    first_cpu: dict[str, int],
    now: float,
) -> Job:
    """Start the job's supervisor; the job RUNNING, or FAILED if it could not start."""
    try:
        config = launch_config(files, settings, job, request, allocation, first_cpu, now)
        files.write_launch(job.native_id, config)
        pid, ticks = launcher.spawn_supervisor(files.job_dir(job.native_id))
    except (OSError, ValueError, KeyError, ComputeNetError) as exc:
        detail = exc.message if isinstance(exc, ComputeNetError) else str(exc)
        reason = f"could not start: {detail}"
        files.write(
            job.native_id,
            "status.json",
            {
                "version": 1,
                "state": "FAILED",
                "exit_code": "1:0",
                "reason": reason,
                "start_time": now,
                "end_time": now,
            },
        )
        return replace(
            job,
            state=JobState.FAILED,
            allocation=allocation,
            exit_code="1:0",
            reason=reason,
            start_time=now,
            end_time=now,
        )
    return replace(
        job,
        state=JobState.RUNNING,
        allocation=allocation,
        start_time=now,
        stdout=config["stdout"],
        stderr=config["stderr"],
        supervisor_pid=pid,
        supervisor_ticks=ticks,
    )


def outcome_of(files: JobFiles, job: Job, wait_status: int | None) -> Job:
    """The job after its supervisor ended: its final state from ``status.json``.

    A supervisor that died without writing one (killed before it could)
    means CANCELLED if a cancel was asked, else NODE_FAIL; the job's stray
    processes are then killed.
    """
    status = files.read(job.native_id, "status.json") or {}
    state = status.get("state")
    if state in {s.value for s in JobState if s.terminal}:
        return replace(
            job,
            state=JobState(state),
            exit_code=status.get("exit_code"),
            reason=status.get("reason"),
            end_time=status.get("end_time") or job.end_time,
            max_rss_bytes=status.get("max_rss_bytes"),
            cpu_time_s=status.get("cpu_time_s"),
        )
    launcher.kill_job_processes(files.job_dir(job.native_id))
    if job.cancel_requested:
        final, code, reason = JobState.CANCELLED, "0:15", "cancelled"
    else:
        final, code = JobState.NODE_FAIL, "0:9"
        reason = "the job's supervisor ended without a status"
        if wait_status is not None:
            reason += f" (wait status {wait_status})"
    end = time.time()
    files.write(
        job.native_id,
        "status.json",
        {
            "version": 1,
            "state": final.value,
            "exit_code": code,
            "reason": reason,
            "start_time": job.start_time,
            "end_time": end,
        },
    )
    return replace(job, state=final, exit_code=code, reason=reason, end_time=end)
