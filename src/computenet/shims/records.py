"""A network job as Slurm's commands show it: states, reasons, sizes, times.

The API's job object (``GET /jobs``) lacks some of what squeue and sacct
print (CPUs, time limit, working directory...); those come from the job's
parsed spec (``GET /jobs/{id}``), fetched once per job and only when a
column needs it. Fields the list may carry directly win over the spec.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

#: network state -> squeue's long state name
SQUEUE_STATE = {
    "PENDING": "PENDING",
    "STAGING_IN": "PENDING",
    "QUEUED": "PENDING",
    "RUNNING": "RUNNING",
    "STAGING_OUT": "STAGE_OUT",
}
#: network state -> sacct's state name
SACCT_STATE = {**SQUEUE_STATE, "STAGING_OUT": "RUNNING"}
#: Slurm long state -> compact code
COMPACT = {
    "PENDING": "PD",
    "RUNNING": "R",
    "STAGE_OUT": "SO",
    "COMPLETING": "CG",
    "COMPLETED": "CD",
    "FAILED": "F",
    "CANCELLED": "CA",
    "TIMEOUT": "TO",
    "OUT_OF_MEMORY": "OOM",
    "NODE_FAIL": "NF",
    "PREEMPTED": "PR",
    "SUSPENDED": "S",
    "BOOT_FAIL": "BF",
    "DEADLINE": "DL",
    "REQUEUED": "RQ",
}
LONG = {code: name for name, code in COMPACT.items()}
#: the states squeue shows by default (Slurm's active states)
ACTIVE = frozenset({"PENDING", "RUNNING", "STAGE_OUT", "COMPLETING", "SUSPENDED"})
_END_REASON = {
    "FAILED": "NonZeroExitCode",
    "TIMEOUT": "TimeLimit",
    "NODE_FAIL": "NodeDown",
    "OUT_OF_MEMORY": "OutOfMemory",
}
_WORD = re.compile(r"([A-Za-z][A-Za-z_]*)(?::.*)?", re.DOTALL)


def slurm_state_name(text: str) -> str:
    """A user's ``-t`` item (``pd``, ``Running``, ``CA``) as a long name.

    Raises ValueError for names Slurm does not know.
    """
    upper = text.strip().upper()
    if upper in LONG:
        return LONG[upper]
    if upper in COMPACT:
        return upper
    if upper == "CANCELED":
        return "CANCELLED"
    raise ValueError(f"Invalid job state specified: {text}")


def spec_tasks(spec: dict[str, Any]) -> int:
    """Tasks of a spec dict, as ``JobSpec.tasks`` counts them."""
    if spec.get("ntasks") is not None:
        return int(spec["ntasks"])
    if spec.get("ntasks_per_node") is not None:
        return int(spec["ntasks_per_node"]) * int(spec.get("nodes") or 1)
    return int(spec.get("nodes") or 1)


@dataclass(frozen=True)
class JobView:
    """One API job with its spec on demand. ``fetch`` returns the full job
    object (with ``spec``) for an id."""

    job: dict[str, Any]
    fetch: Callable[[str], dict[str, Any]] | None = field(default=None, compare=False)
    now: float = field(default_factory=time.time)

    @cached_property
    def spec(self) -> dict[str, Any]:
        spec = self.job.get("spec")
        if spec is None and self.fetch is not None:
            spec = self.fetch(str(self.job["display_id"])).get("spec")
        return spec if isinstance(spec, dict) else {}

    # ----- identity ------------------------------------------------------
    @property
    def job_id(self) -> str:
        """%i / JobID: ``123`` or ``123_4`` for an array element."""
        return str(self.job["display_id"])

    @property
    def raw_id(self) -> str:
        """%A / JobIDRaw: the element's own id."""
        return str(self.job["id"])

    @property
    def array_job_id(self) -> str:
        return str(self.job.get("array_job_id") or self.job["id"])

    @property
    def array_task_id(self) -> str:
        task = self.job.get("array_task_id")
        return "N/A" if task is None else str(task)

    @property
    def name(self) -> str:
        return str(self.job.get("name") or "")

    @property
    def user(self) -> str:
        return str(self.job.get("owner") or "")

    @property
    def cluster(self) -> str:
        return str(self.job.get("cluster") or self._wanted_cluster or "")

    @property
    def _wanted_cluster(self) -> str | None:
        clusters = self.job.get("clusters")
        return clusters[0] if clusters else None

    @property
    def partition(self) -> str:
        return str(self.job.get("partition") or self.spec.get("partition") or "")

    @property
    def account(self) -> str:
        return str(self._direct("account") or self.job.get("project") or "")

    # ----- state -----------------------------------------------------------
    @property
    def network_state(self) -> str:
        return str(self.job["state"])

    @property
    def state(self) -> str:
        """squeue's long state name."""
        return SQUEUE_STATE.get(self.network_state, self.network_state)

    @property
    def sacct_state(self) -> str:
        return SACCT_STATE.get(self.network_state, self.network_state)

    @property
    def compact_state(self) -> str:
        return COMPACT.get(self.state, self.state[:2])

    @property
    def finished(self) -> bool:
        return self.state not in ACTIVE

    @property
    def reason(self) -> str:
        """squeue's REASON: Slurm's one-word reason names."""
        if self.state in _END_REASON:
            return _END_REASON[self.state]
        text = self.job.get("reason") or ""
        if self.state == "PENDING":
            if self.network_state == "STAGING_IN":
                return "BurstBufferStageIn"
            spec = self.job.get("spec") or {}
            if "held" in text.lower() or spec.get("hold"):
                return "JobHeldUser"
            if "begin" in text.lower():
                return "BeginTime"
        m = _WORD.fullmatch(text.strip())
        if self.state == "PENDING" and m and m.group(1) not in ("cancelled", "Submitting"):
            return m.group(1)
        return "None"

    @property
    def exit_code(self) -> str:
        """sacct's ExitCode ``code:signal``."""
        code = self.job.get("exit_code")
        if not code:
            return "0:0"
        return code if ":" in code else f"{code}:0"

    # ----- sizes -----------------------------------------------------------
    @property
    def nodes(self) -> int:
        direct = self.job.get("nodes")
        if isinstance(direct, int):
            return direct
        return int(self.spec.get("nodes") or 1)

    @property
    def cpus(self) -> int:
        direct = self.job.get("cpus")
        if isinstance(direct, int):
            return direct
        return spec_tasks(self.spec) * int(self.spec.get("cpus_per_task") or 1)

    @property
    def time_limit_s(self) -> int | None:
        value = self._direct("time_limit_s")
        return int(value) if value is not None else None

    @property
    def mem_request(self) -> str:
        """ReqMem as Slurm prints it (``4G``, ``954M``; per CPU ``2Gc``)."""
        per_node = self._direct("mem_per_node_bytes")
        if per_node is not None:
            return mem_text(int(per_node))
        per_cpu = self._direct("mem_per_cpu_bytes")
        if per_cpu is not None:
            return mem_text(int(per_cpu)) + "c"
        return "0"

    @property
    def workdir(self) -> str:
        return str(self._direct("workdir") or "")

    @property
    def command(self) -> str:
        """%o: the --wrap command (Slurm shows the script path; the network
        keeps the script text, so a script job shows its name)."""
        command = self._direct("command")
        if command:
            return str(command)
        return self.name

    def _direct(self, key: str) -> Any:
        """A field from the job object if the list carries it, else the spec's."""
        if key in self.job:
            return self.job[key]
        return self.spec.get(key)

    # ----- times -------------------------------------------------------------
    @property
    def submit_time(self) -> float | None:
        return self.job.get("submit_time")

    @property
    def start_time(self) -> float | None:
        return self.job.get("start_time")

    @property
    def end_time(self) -> float | None:
        return self.job.get("end_time")

    @property
    def elapsed_s(self) -> float:
        start = self.start_time
        if start is None:
            return 0.0
        return max(0.0, (self.end_time or self.now) - start)

    @property
    def predicted_start(self) -> float | None:
        attempts = self.job.get("attempts") or []
        return attempts[-1].get("predicted_start") if attempts else None

    @property
    def expected_end(self) -> float | None:
        """End time, or start + limit while it runs."""
        if self.end_time is not None:
            return self.end_time
        if self.start_time is not None and self.time_limit_s is not None:
            return self.start_time + self.time_limit_s
        return None

    # ----- where -------------------------------------------------------------
    @property
    def node_list(self) -> str:
        """The nodes of its latest attempt; the cluster's name until the API
        reports node names; empty while pending."""
        attempts = self.job.get("attempts") or []
        if attempts and attempts[-1].get("node_list"):
            return str(attempts[-1]["node_list"])
        if self.start_time is None:
            return ""
        return str(self.job.get("cluster") or "")

    @property
    def usage(self) -> dict[str, Any]:
        attempts = self.job.get("attempts") or []
        usage = attempts[-1].get("usage") if attempts else None
        return usage if isinstance(usage, dict) else {}


def mem_text(n_bytes: int) -> str:
    """Bytes in Slurm's largest exact unit of M, G, T (``4G``, ``954M``)."""
    mib = max(0, n_bytes) // 2**20
    for unit, size in (("T", 2**20), ("G", 2**10)):
        if mib and mib % size == 0:
            return f"{mib // size}{unit}"
    return f"{mib}M"


def rss_text(n_bytes: int | None) -> str:
    """MaxRSS as sacct prints it (``1234K``)."""
    if n_bytes is None:
        return ""
    return f"{max(0, n_bytes) // 1024}K"
