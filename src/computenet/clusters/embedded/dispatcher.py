"""The embedded cluster's scheduling thread: starts queued jobs, collects ended ones.

One thread per cluster waits on a selector: a wake pipe (a submission, a
cancel, a node attached) and one pidfd per running job's supervisor, so a
finished job frees its CPUs within milliseconds. Every pass takes the
cluster's lock; the queue policy comes from ``scheduling/``, the match
policy from ``allocator``. Where pidfds are missing, a periodic check finds
supervisors that ended unnoticed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
from typing import TYPE_CHECKING

from computenet.clusters.embedded import launcher
from computenet.clusters.embedded.allocator import NodePool
from computenet.clusters.embedded.records import Job
from computenet.clusters.embedded.runner import launch_job, outcome_of
from computenet.clusters.embedded.views import UNLIMITED_S
from computenet.model import JobState
from computenet.scheduling import QueuedJob, QueuePolicy, RunningJob

if TYPE_CHECKING:
    from computenet.clusters.embedded.cluster import EmbeddedCluster

log = logging.getLogger(__name__)


class Dispatcher:
    """Runs the scheduling thread over the queue, nodes and records of ``cluster``."""

    def __init__(
        self, cluster: EmbeddedCluster, policy: QueuePolicy, check_interval_s: float
    ) -> None:
        self._cluster = cluster
        self._policy = policy
        self._check_interval_s = check_interval_s
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._watched: dict[str, int] = {}  # native id -> pidfd

    def start(self) -> None:
        """Start the thread (idempotent), watching jobs recovered as running."""
        c = self._cluster
        with c._lock:
            if self._thread is not None:
                return
            launcher.install_srun(c._files.bin)
            launcher.install_container_exec(c._files.bin)
            self._stop.clear()
            for job in c._jobs.values():
                if job.state is JobState.RUNNING:
                    self._watch(job)
            self._thread = threading.Thread(target=self._run, name=f"cluster-{c.name}", daemon=True)
            self._thread.start()

    def stop(self) -> bool:
        """Stop the thread and its watches; False if it was not running."""
        thread = self._thread
        if thread is None:
            return False
        self._stop.set()
        self.wake()
        thread.join()
        self._thread = None
        with self._cluster._lock:
            for fd in self._watched.values():
                self._selector.unregister(fd)
                os.close(fd)
            self._watched.clear()
        return True

    def wake(self) -> None:
        """Make the thread take a scheduling pass now."""
        with contextlib.suppress(BlockingIOError):  # full pipe: already awake
            os.write(self._wake_w, b"x")

    def _run(self) -> None:
        c = self._cluster
        last_check = 0.0
        while not self._stop.is_set():
            try:
                self._schedule()
            except Exception:  # one bad job must not stop the cluster
                log.exception("cluster %s: scheduling pass failed", c.name)
            events = self._selector.select(timeout=self._check_interval_s)
            ended: list[str] = []
            for key, _mask in events:
                if key.data is None:
                    try:
                        while os.read(self._wake_r, 4096):
                            pass
                    except BlockingIOError:
                        pass
                else:
                    ended.append(key.data)
            now = c._clock.now()
            if now - last_check >= self._check_interval_s:
                last_check = now
                ended.extend(self._lost_supervisors())
            for nid in ended:
                self._collect(nid)

    def _schedule(self) -> None:
        c = self._cluster
        with c._lock:
            now = c._clock.now()
            queued = sorted(
                (j for j in c._jobs.values() if j.state is JobState.QUEUED),
                key=lambda j: j.sort_key,
            )
            for part_name, pool in c._pools.items():
                pending = [j for j in queued if j.partition == part_name]
                while pending:
                    started = self._schedule_partition(pool, pending, now)
                    pending = [j for j in pending if c._jobs[j.native_id].state is JobState.QUEUED]
                    if not started:
                        break
                for i, job in enumerate(pending):
                    c._reasons[job.native_id] = "Resources" if i == 0 else "Priority"

    def _schedule_partition(self, pool: NodePool, pending: list[Job], now: float) -> int:
        c = self._cluster
        running = [
            RunningJob(
                j.native_id,
                j.allocation.cpus,
                (j.start_time or now) + (j.time_limit_s or UNLIMITED_S),
            )
            for j in c._jobs.values()
            if j.state is JobState.RUNNING
            and j.partition == pending[0].partition
            and j.allocation is not None
        ]
        by_id = {j.native_id: j for j in pending}
        queue = [
            QueuedJob(j.native_id, j.procs, float(j.time_limit_s or UNLIMITED_S), j.submit_time)
            for j in pending
        ]
        chosen = self._policy.select(
            queue,
            running,
            pool.total_cpus,
            now,
            fits=lambda q: pool.plan(by_id[str(q.id)].shape) is not None,
        )
        started = 0
        for nid in chosen:
            job = by_id[str(nid)]
            allocation = pool.plan(job.shape)
            if allocation is None:
                continue  # an earlier pick this round took its room
            pool.take(allocation)
            c._reasons.pop(job.native_id, None)
            request = c._requests.pop(job.native_id, None)
            if request is None:
                request = c._files.read_request(job.native_id) or {}
            job = launch_job(c._files, c._settings, job, request, allocation, c._first_cpu, now)
            c._jobs[job.native_id] = job
            if job.state.terminal:
                pool.release(allocation)
            else:
                self._watch(job)
                started += 1
        return started

    def _watch(self, job: Job) -> None:
        if job.supervisor_pid is None or job.native_id in self._watched:
            return
        try:
            fd = os.pidfd_open(job.supervisor_pid)
        except OSError:
            return  # gone already, or no pidfds: the periodic check collects it
        self._watched[job.native_id] = fd
        self._selector.register(fd, selectors.EVENT_READ, job.native_id)

    def _lost_supervisors(self) -> list[str]:
        """Running jobs whose supervisor ended without us noticing (no pidfd)."""
        c = self._cluster
        with c._lock:
            return [
                j.native_id
                for j in c._jobs.values()
                if j.state is JobState.RUNNING
                and j.native_id not in self._watched
                and not launcher.is_same_process(j.supervisor_pid, j.supervisor_ticks)
            ]

    def _collect(self, native_id: str) -> None:
        """A supervisor ended: record the job's outcome and free its resources."""
        c = self._cluster
        with c._lock:
            fd = self._watched.pop(native_id, None)
            if fd is not None:
                self._selector.unregister(fd)
                os.close(fd)
            job = c._jobs.get(native_id)
            if job is None or job.state is not JobState.RUNNING:
                return
            wait_status = launcher.reap(job.supervisor_pid) if job.supervisor_pid else None
            done = outcome_of(c._files, job, wait_status)
            c._jobs[native_id] = done
            if job.allocation is not None:
                c._pools[job.partition].release(job.allocation)
