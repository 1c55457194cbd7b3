"""EmbeddedCluster: a resource manager inside the server process for this machine.

Jobs run under detached per-job supervisors (``supervisor.py``); this class
keeps the queue, the virtual nodes and the records. Its scheduling thread
(``dispatcher.py``) starts jobs and collects them as they end. Adapter
methods may be called from any event loop or thread: they take a lock,
never block on jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from computenet.clock import Clock, SystemClock
from computenet.clusters.base import ClusterAdapter
from computenet.clusters.embedded import elastic, launcher
from computenet.clusters.embedded.admission import (
    build_pools,
    check_fits_partition,
    choose_partition,
    detect_gpus,
    script_of,
    shape_of,
    time_limit_of,
)
from computenet.clusters.embedded.dispatcher import Dispatcher
from computenet.clusters.embedded.host_cpu import host_cpu, with_host_peak
from computenet.clusters.embedded.records import Job, JobFiles
from computenet.clusters.embedded.recovery import recover
from computenet.clusters.embedded.runner import LaunchSettings
from computenet.clusters.embedded.views import snapshot_of, status_of, usage_of
from computenet.config import ClusterConfig
from computenet.containers.runtime import bwrap_path
from computenet.containers.store import ImageStore
from computenet.errors import (
    ClusterError,
    ComputeNetError,
    ConfigError,
    NotFoundError,
    SpecError,
)
from computenet.model import (
    AttemptRequest,
    AttemptStatus,
    ClusterInfo,
    JobState,
    Snapshot,
    Usage,
)
from computenet.scheduling import get_policy


class EmbeddedCluster(ClusterAdapter):
    """Virtual nodes carved from this machine, with a real queue and real processes."""

    def __init__(
        self,
        config: ClusterConfig,
        state_dir: Path,
        clock: Clock | None = None,
        *,
        kill_grace_s: float = 5.0,
        mem_poll_s: float = 0.5,
        check_interval_s: float = 1.0,
        image_root: Path | None = None,
        mount_roots: tuple[str, ...] = (),
    ) -> None:
        self.name = config.name
        self._config = config
        self._clock = clock or SystemClock()
        try:
            policy = get_policy(config.scheduler)
        except ValueError as exc:
            raise ConfigError(f"cluster {config.name}: {exc}") from exc
        self._files = JobFiles(Path(state_dir))
        self._settings = LaunchSettings(
            cluster=config.name,
            bin_dir=self._files.bin,
            kill_grace_s=kill_grace_s,
            mem_poll_s=mem_poll_s,
            host_cpus=tuple(sorted(os.sched_getaffinity(0))),
            image_root=image_root or Path(state_dir) / "images",
            mount_roots=mount_roots,
            max_output_bytes=config.max_output_bytes,
        )
        self._gpu_models = detect_gpus()
        self._pools, self._first_cpu = build_pools(config, len(self._gpu_models))
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._by_tag: dict[str, str] = {}
        self._reasons: dict[str, str] = {}  # native id -> why it is still queued
        self._dispatcher = Dispatcher(self, policy, check_interval_s)
        jobs, self._requests = recover(self._files, self._pools)
        for job in jobs:
            self._jobs[job.native_id] = job
            self._by_tag[job.tag] = job.native_id
        self._next_id = self._files.first_free_id()

    # ----- lifecycle -----------------------------------------------------
    async def start(self) -> None:
        self._dispatcher.start()

    async def close(self) -> None:
        if not self._dispatcher.stop():
            return
        with self._lock:
            self._files.save_next_id(self._next_id)

    # ----- the adapter ---------------------------------------------------
    async def info(self) -> ClusterInfo:
        return with_host_peak(self._config.to_info(), host_cpu())

    def features(self) -> dict[str, str | None]:
        has_gpus = any(n.gpus for p in self._pools.values() for n in p.nodes)
        return {
            "arrays": None,
            "dependencies": "dependencies are resolved by the network before submission",
            "gpus": None if has_gpus else "no partition of this cluster has GPUs",
            "cpu_mode_core": None,
            "cpu_mode_smt": None,
            "mpi": None if launcher.which_mpirun() else "mpirun is not installed here",
            "containers": None if bwrap_path() else "bubblewrap (bwrap) is not installed here",
            "exclusive": None,
            "signal": None,
            "reservation": "the embedded cluster has no advance reservations",
            "usage": None,
            "start_estimate": "no own estimate; the broker plans from the snapshot",
        }

    async def _unpack(self, image: str) -> None:
        """Unpack the image now, off the event loop, rather than in the
        scheduling thread when the job starts; a failure here is left for
        the start to report, so the job fails with the reason."""
        assert self._settings.image_root is not None
        store = ImageStore(self._settings.image_root)
        with contextlib.suppress(ComputeNetError):
            await asyncio.to_thread(store.rootfs, image)

    async def submit(self, request: AttemptRequest) -> str:
        spec = request.spec
        part = choose_partition(
            self._config.partitions, self.name, request.partition or spec.partition
        )
        shape = shape_of(spec, part)
        pool = self._pools[part.name]
        gpus_per_node = pool.nodes[0].gpus if pool.nodes else 0
        gpu_model = part.gpu_model or (self._gpu_models[0] if self._gpu_models else None)
        check_fits_partition(spec, shape, part, gpus_per_node, gpu_model, self.name)
        limit_s = time_limit_of(spec, part, self.name)
        script = script_of(spec)
        if spec.container_image and self._settings.image_root is not None:
            await self._unpack(spec.container_image)
        self._dispatcher.start()
        with self._lock:
            known = self._by_tag.get(request.tag)
            if known is not None:
                return known  # the same attempt again: it must not run twice
            try:
                native_id = self._claim_id()
                job = Job(
                    native_id=native_id,
                    tag=request.tag,
                    name=spec.name,
                    partition=part.name,
                    shape=shape,
                    procs=pool.threads_for(shape),
                    time_limit_s=limit_s,
                    submit_time=self._clock.now(),
                )
                stored = {
                    "job_id": request.job_id,
                    "attempt": request.attempt,
                    "owner": request.owner,
                    "array_job_id": request.array_job_id,
                    "array_task_id": request.array_task_id,
                    "env": request.env,
                    "spec": spec.to_dict(),
                }
                self._files.write_request(job, stored, script)
            except OSError as exc:
                raise ClusterError(
                    f"cannot record the job in {self._files.root}: {exc}", transient=True
                ) from exc
            self._jobs[native_id] = job
            self._by_tag[request.tag] = native_id
            self._requests[native_id] = stored
        self._dispatcher.wake()
        return native_id

    def _claim_id(self) -> str:
        """The next native id; its job directory, made by write_request, claims it."""
        while self._files.job_dir(str(self._next_id)).exists():
            self._next_id += 1
        self._next_id += 1
        return str(self._next_id - 1)

    async def find(self, tag: str) -> str | None:
        with self._lock:
            return self._by_tag.get(tag)

    async def status(self, native_ids: Sequence[str]) -> dict[str, AttemptStatus]:
        with self._lock:
            return {
                nid: status_of(self._jobs[nid], self._reasons.get(nid, "Priority"))
                for nid in native_ids
                if nid in self._jobs
            }

    async def cancel(self, native_id: str) -> None:
        with self._lock:
            job = self._get(native_id)
            if job.state.terminal:
                return
            if job.state is JobState.QUEUED:
                now = self._clock.now()
                self._files.write(
                    native_id,
                    "status.json",
                    {
                        "version": 1,
                        "state": "CANCELLED",
                        "exit_code": "0:0",
                        "reason": "cancelled while pending",
                        "end_time": now,
                    },
                )
                self._requests.pop(native_id, None)
                self._jobs[native_id] = replace(
                    job,
                    state=JobState.CANCELLED,
                    exit_code="0:0",
                    end_time=now,
                    reason="cancelled while pending",
                )
                self._dispatcher.wake()
                return
            self._jobs[native_id] = replace(job, cancel_requested=True)
            if launcher.is_same_process(job.supervisor_pid, job.supervisor_ticks):
                assert job.supervisor_pid is not None
                # if it ended meanwhile, the thread collects its status
                with contextlib.suppress(OSError):
                    os.kill(job.supervisor_pid, signal.SIGTERM)
        self._dispatcher.wake()

    async def output(
        self, native_id: str, stream: str = "stdout", offset: int = 0, limit: int = 1 << 20
    ) -> bytes:
        if stream not in ("stdout", "stderr"):
            raise SpecError(f"unknown output stream {stream!r} (stdout or stderr)")
        with self._lock:
            job = self._get(native_id)
        path = job.stdout if stream == "stdout" else job.stderr
        if not path:
            return b""
        try:
            with open(path, "rb") as f:
                f.seek(offset)
                return f.read(limit)
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise ClusterError(f"cannot read {stream} of job {native_id}: {exc}") from exc

    async def usage(self, native_ids: Sequence[str]) -> dict[str, Usage]:
        now = self._clock.now()
        with self._lock:
            return {nid: usage_of(self._jobs[nid], now) for nid in native_ids if nid in self._jobs}

    async def snapshot(self) -> Snapshot:
        with self._lock:
            return snapshot_of(self._pools, list(self._jobs.values()), self._clock.now())

    # ----- pool nodes (clusters/pools, logic in elastic.py) ---------------------
    def attach_node(self, partition: str, name: str) -> None:
        elastic.attach(self, partition, name)

    def detach_node(self, name: str) -> bool:
        return elastic.detach(self, name)

    def node_names(self, partition: str) -> list[str]:
        return elastic.node_names(self, partition)

    def _get(self, native_id: str) -> Job:
        job = self._jobs.get(native_id)
        if job is None:
            raise NotFoundError(f"cluster {self.name} has no job {native_id}")
        return job
