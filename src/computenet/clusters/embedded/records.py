"""The embedded cluster's records of its jobs, and how they live on disk.

State directory layout (every file written atomically: tmp + rename)::

    next_id                 the next native job id (a persisted counter)
    bin/srun                the in-job launcher
    jobs/<id>/request.json  what was submitted (tag, spec, shape), immutable
    jobs/<id>/script        the batch script
    jobs/<id>/launch.marshal  allocation and what the supervisor runs (once started;
                            marshal so the supervisor starts without the json module)
    jobs/<id>/running.json  the supervisor's pid and start ticks, once it runs the job
    jobs/<id>/status.json   the final state (by the supervisor, or by the cluster)

A job directory, created with the job, also reserves its native id: ids
are never reused even if ``next_id`` (rewritten on close) is behind.
"""

from __future__ import annotations

import json
import marshal
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from computenet.clusters.embedded.allocator import Allocation, JobShape, NodeAllocation
from computenet.errors import ClusterError
from computenet.model import CpuMode, JobState

RECORD_VERSION = 1


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The file's object, or None when it is missing or half-written."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Job:
    """One job as the cluster tracks it (state changes replace the record)."""

    native_id: str
    tag: str
    name: str
    partition: str
    shape: JobShape
    procs: int  # hardware threads it holds (the queue policy's count)
    time_limit_s: int | None
    submit_time: float
    state: JobState = JobState.QUEUED
    allocation: Allocation | None = None
    start_time: float | None = None
    end_time: float | None = None
    exit_code: str | None = None
    reason: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    supervisor_pid: int | None = None
    supervisor_ticks: int | None = None
    cancel_requested: bool = False
    max_rss_bytes: int | None = None
    cpu_time_s: float | None = None

    @property
    def sort_key(self) -> int:
        return int(self.native_id)

    @property
    def gpus(self) -> int:
        if self.allocation is not None:
            return self.allocation.gpus
        return self.shape.gpus_per_node * (self.shape.nodes or 1)


def shape_to_dict(shape: JobShape) -> dict[str, Any]:
    return {
        "tasks": shape.tasks,
        "cpus_per_task": shape.cpus_per_task,
        "nodes": shape.nodes,
        "tasks_per_node": shape.tasks_per_node,
        "mode": shape.mode.value,
        "mem_per_node_bytes": shape.mem_per_node_bytes,
        "mem_per_cpu_bytes": shape.mem_per_cpu_bytes,
        "gpus_per_node": shape.gpus_per_node,
        "exclusive": shape.exclusive,
    }


def shape_from_dict(data: dict[str, Any]) -> JobShape:
    return JobShape(**{**data, "mode": CpuMode(data["mode"])})


def allocation_to_list(allocation: Allocation) -> list[dict[str, Any]]:
    return [
        {
            "node": n.node,
            "index": n.index,
            "tasks": n.tasks,
            "cpus": list(n.cpus),
            "bind": list(n.bind),
            "gpus": list(n.gpus),
            "mem_bytes": n.mem_bytes,
        }
        for n in allocation.nodes
    ]


def allocation_from_list(items: list[dict[str, Any]]) -> Allocation:
    return Allocation(
        tuple(
            NodeAllocation(
                node=i["node"],
                index=i["index"],
                tasks=i["tasks"],
                cpus=tuple(i["cpus"]),
                bind=tuple(i["bind"]),
                gpus=tuple(i["gpus"]),
                mem_bytes=i["mem_bytes"],
            )
            for i in items
        )
    )


class JobFiles:
    """Paths and reads/writes of one cluster's state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.root = state_dir
        self.jobs = state_dir / "jobs"
        self.bin = state_dir / "bin"
        try:
            self.jobs.mkdir(parents=True, exist_ok=True)
            self.bin.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ClusterError(f"cannot create the state directory {state_dir}: {exc}") from exc

    def job_dir(self, native_id: str) -> Path:
        return self.jobs / native_id

    def first_free_id(self) -> int:
        """The lowest id above every id handed out before (``next_id`` and job dirs)."""
        try:
            saved = int((self.root / "next_id").read_text().strip())
        except (OSError, ValueError):
            saved = 1
        existing = [int(p.name) for p in self.jobs.iterdir() if p.name.isdigit()]
        return max(saved, max(existing, default=0) + 1)

    def save_next_id(self, next_id: int) -> None:
        tmp = self.root / f"next_id.tmp.{os.getpid()}"
        tmp.write_text(str(next_id))
        os.replace(tmp, self.root / "next_id")

    def write_launch(self, native_id: str, config: dict[str, Any]) -> None:
        tmp = self.job_dir(native_id) / f"launch.tmp.{os.getpid()}"
        tmp.write_bytes(marshal.dumps(config))
        os.replace(tmp, self.job_dir(native_id) / "launch.marshal")

    def read_launch(self, native_id: str) -> dict[str, Any] | None:
        try:
            # bandit B302: the server wrote it (0700 dir)
            data = marshal.loads((self.job_dir(native_id) / "launch.marshal").read_bytes())  # nosec B302
        except (OSError, ValueError, EOFError, TypeError):
            return None
        return data if isinstance(data, dict) else None

    def native_ids(self) -> list[str]:
        return sorted((p.name for p in self.jobs.iterdir() if p.name.isdigit()), key=int)

    def write_request(self, job: Job, request: dict[str, Any], script: str) -> None:
        """Record a new job; FileExistsError if its id is taken."""
        job_dir = self.job_dir(job.native_id)
        job_dir.mkdir(mode=0o700)  # its request and launch files hold the environment
        script_path = job_dir / "script"
        script_path.write_text(script)
        script_path.chmod(0o700)
        write_json(
            job_dir / "request.json",
            {
                "version": RECORD_VERSION,
                "native_id": job.native_id,
                "tag": job.tag,
                "name": job.name,
                "partition": job.partition,
                "shape": shape_to_dict(job.shape),
                "procs": job.procs,
                "time_limit_s": job.time_limit_s,
                "submit_time": job.submit_time,
                **request,
            },
        )

    def read_request(self, native_id: str) -> dict[str, Any] | None:
        return read_json(self.job_dir(native_id) / "request.json")

    def job_from_request(self, data: dict[str, Any]) -> Job:
        return Job(
            native_id=data["native_id"],
            tag=data["tag"],
            name=data["name"],
            partition=data["partition"],
            shape=shape_from_dict(data["shape"]),
            procs=data["procs"],
            time_limit_s=data["time_limit_s"],
            submit_time=data["submit_time"],
        )

    def read(self, native_id: str, name: str) -> dict[str, Any] | None:
        return read_json(self.job_dir(native_id) / name)

    def write(self, native_id: str, name: str, data: dict[str, Any]) -> None:
        write_json(self.job_dir(native_id) / name, data)
