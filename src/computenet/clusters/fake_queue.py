"""The fake cluster's simulated queue: jobs, node CPUs and a replayed clock.

By clock (``auto=True``, the default), a queued job starts as soon as its
CPUs fit on a partition's nodes (first fit, in submit order) and ends by
what its command says. The command is ``spec.command`` or, for a script,
its lines that are not blank or comments; it is split on newlines, ``;``
and ``&&``, and each piece is one of:

==================  =====================================================
``sleep N``         run N more seconds (``sleep infinity``: until cancel,
                    ``finish`` or the time limit)
``exit K``          stop here: K = 0 -> COMPLETED, else FAILED "K:0"
``false``           as ``exit 1``
``echo TEXT``       TEXT and a newline go to stdout; ``$VAR``/``${VAR}``
                    expand from the job's environment (request env,
                    spec environment, SLURM_JOB_ID, SLURM_ARRAY_TASK_ID,
                    SLURM_ARRAY_JOB_ID, SLURM_JOB_NAME)
``oom``             stop here as OUT_OF_MEMORY "0:9"
anything else       takes no time, succeeds
==================  =====================================================

A job whose sleeps pass ``spec.time_limit_s`` ends as TIMEOUT "0:15" at
start + limit. With ``auto=False`` nothing moves unless a test says so.

``advance`` replays events (starts, ends) up to ``clock.now()`` in time
order, so a ``FakeClock`` advanced by an hour gives the same history as an
hour of real time.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from computenet.clock import Clock
from computenet.model import AttemptRequest, ClusterInfo, JobState

_SPLIT = re.compile(r"\n|;|&&")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Plan:
    """What a command will do once started."""

    run_s: float  # math.inf = until stopped
    state: JobState
    exit_code: str
    stdout: bytes


@dataclass
class FakeJob:
    native_id: str
    request: AttemptRequest
    partition: str
    cpus: int
    nodes: int
    submit_time: float
    state: JobState = JobState.QUEUED
    exit_code: str | None = None
    reason: str | None = "None"
    start_time: float | None = None
    end_time: float | None = None
    planned_end: float | None = None  # auto mode: when the plan says it ends
    plan: Plan | None = None
    alloc: dict[str, int] = field(default_factory=dict)  # node name -> CPUs
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    forgotten: bool = False


class FakeQueue:
    """The jobs of one fake cluster and the free CPUs of its nodes."""

    def __init__(self, info: ClusterInfo, clock: Clock, *, auto: bool) -> None:
        self.info = info
        self.clock = clock
        self.auto = auto
        #: native id -> job, in submit order
        self.jobs: dict[str, FakeJob] = {}
        #: node name -> CPUs free on it
        self.free: dict[str, int] = {}
        self.node_partition: dict[str, str] = {}
        #: the time up to which events have been replayed
        self.sim_time = clock.now()
        for p in info.partitions:
            for i in range(p.nodes):
                node = f"{info.name}-{p.name}-{i + 1}"
                self.free[node] = p.node_type.cpus
                self.node_partition[node] = p.name

    def max_time(self, partition: str) -> int:
        part = self.info.partition(partition)
        return part.max_time_s if part is not None and part.max_time_s else 365 * 86400

    def advance(self) -> None:
        """Replay starts and ends, in time order, up to the clock's now."""
        now = max(self.clock.now(), self.sim_time)
        t = self.sim_time
        while True:
            if self.auto:
                self._start_fitting(t)
            ends = [
                j.planned_end
                for j in self.jobs.values()
                if j.state is JobState.RUNNING
                and j.planned_end is not None
                and j.planned_end <= now
            ]
            if not ends:
                break
            t = min(ends)
            for job in list(self.jobs.values()):
                if job.state is JobState.RUNNING and job.planned_end == t:
                    assert job.plan is not None
                    self.end(job, t, job.plan.state, job.plan.exit_code)
        self.sim_time = now

    def _start_fitting(self, t: float) -> None:
        for job in self.jobs.values():
            if job.state is JobState.QUEUED and job.submit_time <= max(t, self.sim_time):
                self.begin(job, max(t, job.submit_time), force=False)

    def begin(self, job: FakeJob, t: float, *, force: bool) -> None:
        """Start ``job`` at ``t`` if its CPUs fit (or anyway, with ``force``)."""
        per_node = math.ceil(job.cpus / job.nodes)
        nodes = [
            n
            for n, free in self.free.items()
            if self.node_partition[n] == job.partition and (force or free >= per_node)
        ]
        if len(nodes) < job.nodes:
            job.reason = "Resources"
            return
        for node in nodes[: job.nodes]:
            job.alloc[node] = per_node
            self.free[node] -= per_node
        job.state, job.start_time, job.reason = JobState.RUNNING, t, "None"
        if self.auto:
            job.plan = _plan(job, self._env(job))
            job.stdout.extend(job.plan.stdout)
            limit = job.request.spec.time_limit_s
            if limit is not None and job.plan.run_s > limit:
                job.plan = Plan(limit, JobState.TIMEOUT, "0:15", b"")
            if math.isfinite(job.plan.run_s):
                job.planned_end = t + job.plan.run_s

    def end(self, job: FakeJob, t: float, state: JobState, exit_code: str) -> None:
        """End ``job`` at ``t`` and free its CPUs."""
        for node, cpus in job.alloc.items():
            self.free[node] += cpus
        job.state, job.exit_code, job.end_time = state, exit_code, t
        job.planned_end = None
        job.reason = "None" if state is JobState.COMPLETED else state.value

    def _env(self, job: FakeJob) -> dict[str, str]:
        req = job.request
        env = {
            **req.env,
            **req.spec.environment,
            "SLURM_JOB_ID": job.native_id,
            "SLURM_JOB_NAME": req.spec.name,
            "SLURM_CLUSTER_NAME": self.info.name,
        }
        if req.array_task_id is not None:
            env["SLURM_ARRAY_TASK_ID"] = str(req.array_task_id)
            env["SLURM_ARRAY_JOB_ID"] = req.array_job_id or job.native_id
        return env


def _commands(job: FakeJob) -> list[str]:
    spec = job.request.spec
    text = spec.command
    if text is None and spec.script is not None:
        text = "\n".join(
            line
            for line in spec.script.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
    return [piece.strip() for piece in _SPLIT.split(text or "") if piece.strip()]


def _plan(job: FakeJob, env: dict[str, str]) -> Plan:
    """Read the command's conventions (see the module docstring) into a plan."""
    run_s, out = 0.0, bytearray()
    for piece in _commands(job):
        word, _, rest = piece.partition(" ")
        rest = rest.strip()
        if word == "sleep":
            run_s += math.inf if rest in ("inf", "infinity") else float(rest or 0)
        elif word in ("exit", "false"):
            code = int(rest or 0) if word == "exit" else 1
            state = JobState.COMPLETED if code == 0 else JobState.FAILED
            return Plan(run_s, state, f"{code}:0", bytes(out))
        elif word == "oom":
            return Plan(run_s, JobState.OUT_OF_MEMORY, "0:9", bytes(out))
        elif word == "echo":
            text = _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), rest)
            out.extend(text.strip("'\"").encode() + b"\n")
    return Plan(run_s, JobState.COMPLETED, "0:0", bytes(out))
