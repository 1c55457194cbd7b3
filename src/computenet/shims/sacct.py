"""``sacct``: the network's job accounting in Slurm's formats.

Each job is one line plus, once it started, its ``ID.batch`` step (as a
Slurm batch job has); ``-X`` keeps the allocation lines only. Defaults as
Slurm's: your own jobs since midnight (any time with ``-j``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from computenet.shims.common import (
    SLURM_VERSION,
    SlurmArgs,
    UsageError,
    connect,
    print_json,
    run,
    split_list,
    user_filter,
)
from computenet.shims.formats import SacctField, parse_sacct, sacct_cell
from computenet.shims.records import COMPACT, JobView, rss_text, slurm_state_name
from computenet.shims.slurmtime import (
    parse_past_time,
    sacct_cpu_time,
    sacct_duration,
    timestamp,
)

PROG = "sacct"
DEFAULT_FORMAT = "JobID,JobName,Partition,Account,AllocCPUS,State,ExitCode"
BRIEF_FORMAT = "JobID,State,ExitCode"
LONG_FORMAT = (
    "JobID,JobIDRaw,JobName,Partition,MaxVMSize,MaxVMSizeNode,MaxVMSizeTask,AveVMSize,"
    "MaxRSS,MaxRSSNode,MaxRSSTask,AveRSS,MaxPages,MaxPagesNode,MaxPagesTask,AvePages,"
    "MinCPU,MinCPUNode,MinCPUTask,AveCPU,NTasks,AllocCPUS,Elapsed,State,ExitCode"
)


class Row:
    """One sacct line: a job allocation, or its batch step."""

    def __init__(self, job: JobView, step: str | None) -> None:
        self.job = job
        self.step = step

    def suffix(self, text: str) -> str:
        return f"{text}.{self.step}" if self.step else text

    @property
    def state(self) -> str:
        s = self.job.sacct_state
        if s == "CANCELLED":
            return f"CANCELLED by {os.getuid()}"
        return s


def _alloc(get: Callable[[JobView], str]) -> Callable[[Row], str]:
    """A field only the allocation line carries (steps leave it blank)."""
    return lambda r: "" if r.step else get(r.job)


def _step(get: Callable[[JobView], str]) -> Callable[[Row], str]:
    """A field only steps carry (usage is measured per step in Slurm)."""
    return lambda r: get(r.job) if r.step else ""


def _both(get: Callable[[JobView], str]) -> Callable[[Row], str]:
    return lambda r: get(r.job)


def _started(get: Callable[[JobView], str], missing: str = "0") -> Callable[[Row], str]:
    return lambda r: get(r.job) if r.job.start_time is not None else missing


def _tres(j: JobView) -> str:
    if j.start_time is None:
        return ""
    mem = j.mem_request if j.mem_request not in ("0",) else ""
    parts = [f"billing={j.cpus}", f"cpu={j.cpus}"]
    if mem and not mem.endswith("c"):
        parts.append(f"mem={mem}")
    gpus = j.spec.get("gpus") or 0
    if gpus:
        parts.append(f"gres/gpu={gpus}")
    parts.append(f"node={j.nodes}")
    return ",".join(parts)


#: field -> (default width: negative is left-justified, value of a row)
FIELDS: dict[str, tuple[int, Callable[[Row], str]]] = {
    "JobID": (-12, lambda r: r.suffix(r.job.job_id)),
    "JobIDRaw": (-12, lambda r: r.suffix(r.job.raw_id)),
    "JobName": (10, lambda r: r.step or r.job.name),
    "User": (9, _alloc(lambda j: j.user)),
    "UID": (6, _alloc(lambda j: str(os.getuid()))),
    "Account": (10, _both(lambda j: j.account)),
    "Partition": (10, _alloc(lambda j: j.partition)),
    "Cluster": (10, _both(lambda j: j.cluster)),
    "State": (10, lambda r: r.state),
    "ExitCode": (8, _both(lambda j: j.exit_code)),
    "DerivedExitCode": (15, _alloc(lambda j: j.exit_code)),
    "Reason": (20, _alloc(lambda j: j.reason)),
    "Elapsed": (10, _both(lambda j: sacct_duration(j.elapsed_s))),
    "ElapsedRaw": (10, _both(lambda j: str(int(j.elapsed_s)))),
    "CPUTime": (10, _both(lambda j: sacct_duration(j.elapsed_s * j.cpus))),
    "CPUTimeRAW": (10, _both(lambda j: str(int(j.elapsed_s * j.cpus)))),
    "Submit": (19, _both(lambda j: timestamp(j.submit_time, "Unknown"))),
    "Eligible": (19, _alloc(lambda j: timestamp(j.submit_time, "Unknown"))),
    "Start": (19, _both(lambda j: timestamp(j.start_time, "Unknown"))),
    "End": (19, _both(lambda j: timestamp(j.end_time, "Unknown"))),
    "AllocCPUS": (10, _started(lambda j: str(j.cpus))),
    "NCPUS": (10, _started(lambda j: str(j.cpus))),
    "ReqCPUS": (8, _alloc(lambda j: str(j.cpus))),
    "NNodes": (8, _both(lambda j: str(j.nodes))),
    "ReqNodes": (8, _alloc(lambda j: str(j.nodes))),
    "NTasks": (8, _step(lambda j: str(j.spec.get("ntasks") or 1))),
    "NodeList": (-15, lambda r: r.job.node_list or "None assigned"),
    "TotalCPU": (10, _both(lambda j: sacct_cpu_time(j.usage.get("cpu_time_s")))),
    "MaxRSS": (10, _step(lambda j: rss_text(j.usage.get("max_rss_bytes")))),
    "ReqMem": (10, _alloc(lambda j: j.mem_request)),
    "AllocTRES": (10, _both(_tres)),
    "ReqTRES": (10, _alloc(_tres)),
    "Timelimit": (10, _alloc(lambda j: _limit(j.time_limit_s))),
    "TimelimitRaw": (12, _alloc(lambda j: _limit_raw(j.time_limit_s))),
    "WorkDir": (-15, _alloc(lambda j: j.workdir)),
    "Comment": (15, _alloc(lambda j: str(j.spec.get("comment") or ""))),
    "QOS": (10, _alloc(lambda j: str(j.spec.get("qos") or "normal"))),
    "Constraints": (19, _alloc(lambda j: str(j.spec.get("constraint") or ""))),
    "Priority": (10, _alloc(lambda j: "1")),
}
for _name in (
    "MaxVMSize", "MaxVMSizeNode", "MaxVMSizeTask", "AveVMSize", "MaxRSSNode", "MaxRSSTask",
    "AveRSS", "MaxPages", "MaxPagesNode", "MaxPagesTask", "AvePages", "MinCPU", "MinCPUNode",
    "MinCPUTask", "AveCPU",
):  # fmt: skip
    FIELDS[_name] = (10, lambda r: "")
DEFAULT_WIDTHS = {name: width for name, (width, _) in FIELDS.items()}


def _limit(seconds: int | None) -> str:
    return "UNLIMITED" if seconds is None else sacct_duration(seconds)


def _limit_raw(seconds: int | None) -> str:
    return "UNLIMITED" if seconds is None else str(max(1, (seconds + 59) // 60))


def _parser() -> SlurmArgs:
    p = SlurmArgs(PROG)
    p.add_argument("-a", "--allusers", action="store_true")
    p.add_argument("-A", "--accounts")
    p.add_argument("-b", "--brief", action="store_true")
    p.add_argument("-D", "--duplicates", action="store_true")
    p.add_argument("--delimiter", default="|")
    p.add_argument("-E", "--endtime")
    p.add_argument("-e", "--helpformat", action="store_true")
    p.add_argument("-h", "--help", action="store_true")
    p.add_argument("-j", "--jobs", action="append")
    p.add_argument("--json", action="store_true")
    p.add_argument("-l", "--long", action="store_true")
    p.add_argument("-L", "--allclusters", action="store_true")
    p.add_argument("-M", "--clusters")
    p.add_argument("-n", "--noheader", action="store_true")
    p.add_argument("--name")
    p.add_argument("--noconvert", action="store_true")
    p.add_argument("-o", "--format")
    p.add_argument("-p", "--parsable", action="store_true")
    p.add_argument("-P", "--parsable2", action="store_true")
    p.add_argument("-r", "--partition")
    p.add_argument("-s", "--state")
    p.add_argument("-S", "--starttime")
    p.add_argument("-T", "--truncate", action="store_true")
    p.add_argument("-u", "--user", "--uid")
    p.add_argument("--units")
    p.add_argument("-V", "--version", action="store_true")
    p.add_argument("-X", "--allocations", action="store_true")
    p.add_argument("-v", "--verbose", action="count", default=0)
    return p


def main(argv: Sequence[str]) -> int:
    return run(PROG, _sacct, argv)


def _sacct(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.help:
        sys.stdout.write("Usage: sacct [OPTIONS]\n")
        return 0
    if args.helpformat:
        names = sorted(FIELDS, key=str.lower)
        for i in range(0, len(names), 4):
            sys.stdout.write("".join(f"{n:<20}" for n in names[i : i + 4]).rstrip() + "\n")
        return 0
    if args.version:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    fmt = args.format or os.environ.get("SACCT_FORMAT")
    if fmt is None:
        fmt = BRIEF_FORMAT if args.brief else LONG_FORMAT if args.long else DEFAULT_FORMAT
    fields = parse_sacct(fmt, DEFAULT_WIDTHS)
    client = connect()
    jobs = _select(client, args)
    if args.json:
        print_json(_json(jobs))
        return 0
    rows = [
        Row(j, step)
        for j in jobs
        for step in ([None] if args.allocations or j.start_time is None else [None, "batch"])
    ]
    sys.stdout.write("".join(line + "\n" for line in _lines(fields, rows, args)))
    return 0


def _lines(fields: list[SacctField], rows: list[Row], args: Any) -> list[str]:
    out: list[str] = []
    if args.parsable or args.parsable2:
        sep, tail = args.delimiter, args.delimiter if args.parsable else ""
        if not args.noheader:
            out.append(sep.join(f.name for f in fields) + tail)
        out.extend(sep.join(FIELDS[f.name][1](r) for f in fields) + tail for r in rows)
        return out
    if not args.noheader:
        out.append(" ".join(sacct_cell(f.name, f.width) for f in fields) + " ")
        out.append(" ".join("-" * abs(f.width) for f in fields) + " ")
    out.extend(
        " ".join(sacct_cell(FIELDS[f.name][1](r), f.width) for f in fields) + " " for r in rows
    )
    return out


def _select(client: Any, args: Any) -> list[JobView]:
    now = time.time()
    ids = split_list(args.jobs)
    try:
        start = parse_past_time(args.starttime, now) if args.starttime else None
        end = parse_past_time(args.endtime, now) if args.endtime else now
        states = {slurm_state_name(s) for s in split_list([args.state])} if args.state else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if start is None and not ids:
        start = parse_past_time("midnight", now)
    fetch = _fetcher(client)
    raw: dict[int, dict[str, Any]] = {}
    if ids:
        raw.update(_by_ids(client, ids))
    else:
        users = split_list([args.user]) if args.user else [None]
        for user in users:
            who = user_filter(client, user)
            for job in client.jobs(all=True, user=who, name=args.name):
                raw[job["id"]] = job
    views = [JobView(job, fetch, now) for _, job in sorted(raw.items())]
    keep = []
    for j in views:
        if start is not None and (j.end_time or now) < start:
            continue
        if (j.submit_time or 0) > end:
            continue
        if states is not None and _sacct_state(j) not in states:
            continue
        if _matches(j, args, by_id=bool(ids)):
            keep.append(j)
    return keep


def _matches(j: JobView, args: Any, *, by_id: bool) -> bool:
    """The -r/-A/-M/--name (and, with -j, -u) filters; values are read only
    when a filter asks, since some need the job's spec."""
    checks: tuple[tuple[str | None, Callable[[], str]], ...] = (
        (args.partition, lambda: j.partition),
        (args.accounts, lambda: j.account),
        (args.clusters, lambda: j.cluster),
        (args.name, lambda: j.name),
        (args.user if by_id else None, lambda: j.user),
    )
    return all(not want or get() in split_list([want]) for want, get in checks)


def _sacct_state(j: JobView) -> str:
    s = j.sacct_state
    return s if s in COMPACT else "RUNNING"


def _fetcher(client: Any) -> Callable[[str], dict[str, Any]]:
    return lambda job_id: dict(client.job(job_id))


def _by_ids(client: Any, ids: list[str]) -> dict[int, dict[str, Any]]:
    from computenet.errors import NotFoundError, SpecError

    out: dict[int, dict[str, Any]] = {}
    for job_id in ids:
        try:
            job = client.job(job_id.partition(".")[0])
        except (NotFoundError, SpecError):
            continue  # sacct prints nothing for ids it does not know
        if job.get("array_job_id") == job["id"] and "_" not in job_id:
            for element in client.jobs(all=True, name=job["name"]):
                if element.get("array_job_id") == job["id"]:
                    out.setdefault(element["id"], element)
        out[job["id"]] = job
    return out


def _json(jobs: list[JobView]) -> dict[str, Any]:
    """Slurm 22.05's ``sacct --json`` shape, with the fields people read."""

    def exit_code(j: JobView) -> dict[str, Any]:
        code, _, sig = j.exit_code.partition(":")
        status = "SUCCESS" if code == "0" and sig in ("", "0") else "FAILED"
        if sig not in ("", "0"):
            status = "SIGNALED"
        out: dict[str, Any] = {"status": status, "return_code": int(code or 0)}
        if sig not in ("", "0"):
            out["signal"] = {"id": int(sig)}
        return out

    def one(j: JobView) -> dict[str, Any]:
        limit = j.time_limit_s
        started = j.start_time is not None
        steps = (
            [
                {
                    "step": {"name": "batch", "id": f"{j.raw_id}.batch"},
                    "state": j.sacct_state,
                    "exit_code": exit_code(j),
                    "nodes": {"count": j.nodes, "range": j.node_list},
                    "time": {
                        "elapsed": int(j.elapsed_s),
                        "start": int(j.start_time or 0),
                        "end": int(j.end_time or 0),
                    },
                }
            ]
            if started
            else []
        )
        return {
            "account": j.account,
            "array": {
                "job_id": int(j.array_job_id) if j.job.get("array_job_id") else 0,
                "task_id": j.job.get("array_task_id"),
            },
            "cluster": j.cluster,
            "exit_code": exit_code(j),
            "job_id": int(j.raw_id),
            "name": j.name,
            "nodes": j.node_list or "None assigned",
            "partition": j.partition,
            "required": {"CPUs": j.cpus},
            "state": {"current": j.sacct_state, "reason": j.reason},
            "steps": steps,
            "time": {
                "elapsed": int(j.elapsed_s),
                "eligible": int(j.submit_time or 0),
                "end": int(j.end_time or 0),
                "start": int(j.start_time or 0),
                "submission": int(j.submit_time or 0),
                "suspended": 0,
                "limit": None if limit is None else max(1, (limit + 59) // 60),
            },
            "user": j.user,
            "working_directory": j.workdir,
        }

    return {
        "meta": {"plugin": {"type": "openapi/dbv0.0.38", "name": "computenet"},
                 "Slurm": {"release": SLURM_VERSION}},
        "errors": [],
        "jobs": [one(j) for j in jobs],
    }  # fmt: skip
