"""Reading a cluster's state directory back after a server restart.

Queued jobs stay queued; running jobs are re-attached by supervisor pid and
start ticks (the pid alone may have been reused); jobs that ended while the
server was down get the status their supervisor left.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from computenet.clusters.embedded import launcher
from computenet.clusters.embedded.allocator import NodePool
from computenet.clusters.embedded.records import Job, JobFiles, allocation_from_list
from computenet.clusters.embedded.runner import outcome_of
from computenet.model import JobState

_FINAL = {s.value for s in JobState if s.terminal}


def recover(
    files: JobFiles, pools: dict[str, NodePool]
) -> tuple[list[Job], dict[str, dict[str, Any]]]:
    """Every job in the state directory, with running ones' resources taken again;
    and the requests of the queued ones."""
    jobs: list[Job] = []
    requests: dict[str, dict[str, Any]] = {}
    for nid in files.native_ids():
        request = files.read_request(nid)
        if request is None:
            continue  # the submission never finished: it was not accepted
        job = files.job_from_request(request)
        status = files.read(nid, "status.json") or {}
        launch = files.read_launch(nid)
        if launch is not None:
            allocation = allocation_from_list(launch["allocation"])
            job = replace(
                job,
                allocation=allocation,
                start_time=launch.get("start_time"),
                stdout=launch.get("stdout"),
                stderr=launch.get("stderr"),
            )
        if status.get("state") in _FINAL:
            jobs.append(
                replace(
                    job,
                    state=JobState(status["state"]),
                    exit_code=status.get("exit_code"),
                    reason=status.get("reason"),
                    end_time=status.get("end_time"),
                    start_time=job.start_time or status.get("start_time"),
                    max_rss_bytes=status.get("max_rss_bytes"),
                    cpu_time_s=status.get("cpu_time_s"),
                )
            )
            continue
        if launch is None:
            jobs.append(job)  # still queued
            requests[nid] = request
            continue
        job = _reattach(files, pools, job)
        if job.state is JobState.QUEUED:
            requests[nid] = request
        jobs.append(job)
    return jobs, requests


def _reattach(files: JobFiles, pools: dict[str, NodePool], job: Job) -> Job:
    running = files.read(job.native_id, "running.json") or {}
    pid, ticks = running.get("supervisor_pid"), running.get("supervisor_ticks")
    if pid is None:
        # the supervisor had not yet started the job when the server stopped
        found = launcher.find_supervisor(files.job_dir(job.native_id))
        if found is None:
            if files.read(job.native_id, "status.json") is None:
                # it never ran: queue it again
                os.unlink(files.job_dir(job.native_id) / "launch.marshal")
                return replace(job, allocation=None, start_time=None, stdout=None, stderr=None)
            return outcome_of(files, replace(job, state=JobState.RUNNING), None)
        pid, ticks = found
    assert isinstance(pid, int)
    assert ticks is None or isinstance(ticks, int)
    job = replace(job, state=JobState.RUNNING, supervisor_pid=pid, supervisor_ticks=ticks)
    if launcher.is_same_process(pid, ticks):
        if job.allocation is not None and job.partition in pools:
            pools[job.partition].take(job.allocation)
        return job
    return outcome_of(files, job, launcher.reap(pid))
