"""FakeCluster: an in-memory cluster that tests drive by hand or by clock.

Two ways to move jobs, usable together:

- By hand: ``start_job(id)``, ``finish(id, state, exit_code)``, ``write_output``,
  ``forget(id)``, ``set_down(True)`` (every adapter call then raises
  ``ClusterUnavailable``), ``fail_next_submit(error)``.
- By clock (``auto=True``, the default): a queued job starts as soon as its
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

Time comes from the injected clock; every adapter call first replays events
(starts, ends) up to ``clock.now()`` in time order, so a ``FakeClock``
advanced by an hour gives the same history as an hour of real time.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from computenet.clock import Clock, SystemClock
from computenet.clusters.base import FEATURES, ClusterAdapter
from computenet.errors import ClusterError, ClusterUnavailable, ComputeNetError, NotFoundError
from computenet.model import (
    AttemptRequest,
    AttemptStatus,
    ClusterInfo,
    JobState,
    NodeSnapshot,
    Snapshot,
    SnapshotJob,
    Usage,
)
from computenet.model.tenancy import ClusterIdentity

_SPLIT = re.compile(r"\n|;|&&")
_VAR = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_UNSUPPORTED = {
    "dependencies": "the fake cluster does not model dependencies",
    "mpi": "the fake cluster runs no processes",
    "containers": "the fake cluster runs no processes",
    "signal": "the fake cluster runs no processes",
    "reservation": "the fake cluster has no reservations",
    "start_estimate": "the fake cluster gives no start estimates",
}


@dataclass(frozen=True)
class _Plan:
    """What a command will do once started."""

    run_s: float  # math.inf = until stopped
    state: JobState
    exit_code: str
    stdout: bytes


@dataclass
class _Job:
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
    plan: _Plan | None = None
    alloc: dict[str, int] = field(default_factory=dict)  # node name -> CPUs
    stdout: bytearray = field(default_factory=bytearray)
    stderr: bytearray = field(default_factory=bytearray)
    forgotten: bool = False


class FakeCluster(ClusterAdapter):
    """An in-memory ``ClusterAdapter``; see the module docstring for the rules."""

    def __init__(
        self,
        info: ClusterInfo,
        clock: Clock | None = None,
        *,
        auto: bool = True,
        first_id: int = 1000,
    ) -> None:
        if not info.partitions:
            raise ClusterError(f"fake cluster {info.name!r} needs at least one partition")
        self.name = info.name
        self._info = info
        self.clock: Clock = clock or SystemClock()
        self.auto = auto
        self._ids = itertools.count(first_id)
        self._jobs: dict[str, _Job] = {}
        self._down = False
        self._next_submit_error: ComputeNetError | None = None
        self._sim_time = self.clock.now()
        self._free: dict[str, int] = {}
        self._node_partition: dict[str, str] = {}
        for p in info.partitions:
            for i in range(p.nodes):
                node = f"{info.name}-{p.name}-{i + 1}"
                self._free[node] = p.node_type.cpus
                self._node_partition[node] = p.name
        #: every request accepted, in order (for assertions)
        self.submitted: list[AttemptRequest] = []
        #: projects with an identity here; once any is listed, others are refused
        self.identities: dict[str, ClusterIdentity] = {}

    def use_identities(self, identities: Sequence[ClusterIdentity]) -> None:
        self.identities = {i.project: i for i in identities}

    # ----- test controls ---------------------------------------------------
    def set_down(self, down: bool = True) -> None:
        """While down, every adapter call raises ``ClusterUnavailable``."""
        self._down = down

    def fail_next_submit(self, error: ComputeNetError) -> None:
        """The next ``submit`` raises this error (once) and submits nothing."""
        self._next_submit_error = error

    def start_job(self, native_id: str) -> None:
        """Start a queued job now, whether or not its CPUs are free."""
        self._advance()
        job = self._job(native_id)
        if job.state is not JobState.QUEUED:
            raise ClusterError(f"job {native_id} is {job.state}, not QUEUED")
        self._begin(job, self._sim_time, force=True)

    def finish(
        self, native_id: str, state: JobState = JobState.COMPLETED, exit_code: str = "0:0"
    ) -> None:
        """End a queued or running job now with this state and exit code."""
        self._advance()
        job = self._job(native_id)
        if job.state.terminal:
            raise ClusterError(f"job {native_id} already ended as {job.state}")
        if not state.terminal:
            raise ClusterError(f"{state} is not a terminal state")
        self._end(job, self._sim_time, state, exit_code)

    def write_output(self, native_id: str, data: bytes, stream: str = "stdout") -> None:
        job = self._job(native_id)
        (job.stdout if stream == "stdout" else job.stderr).extend(data)

    def forget(self, native_id: str) -> None:
        """Act as Slurm does after MinJobAge: the id is no longer known."""
        self._job(native_id).forgotten = True

    def job_ids(self) -> list[str]:
        return list(self._jobs)

    # ----- ClusterAdapter ------------------------------------------------------
    async def info(self) -> ClusterInfo:
        self._check_up()
        return self._info

    async def snapshot(self) -> Snapshot:
        self._check_up()
        self._advance()
        nodes = []
        for node, free in self._free.items():
            part = self._info.partition(self._node_partition[node])
            assert part is not None
            total = part.node_type.cpus
            alloc = total - free
            state = "idle" if alloc == 0 else "allocated" if free <= 0 else "mixed"
            nodes.append(
                NodeSnapshot(
                    name=node,
                    partition=part.name,
                    cpus=total,
                    cpus_alloc=alloc,
                    gpus=part.node_type.gpus,
                    mem_bytes=part.node_type.mem_bytes,
                    state=state,
                )
            )
        running: list[SnapshotJob] = []
        pending: list[SnapshotJob] = []
        for job in self._jobs.values():
            if job.forgotten or job.state.terminal:
                continue
            limit = job.request.spec.time_limit_s or self._max_time(job.partition)
            entry = SnapshotJob(
                native_id=job.native_id,
                partition=job.partition,
                cpus=job.cpus,
                nodes=job.nodes,
                time_limit_s=limit,
                submit_time=job.submit_time,
                start_time=job.start_time,
                gpus=job.request.spec.total_gpus,
            )
            (running if job.state is JobState.RUNNING else pending).append(entry)
        return Snapshot(
            time=self._sim_time, nodes=tuple(nodes), running=tuple(running), pending=tuple(pending)
        )

    async def submit(self, request: AttemptRequest) -> str:
        self._check_up()
        if self._next_submit_error is not None:
            error, self._next_submit_error = self._next_submit_error, None
            raise error
        self._advance()
        if self.identities and request.identity is None:
            raise ClusterError(f"project {request.project} has no identity at cluster {self.name}")
        spec = request.spec
        part = self._info.partition(request.partition or spec.partition)
        if part is None:
            raise ClusterError(
                f"sbatch: error: invalid partition specified: {request.partition or spec.partition}"
            )
        nodes = spec.node_count
        if nodes > part.nodes or math.ceil(spec.cpus / nodes) > part.node_type.cpus:
            raise ClusterError(
                "sbatch: error: Batch job submission failed: Requested node "
                "configuration is not available"
            )
        if part.max_time_s is not None and (spec.time_limit_s or 0) > part.max_time_s:
            raise ClusterError(
                "sbatch: error: Batch job submission failed: Requested time "
                "limit is invalid (missing or exceeds some limit)"
            )
        native_id = str(next(self._ids))
        job = _Job(
            native_id=native_id,
            request=request,
            partition=part.name,
            cpus=spec.cpus,
            nodes=nodes,
            submit_time=self.clock.now(),
        )
        self._jobs[native_id] = job
        self.submitted.append(request)
        self._advance()
        return native_id

    async def find(self, tag: str) -> str | None:
        self._check_up()
        for job in reversed(self._jobs.values()):
            if job.request.tag == tag and not job.forgotten:
                return job.native_id
        return None

    async def status(self, native_ids: Sequence[str]) -> dict[str, AttemptStatus]:
        self._check_up()
        self._advance()
        out: dict[str, AttemptStatus] = {}
        for nid in native_ids:
            job = self._jobs.get(nid)
            if job is None or job.forgotten:
                continue
            out[nid] = AttemptStatus(
                native_id=nid,
                state=job.state,
                exit_code=job.exit_code,
                reason=job.reason,
                start_time=job.start_time,
                end_time=job.end_time,
                node_list=",".join(job.alloc) or None,
            )
        return out

    async def cancel(self, native_id: str) -> None:
        self._check_up()
        self._advance()
        job = self._jobs.get(native_id)
        if job is None:
            raise NotFoundError(f"no job {native_id} on cluster {self.name}")
        if job.state.terminal or job.forgotten:
            return
        code = "0:15" if job.state is JobState.RUNNING else "0:0"
        self._end(job, self._sim_time, JobState.CANCELLED, code)

    async def output(
        self, native_id: str, stream: str = "stdout", offset: int = 0, limit: int = 1 << 20
    ) -> bytes:
        self._check_up()
        self._advance()
        job = self._job(native_id)
        data = job.stdout if stream == "stdout" else job.stderr
        return bytes(data[offset : offset + limit])

    async def usage(self, native_ids: Sequence[str]) -> dict[str, Usage]:
        self._check_up()
        self._advance()
        out: dict[str, Usage] = {}
        for nid in native_ids:
            job = self._jobs.get(nid)
            if job is None or job.start_time is None:
                continue
            end = job.end_time if job.end_time is not None else self._sim_time
            part = self._info.partition(job.partition)
            mem = job.request.spec.mem_bytes_total()
            if not mem and part is not None:
                mem = part.node_type.mem_bytes * job.nodes
            out[nid] = Usage(
                native_id=nid,
                elapsed_s=max(0.0, end - job.start_time),
                cpus=job.cpus,
                gpus=job.request.spec.total_gpus,
                nodes=job.nodes,
                mem_bytes=mem,
            )
        return out

    def features(self) -> dict[str, str | None]:
        return {name: _UNSUPPORTED.get(name) for name in FEATURES}

    # ----- internals -----------------------------------------------------------
    def _check_up(self) -> None:
        if self._down:
            raise ClusterUnavailable(f"cluster {self.name} is not answering (fake: set down)")

    def _job(self, native_id: str) -> _Job:
        try:
            return self._jobs[native_id]
        except KeyError:
            raise NotFoundError(f"no job {native_id} on cluster {self.name}") from None

    def _max_time(self, partition: str) -> int:
        part = self._info.partition(partition)
        return part.max_time_s if part is not None and part.max_time_s else 365 * 86400

    def _advance(self) -> None:
        """Replay starts and ends, in time order, up to the clock's now."""
        now = max(self.clock.now(), self._sim_time)
        t = self._sim_time
        while True:
            if self.auto:
                self._start_fitting(t)
            ends = [
                j.planned_end
                for j in self._jobs.values()
                if j.state is JobState.RUNNING
                and j.planned_end is not None
                and j.planned_end <= now
            ]
            if not ends:
                break
            t = min(ends)
            for job in list(self._jobs.values()):
                if job.state is JobState.RUNNING and job.planned_end == t:
                    assert job.plan is not None
                    self._end(job, t, job.plan.state, job.plan.exit_code)
        self._sim_time = now

    def _start_fitting(self, t: float) -> None:
        for job in self._jobs.values():
            if job.state is JobState.QUEUED and job.submit_time <= max(t, self._sim_time):
                self._begin(job, max(t, job.submit_time), force=False)

    def _begin(self, job: _Job, t: float, *, force: bool) -> None:
        per_node = math.ceil(job.cpus / job.nodes)
        nodes = [
            n
            for n, free in self._free.items()
            if self._node_partition[n] == job.partition and (force or free >= per_node)
        ]
        if len(nodes) < job.nodes:
            job.reason = "Resources"
            return
        for node in nodes[: job.nodes]:
            job.alloc[node] = per_node
            self._free[node] -= per_node
        job.state, job.start_time, job.reason = JobState.RUNNING, t, "None"
        if self.auto:
            job.plan = _plan(job, self._env(job))
            job.stdout.extend(job.plan.stdout)
            limit = job.request.spec.time_limit_s
            if limit is not None and job.plan.run_s > limit:
                job.plan = _Plan(limit, JobState.TIMEOUT, "0:15", b"")
            if math.isfinite(job.plan.run_s):
                job.planned_end = t + job.plan.run_s

    def _end(self, job: _Job, t: float, state: JobState, exit_code: str) -> None:
        for node, cpus in job.alloc.items():
            self._free[node] += cpus
        job.state, job.exit_code, job.end_time = state, exit_code, t
        job.planned_end = None
        job.reason = "None" if state is JobState.COMPLETED else state.value

    def _env(self, job: _Job) -> dict[str, str]:
        req = job.request
        env = {
            **req.env,
            **req.spec.environment,
            "SLURM_JOB_ID": job.native_id,
            "SLURM_JOB_NAME": req.spec.name,
            "SLURM_CLUSTER_NAME": self.name,
        }
        if req.array_task_id is not None:
            env["SLURM_ARRAY_TASK_ID"] = str(req.array_task_id)
            env["SLURM_ARRAY_JOB_ID"] = req.array_job_id or job.native_id
        return env


def _commands(job: _Job) -> list[str]:
    spec = job.request.spec
    text = spec.command
    if text is None and spec.script is not None:
        text = "\n".join(
            line
            for line in spec.script.splitlines()
            if line.strip() and not line.lstrip().startswith("#")
        )
    return [piece.strip() for piece in _SPLIT.split(text or "") if piece.strip()]


def _plan(job: _Job, env: dict[str, str]) -> _Plan:
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
            return _Plan(run_s, state, f"{code}:0", bytes(out))
        elif word == "oom":
            return _Plan(run_s, JobState.OUT_OF_MEMORY, "0:9", bytes(out))
        elif word == "echo":
            text = _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), rest)
            out.extend(text.strip("'\"").encode() + b"\n")
    return _Plan(run_s, JobState.COMPLETED, "0:0", bytes(out))
