"""FakeCluster: an in-memory cluster that tests drive by hand or by clock.

Two ways to move jobs, usable together:

- By hand: ``start_job(id)``, ``finish(id, state, exit_code)``, ``write_output``,
  ``forget(id)``, ``set_down(True)`` (every adapter call then raises
  ``ClusterUnavailable``), ``fail_next_submit(error)``.
- By clock (``auto=True``, the default): jobs start when their CPUs fit and
  end by what their command says (``sleep N``, ``exit K``, ``echo``, ``oom``:
  the rules are in ``fake_queue.py``). With ``auto=False`` nothing moves
  unless a test says so.

Time comes from the injected clock; every adapter call first replays events
(starts, ends) up to ``clock.now()`` in time order.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from computenet.clock import Clock, SystemClock
from computenet.clusters.base import FEATURES, ClusterAdapter
from computenet.clusters.fake_queue import FakeJob, FakeQueue
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

_UNSUPPORTED = {
    "dependencies": "the fake cluster does not model dependencies",
    "mpi": "the fake cluster runs no processes",
    "containers": "the fake cluster runs no processes",
    "signal": "the fake cluster runs no processes",
    "reservation": "the fake cluster has no reservations",
    "start_estimate": "the fake cluster gives no start estimates",
}


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
        #: the simulated jobs and nodes (tests read a job's true state there)
        self.queue = FakeQueue(info, self.clock, auto=auto)
        self._ids = itertools.count(first_id)
        self._down = False
        self._next_submit_error: ComputeNetError | None = None
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
        self.queue.advance()
        job = self._job(native_id)
        if job.state is not JobState.QUEUED:
            raise ClusterError(f"job {native_id} is {job.state}, not QUEUED")
        self.queue.begin(job, self.queue.sim_time, force=True)

    def finish(
        self, native_id: str, state: JobState = JobState.COMPLETED, exit_code: str = "0:0"
    ) -> None:
        """End a queued or running job now with this state and exit code."""
        self.queue.advance()
        job = self._job(native_id)
        if job.state.terminal:
            raise ClusterError(f"job {native_id} already ended as {job.state}")
        if not state.terminal:
            raise ClusterError(f"{state} is not a terminal state")
        self.queue.end(job, self.queue.sim_time, state, exit_code)

    def write_output(self, native_id: str, data: bytes, stream: str = "stdout") -> None:
        job = self._job(native_id)
        (job.stdout if stream == "stdout" else job.stderr).extend(data)

    def forget(self, native_id: str) -> None:
        """Act as Slurm does after MinJobAge: the id is no longer known."""
        self._job(native_id).forgotten = True

    def job_ids(self) -> list[str]:
        return list(self.queue.jobs)

    # ----- ClusterAdapter ------------------------------------------------------
    async def info(self) -> ClusterInfo:
        self._check_up()
        return self._info

    async def snapshot(self) -> Snapshot:
        self._check_up()
        self.queue.advance()
        nodes = []
        for node, free in self.queue.free.items():
            part = self._info.partition(self.queue.node_partition[node])
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
        for job in self.queue.jobs.values():
            if job.forgotten or job.state.terminal:
                continue
            limit = job.request.spec.time_limit_s or self.queue.max_time(job.partition)
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
            time=self.queue.sim_time,
            nodes=tuple(nodes),
            running=tuple(running),
            pending=tuple(pending),
        )

    async def submit(self, request: AttemptRequest) -> str:
        self._check_up()
        if self._next_submit_error is not None:
            error, self._next_submit_error = self._next_submit_error, None
            raise error
        self.queue.advance()
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
        job = FakeJob(
            native_id=native_id,
            request=request,
            partition=part.name,
            cpus=spec.cpus,
            nodes=nodes,
            submit_time=self.clock.now(),
        )
        self.queue.jobs[native_id] = job
        self.submitted.append(request)
        self.queue.advance()
        return native_id

    async def find(self, tag: str) -> str | None:
        self._check_up()
        for job in reversed(self.queue.jobs.values()):
            if job.request.tag == tag and not job.forgotten:
                return job.native_id
        return None

    async def status(self, native_ids: Sequence[str]) -> dict[str, AttemptStatus]:
        self._check_up()
        self.queue.advance()
        out: dict[str, AttemptStatus] = {}
        for nid in native_ids:
            job = self.queue.jobs.get(nid)
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
        self.queue.advance()
        job = self.queue.jobs.get(native_id)
        if job is None:
            raise NotFoundError(f"no job {native_id} on cluster {self.name}")
        if job.state.terminal or job.forgotten:
            return
        code = "0:15" if job.state is JobState.RUNNING else "0:0"
        self.queue.end(job, self.queue.sim_time, JobState.CANCELLED, code)

    async def output(
        self, native_id: str, stream: str = "stdout", offset: int = 0, limit: int = 1 << 20
    ) -> bytes:
        self._check_up()
        self.queue.advance()
        job = self._job(native_id)
        data = job.stdout if stream == "stdout" else job.stderr
        return bytes(data[offset : offset + limit])

    async def usage(self, native_ids: Sequence[str]) -> dict[str, Usage]:
        self._check_up()
        self.queue.advance()
        out: dict[str, Usage] = {}
        for nid in native_ids:
            job = self.queue.jobs.get(nid)
            if job is None or job.start_time is None:
                continue
            end = job.end_time if job.end_time is not None else self.queue.sim_time
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

    def _job(self, native_id: str) -> FakeJob:
        try:
            return self.queue.jobs[native_id]
        except KeyError:
            raise NotFoundError(f"no job {native_id} on cluster {self.name}") from None
