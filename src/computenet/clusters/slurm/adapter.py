"""SlurmCluster: a real Slurm cluster driven through its own commands.

Where each answer comes from:

- submit: ``sbatch --parsable`` (see ``commands``); a refusal is a
  ``ClusterError`` carrying Slurm's message, an unreachable controller a
  ``ClusterUnavailable``.
- find: the tag in squeue's comments, then in sacct's when accounting is on,
  then the start marker the job's script wrote in its account's home
  (``markers``), so a job slurmctld has forgotten is still found.
- status: ``squeue --json`` (or ``squeue -h -o`` where ``--json`` is missing),
  which still lists a job for MinJobAge after it ends; later ``sacct`` when
  accounting is on, else the jobcomp/filetxt log read through the transport.
- output: the StdOut/StdErr path from ``scontrol show job``, read through
  the transport; usage: ``sacct`` (TotalCPU, MaxRSS) or the job record.
- snapshot: ``sinfo --json`` and ``squeue --json``; info: the configured
  partitions, else ``scontrol show partition`` and ``sinfo``.

Every command runs with ``SLURM_TIME_FORMAT=%s`` so times are epochs in any
time zone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from computenet.clock import Clock, SystemClock
from computenet.clusters.base import FEATURES, ClusterAdapter
from computenet.clusters.slurm import parse as p
from computenet.clusters.slurm import parse_nodes as pn
from computenet.clusters.slurm.commands import build_sbatch
from computenet.clusters.slurm.containers import pyxis_args, wrapped_script
from computenet.clusters.slurm.identities import IdentityTransports
from computenet.clusters.slurm.markers import marked, parse_marker, read_argv
from computenet.clusters.transport import CompletedCommand, LocalTransport, Transport
from computenet.config import ClusterConfig
from computenet.containers.runtime import bwrap_path
from computenet.containers.store import ImageStore
from computenet.errors import ClusterError, ClusterUnavailable, ComputeNetError, NotFoundError
from computenet.model import (
    AttemptRequest,
    AttemptStatus,
    ClusterInfo,
    JobState,
    NodeSnapshot,
    NodeType,
    PartitionInfo,
    Snapshot,
    SnapshotJob,
    Usage,
)
from computenet.model.tenancy import ClusterIdentity

_UNREACHABLE = (
    "unable to contact slurm controller",
    "socket timed out",
    "connection refused",
    "zero bytes were transmitted",
    "communication connection failure",
    "connection timed out",
    "munge",
    "transport endpoint",
    "in standby mode",
    "slurm_persist_conn_open",
)
_NO_CONTAINERS = (
    "no pyxis here (sbatch has no --container-image), and bubblewrap runs images "
    "only on a Slurm cluster on the server's machine"
)
_GONE = ("invalid job id", "already completing or completed")
_NO_JSON = ("unrecognized option", "invalid option", "plugin", "--json")


class SlurmCluster(ClusterAdapter):
    def __init__(
        self,
        config: ClusterConfig,
        transport: Transport | None = None,
        *,
        clock: Clock | None = None,
        command_timeout_s: float = 60.0,
        image_root: Path | None = None,
        mount_roots: tuple[str, ...] = (),
    ) -> None:
        self.name = config.name
        #: the cluster's site image store, and where container mounts may reach
        self.image_root = image_root
        self.mount_roots = mount_roots
        self._pyxis: bool | None = None  # sbatch takes --container-image; None = not asked
        self.config = config
        self.transport: Transport = transport or _default_transport(config)
        self.clock: Clock = clock or SystemClock()
        self.command_timeout_s = command_timeout_s
        self._slurm_config: dict[str, str] | None = None
        self._json: bool | None = None  # squeue/sinfo --json available; None = not yet known
        self._info: ClusterInfo | None = None
        #: native id -> (stdout path, stderr path, the account the job runs as)
        self._paths: dict[str, tuple[str | None, str | None, str | None]] = {}
        #: projects' identities here, and a transport for each (clusters/slurm/identities.py)
        self.identities = IdentityTransports(config, self.transport)
        self._jobcomp_offset = 0
        self._jobcomp: dict[str, p.SlurmJob] = {}

    # ----- plumbing ----------------------------------------------------------------
    async def _run(
        self,
        argv: Sequence[str],
        *,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        idempotent: bool = True,
        transport: Transport | None = None,
    ) -> CompletedCommand:
        return await (transport or self.transport).run(
            argv,
            input=input,
            idempotent=idempotent,
            env={"SLURM_TIME_FORMAT": "%s", **(env or {})},
            timeout_s=self.command_timeout_s,
        )

    def _error(self, what: str, result: CompletedCommand) -> ClusterError:
        message = " ".join(result.err.split("\n")) or f"exit status {result.returncode}"
        if any(s in message.lower() for s in _UNREACHABLE):
            return ClusterUnavailable(f"{self.name}: {what}: {message}")
        return ClusterError(f"{self.name}: {message}", command=what)

    async def _ok(self, argv: Sequence[str], what: str | None = None) -> str:
        result = await self._run(argv)
        if result.returncode != 0:
            raise self._error(what or argv[0], result)
        return result.out

    def _bad_output(self, exc: p.SlurmOutputError) -> ClusterError:
        return ClusterError(f"{self.name}: {exc}", transient=True)

    async def slurm_config(self) -> dict[str, str]:
        """``scontrol show config`` as a dict (read once)."""
        if self._slurm_config is None:
            text = await self._ok(["scontrol", "show", "config"])
            conf = {}
            for line in text.splitlines():
                key, sep, value = line.partition("=")
                if sep and key.strip() and " " not in key.strip():
                    conf[key.strip()] = value.strip()
            self._slurm_config = conf
        return self._slurm_config

    async def accounting(self) -> bool:
        kind = (await self.slurm_config()).get("AccountingStorageType", "")
        return kind.endswith("slurmdbd")

    async def start(self) -> None:
        await self.slurm_config()

    async def close(self) -> None:
        await self.identities.close()
        await self.transport.close()

    def use_identities(self, identities: Sequence[ClusterIdentity]) -> None:
        self.identities.use(identities)

    # ----- queries ---------------------------------------------------------------------
    async def _squeue(self, ids: Sequence[str] = ()) -> list[p.SlurmJob]:
        """Jobs Slurm still holds in memory; only ``ids`` when given. (22.05's
        ``--json`` ignores ``--jobs`` and prints every job; we filter here.)"""
        jobs_opt = [f"--jobs={','.join(ids)}"] if ids else []
        if self._json is not False:
            result = await self._run(["squeue", "--json", "--states=all", *jobs_opt])
            if result.returncode == 0:
                self._json = True
                try:
                    data = p.load_json(result.out, "squeue --json")
                    if errors := p.json_errors(data):
                        raise ClusterUnavailable(f"{self.name}: squeue: {result.err or errors[0]}")
                    jobs = p.parse_squeue_json(result.out)
                except p.SlurmOutputError as exc:
                    raise self._bad_output(exc) from exc
                return [j for j in jobs if not ids or j.job_id in ids]
            if self._json is None and any(s in result.err.lower() for s in _NO_JSON):
                self._json = False
            else:
                raise self._error("squeue", result)
        result = await self._run(["squeue", "-h", "-t", "all", "-o", p.SQUEUE_FORMAT, *jobs_opt])
        if result.returncode != 0:
            if ids and "invalid job id" in result.err.lower():
                return []
            raise self._error("squeue", result)
        try:
            return [j for j in p.parse_squeue_text(result.out) if not ids or j.job_id in ids]
        except p.SlurmOutputError as exc:
            raise self._bad_output(exc) from exc

    async def _scontrol_job(self, native_id: str) -> p.SlurmJob | None:
        result = await self._run(["scontrol", "show", "job", "-o", native_id])
        if result.returncode != 0:
            if "invalid job id" in result.err.lower():
                return None
            raise self._error("scontrol show job", result)
        try:
            jobs = p.parse_scontrol_jobs(result.out)
        except p.SlurmOutputError as exc:
            raise self._bad_output(exc) from exc
        for job in jobs:
            self._remember_paths(job)
        return next((j for j in jobs if j.job_id == native_id), None)

    async def _sacct(
        self, ids: Sequence[str], *, steps: bool = False, since: str | None = None
    ) -> list[p.SacctRow]:
        argv = ["sacct", "-P", "-n", "-o", ",".join(p.SACCT_FIELDS)]
        argv += ["-j", ",".join(ids)] if ids else ["-S", since or "now-14days"]
        if not steps:
            argv.append("-X")
        text = await self._ok(argv, "sacct")
        try:
            return p.parse_sacct(text)
        except p.SlurmOutputError as exc:
            raise self._bad_output(exc) from exc

    async def _jobcomp_jobs(self) -> dict[str, p.SlurmJob]:
        conf = await self.slurm_config()
        path = conf.get("JobCompLoc", "")
        if not conf.get("JobCompType", "").endswith("filetxt") or not path.startswith("/"):
            return self._jobcomp
        chunk = 4 << 20
        while True:
            data = await self.transport.read_file(path, self._jobcomp_offset, chunk)
            complete = data[: data.rfind(b"\n") + 1]
            self._jobcomp.update(p.parse_jobcomp(complete.decode("utf-8", "replace")))
            self._jobcomp_offset += len(complete)
            if len(data) < chunk or not complete:
                return self._jobcomp

    async def _finished(self, ids: Sequence[str]) -> dict[str, p.SlurmJob]:
        """Jobs slurmctld has forgotten: from accounting, else the jobcomp log."""
        if not ids:
            return {}
        if await self.accounting():
            return {r.job_id: p.job_from_sacct(r) for r in await self._sacct(ids)}
        done = await self._jobcomp_jobs()
        return {i: done[i] for i in ids if i in done}

    async def _jobs(self, ids: Sequence[str]) -> dict[str, p.SlurmJob]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        found = {j.job_id: j for j in await self._squeue(ids)}
        if self._json is False:  # the text form has no exit codes: ask scontrol
            for job_id, job in list(found.items()):
                if job.state.terminal:
                    found[job_id] = await self._scontrol_job(job_id) or job
        found |= await self._finished([i for i in ids if i not in found])
        for job in found.values():
            self._remember_paths(job)
        return found

    def _remember_paths(self, job: p.SlurmJob) -> None:
        # A pending array element's path still holds NO_VAL for %a (22.05): wait for the start.
        if job.stdout and job.state is not JobState.QUEUED and job.job_id not in self._paths:
            self._paths[job.job_id] = (job.stdout, job.stderr, job.user)

    # ----- ClusterAdapter ------------------------------------------------------------------
    async def pyxis(self) -> bool:
        """Whether this cluster's sbatch takes pyxis's options (asked once)."""
        if self._pyxis is None:
            result = await self._run(["sbatch", "--help"])
            self._pyxis = result.returncode == 0 and "--container-image" in result.out
        return self._pyxis

    async def _containerised(self, request: AttemptRequest) -> tuple[AttemptRequest, list[str]]:
        """The request as sbatch gets it when it names an image, and sbatch's
        extra options (pyxis's). Raises ClusterError (not transient) for an
        image this cluster cannot run; nothing is submitted then."""
        spec = request.spec
        if spec.container_image is None:
            return request, []
        if await self.pyxis():
            return request, pyxis_args(spec)
        if self.config.ssh or self.image_root is None:
            raise ClusterError(f"{self.name}: {_NO_CONTAINERS}")
        try:
            # the first use of an image unpacks it: seconds, off the event loop
            script = await asyncio.to_thread(
                wrapped_script, spec, ImageStore(self.image_root), self.mount_roots
            )
        except ComputeNetError as exc:
            raise ClusterError(f"{self.name}: {exc.message}") from exc
        return replace(request, spec=replace(spec, script=script, command=None)), []

    async def submit(self, request: AttemptRequest) -> str:
        request, extra = await self._containerised(request)
        if not extra:  # pyxis runs the script in its image, whose home may not be the account's
            request = replace(request, spec=marked(request.spec, self.name, request.tag))
        try:
            call = build_sbatch(request)
        except ValueError as exc:
            raise ClusterError(f"{self.name}: {exc}") from exc
        if extra:
            call = replace(call, argv=(*call.argv[:2], *extra, *call.argv[2:]))
        transport = self.identities.for_submission(request.project, request.identity)
        result = await self._run(
            call.argv, input=call.stdin, env=call.env, idempotent=False, transport=transport
        )
        if result.returncode != 0:
            raise self._error("sbatch", result)
        native_id = result.out.strip().split(";")[0]
        if not native_id.isdigit():
            raise ClusterError(
                f"{self.name}: sbatch printed no job id: {result.out[:200]!r}", transient=True
            )
        return native_id

    async def find(self, tag: str) -> str | None:
        def mine(comment: str | None) -> bool:
            return comment == tag or (comment or "").startswith(tag + " ")

        live = [j.job_id for j in await self._squeue() if mine(j.comment)]
        if not live and await self.accounting():
            live = [r.job_id for r in await self._sacct(()) if mine(r.fields["Comment"])]
        if live:
            return max(live, key=int)
        return await self._marker(tag)

    async def _marker(self, tag: str) -> str | None:
        """The job id the tag's start marker records (clusters/slurm/markers.py),
        looked up in the home of each account that submits here. A lookup that
        could not run raises ``ClusterError`` (transient): not knowing is no
        licence to submit again."""
        for transport in self.identities.all():
            result = await self._run(read_argv(self.name, tag), transport=transport)
            if result.returncode != 0:
                raise ClusterError(
                    f"{self.name}: cannot read the start marker of {tag}: "
                    f"{result.err or f'exit status {result.returncode}'}",
                    transient=True,
                )
            if (found := parse_marker(result.out, tag)) is not None:
                return found
        return None

    async def status(self, native_ids: Sequence[str]) -> dict[str, AttemptStatus]:
        jobs = await self._jobs(native_ids)
        return {
            i: AttemptStatus(
                native_id=i,
                state=j.state,
                exit_code=j.exit_code,
                reason=j.reason,
                start_time=j.start_time,
                end_time=j.end_time,
                node_list=j.node_list,
            )
            for i, j in jobs.items()
        }

    async def cancel(self, native_id: str) -> None:
        transport = None
        if self.identities.gated:  # as the account the job runs as
            job = await self._scontrol_job(native_id)
            transport = self.identities.for_account(job.user if job is not None else None)
        result = await self._run(["scancel", native_id], transport=transport)
        if result.returncode != 0 and not any(s in result.err.lower() for s in _GONE):
            raise self._error("scancel", result)

    async def output(
        self, native_id: str, stream: str = "stdout", offset: int = 0, limit: int = 1 << 20
    ) -> bytes:
        if stream not in ("stdout", "stderr"):
            raise ClusterError(f"no stream {stream!r}: want stdout or stderr")
        if native_id not in self._paths:
            job = await self._scontrol_job(native_id)
            if job is not None and job.state is JobState.QUEUED:
                return b""
        stdout, stderr, user = self._paths.get(native_id, (None, None, None))
        path = stdout if stream == "stdout" else stderr
        if path is None:
            raise NotFoundError(f"{self.name}: no {stream} path known for job {native_id}")
        reader = self.identities.for_account(user) if self.identities.gated else self.transport
        return await reader.read_file(path, offset, limit)

    async def usage(self, native_ids: Sequence[str]) -> dict[str, Usage]:
        ids = list(dict.fromkeys(native_ids))
        if ids and await self.accounting():
            return _usage_from_sacct(await self._sacct(ids, steps=True))
        now = self.clock.now()
        return {
            i: Usage(
                native_id=i,
                elapsed_s=max(0.0, (j.end_time or now) - j.start_time),
                cpus=j.cpus,
                gpus=j.gpus,
                nodes=j.nodes,
                mem_bytes=j.mem_bytes,
            )
            for i, j in (await self._jobs(ids)).items()
            if j.start_time is not None
        }

    async def start_estimates(self, native_ids: Sequence[str]) -> dict[str, float]:
        """Slurm's own start estimates for pending jobs (epoch seconds); jobs
        with no estimate yet (the backfill pass has not seen them) are left out."""
        if not native_ids:
            return {}
        result = await self._run(
            ["squeue", "--start", "-h", "-o", "%i|%S", f"--jobs={','.join(native_ids)}"]
        )
        if result.returncode != 0:
            if "invalid job id" in result.err.lower():
                return {}
            raise self._error("squeue --start", result)
        return {k: v for k, v in pn.parse_start_estimates(result.out).items() if k in native_ids}

    async def power_up(self, nodes: Sequence[str]) -> None:
        """Ask slurmctld to power these ``State=CLOUD`` nodes up now (it runs its
        ResumeProgram), ahead of any job that needs them."""
        argv = ["scontrol", "update", f"nodename={','.join(nodes)}", "state=power_up"]
        result = await self._run(argv, idempotent=False)
        if result.returncode != 0:
            raise self._error("scontrol update state=power_up", result)

    async def snapshot(self) -> Snapshot:
        nodes_text, jobs = await asyncio.gather(
            self._ok(["sinfo", "--json"], "sinfo"), self._squeue()
        )
        try:
            nodes = pn.parse_sinfo_nodes(nodes_text)
        except p.SlurmOutputError as exc:
            raise self._bad_output(exc) from exc
        running: list[SnapshotJob] = []
        pending: list[SnapshotJob] = []
        for j in jobs:
            if j.state.terminal:
                continue
            entry = SnapshotJob(
                native_id=j.job_id,
                partition=j.partition or "",
                cpus=j.cpus,
                nodes=j.nodes,
                time_limit_s=j.time_limit_s or 365 * 86400,
                submit_time=j.submit_time or 0.0,
                start_time=j.start_time if j.state.value == "RUNNING" else None,
                gpus=j.gpus,
            )
            (running if entry.start_time is not None else pending).append(entry)
        return Snapshot(
            time=self.clock.now(),
            nodes=tuple(nodes),
            running=tuple(running),
            pending=tuple(pending),
        )

    async def info(self) -> ClusterInfo:
        if self.config.partitions:
            return self.config.to_info()
        if self._info is None:
            parts_text, nodes_text = await asyncio.gather(
                self._ok(["scontrol", "show", "partition", "-o"], "scontrol show partition"),
                self._ok(["sinfo", "--json"], "sinfo"),
            )
            self._info = _discover(
                self.config, pn.parse_partitions(parts_text), pn.parse_sinfo_nodes(nodes_text)
            )
        return self._info

    def features(self) -> dict[str, str | None]:
        out: dict[str, str | None] = {name: None for name in FEATURES}
        if self._pyxis is not True and self.config.ssh:
            out["containers"] = _NO_CONTAINERS
        elif self._pyxis is not True and bwrap_path() is None:
            out["containers"] = "no pyxis seen here, and bubblewrap (bwrap) is not installed"
        conf = self._slurm_config
        if conf is not None and not conf.get("AccountingStorageType", "").endswith("slurmdbd"):
            out["usage"] = "accounting is off: usage has no CPU time or peak memory"
        return out


def _default_transport(config: ClusterConfig) -> Transport:
    env = {"SLURM_CONF": config.slurm_conf} if config.slurm_conf else {}
    if config.ssh:
        from computenet.clusters.slurm.ssh_transport import SshTransport

        return SshTransport(
            config.ssh, key_path=config.ssh_key, known_hosts=config.ssh_known_hosts, base_env=env
        )
    return LocalTransport(base_env=env)


def _usage_from_sacct(rows: list[p.SacctRow]) -> dict[str, Usage]:
    out: dict[str, Usage] = {}
    peak: dict[str, int] = {}
    for r in rows:
        if r.step is not None:
            peak[r.job_id] = max(peak.get(r.job_id, 0), p.parse_size_bytes(r.fields["MaxRSS"]))
    for r in rows:
        if r.step is not None or not r.fields["Start"].isdigit():
            continue
        tres = p.parse_tres(r.fields["AllocTRES"])
        out[r.job_id] = Usage(
            native_id=r.job_id,
            elapsed_s=float(r.fields["ElapsedRaw"] or 0),
            cpus=int(r.fields["AllocCPUS"] or 0),
            gpus=p.tres_gpus(tres),
            nodes=int(r.fields["NNodes"] or 1),
            mem_bytes=p.parse_size_bytes(tres.get("mem")),
            cpu_time_s=p.parse_duration_s(r.fields["TotalCPU"]),
            max_rss_bytes=peak.get(r.job_id),
        )
    return out


def _discover(
    config: ClusterConfig, partitions: list[dict[str, str]], nodes: list[NodeSnapshot]
) -> ClusterInfo:
    infos = []
    for part in partitions:
        name = part["PartitionName"]
        members = [n for n in nodes if n.partition == name] or nodes
        first = members[0] if members else None
        limit = p.parse_duration_s(part.get("MaxTime"))
        node_type = NodeType(
            cores=first.cpus if first else 1,
            mem_bytes=first.mem_bytes if first else 0,
            gpus=first.gpus if first else 0,
        )
        infos.append(
            PartitionInfo(
                name=name,
                node_type=node_type,
                nodes=int(part.get("TotalNodes") or len(members) or 1),
                max_time_s=int(limit) if limit is not None else None,
                default=part.get("Default") == "YES",
                price_per_core_hour=config.price_per_core_hour or 0.0,
                price_per_gpu_hour=config.price_per_gpu_hour or 0.0,
            )
        )
    return ClusterInfo(
        name=config.name,
        kind="slurm",
        partitions=tuple(infos),
        site=config.site,
        region=config.region,
        scheduler=config.scheduler,
    )
