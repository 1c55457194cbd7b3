"""The job object of the API and ``--json`` output, from a row or a record.

Pure shaping, no queries: ``job_to_dict`` takes an ORM row or any object
with the same attributes (a listing's Core record), so every listing shows
the same keys in the same order (docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from computenet.model.spec import derived_sizes
from computenet.store.tables import AttemptRow

#: the columns of ``attempt_to_dict``, in its order
ATTEMPT_FIELDS = (
    "number",
    "cluster",
    "partition",
    "native_id",
    "state",
    "reason",
    "exit_code",
    "submit_time",
    "start_time",
    "end_time",
    "predicted_start",
    "predicted_end",
    "node_list",
    "usage",
)


def display_id(job: Any) -> str:
    if job.array_job_id is not None and job.array_task_id is not None:
        return f"{job.array_job_id}_{job.array_task_id}"
    return str(job.id)


#: The keys of the ``summary`` column.
SUMMARY_FIELDS = (
    "notes",
    "nodes",
    "cpus",
    "gpus",
    "time_limit_s",
    "mem_per_node_bytes",
    "mem_per_cpu_bytes",
    "workdir",
    "account",
    "command",
)


def summarize(spec: dict[str, Any]) -> dict[str, Any]:
    """The parts of a spec every job listing shows (the ``summary`` column)."""
    sizes = derived_sizes(
        *(
            spec.get(k)
            for k in (
                "nodes",
                "ntasks",
                "ntasks_per_node",
                "cpus_per_task",
                "gpus",
                "gpus_per_node",
                "gpus_per_task",
            )
        )
    )
    return {
        "notes": list(spec.get("ignored", ())),
        "nodes": sizes.nodes,
        "cpus": sizes.cpus,
        "gpus": sizes.gpus,
        "time_limit_s": spec.get("time_limit_s"),
        "mem_per_node_bytes": spec.get("mem_per_node_bytes"),
        "mem_per_cpu_bytes": spec.get("mem_per_cpu_bytes"),
        "workdir": spec.get("workdir"),
        "account": spec.get("account"),
        "command": spec.get("command"),
    }


#: The keys of ``job_to_dict``, in order.
JOB_FIELDS = (
    "id",
    "display_id",
    "name",
    "owner",
    "project",
    "state",
    "reason",
    "cluster",
    "partition",
    "exit_code",
    "submit_time",
    "start_time",
    "end_time",
    "array_job_id",
    "array_task_id",
    *SUMMARY_FIELDS,
    "attempts",
)


#: Columns a field of ``job_to_dict`` is made from, where not its own.
COLUMNS_OF = {
    "display_id": ("id", "array_job_id", "array_task_id"),
    "attempts": ("id", "attempt_count"),
    **{f: ("summary",) for f in SUMMARY_FIELDS},
}


def job_to_dict(job: Any, job_attempts: Sequence[AttemptRow] = ()) -> dict[str, Any]:
    """The stable job object of the API and ``--json`` output (docs/cli.md)."""
    return {
        "id": job.id,
        "display_id": display_id(job),
        "name": job.name,
        "owner": job.owner,
        "project": job.project,
        "state": job.state,
        "reason": job.reason,
        "cluster": job.cluster,
        "partition": job.partition,
        "exit_code": job.exit_code,
        "submit_time": job.submit_time,
        "start_time": job.start_time,
        "end_time": job.end_time,
        "array_job_id": job.array_job_id,
        "array_task_id": job.array_task_id,
        **job.summary,
        "attempts": [attempt_to_dict(a) for a in job_attempts],
    }


def attempt_to_dict(a: AttemptRow) -> dict[str, Any]:
    return {field: getattr(a, field) for field in ATTEMPT_FIELDS}
