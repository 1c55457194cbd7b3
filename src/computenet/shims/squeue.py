"""``squeue``: the network's queue in Slurm's formats.

Default columns ``JOBID PARTITION NAME USER ST TIME NODES NODELIST(REASON)``;
``-o`` takes Slurm's ``%[.][size]letter`` fields, ``-O`` long field names,
``--json`` a Slurm-like document. Finished jobs show for MinJobAge (300 s)
with ``-t all`` and always with ``-j``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
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
    write_lines,
)
from computenet.shims.formats import Column, Part, parse_long, parse_percent, render
from computenet.shims.records import ACTIVE, JobView, slurm_state_name
from computenet.shims.slurmtime import squeue_duration, squeue_limit, timestamp

PROG = "squeue"
MIN_JOB_AGE_S = 300.0  # Slurm's default: finished jobs stay in squeue this long
DEFAULT_FORMAT = "%.18i %.9P %.8j %.8u %.2t %.10M %.6D %R"
LONG_FORMAT = "%.18i %.9P %.8j %.8u %.8T %.10M %.9l %.6D %R"
START_FORMAT = "%.18i %.9P %.8j %.8u %.2t %.19S %.6D %20Y %R"

Getter = Callable[[JobView], str]


def _reason_list(j: JobView) -> str:
    return f"({j.reason})" if j.state == "PENDING" or not j.node_list else j.node_list


def _time_left(j: JobView) -> str:
    if j.time_limit_s is None:
        return "UNLIMITED"
    return squeue_duration(max(0.0, j.time_limit_s - j.elapsed_s))


def _start(j: JobView) -> str:
    return timestamp(j.start_time if j.start_time is not None else j.predicted_start)


def _dependency(j: JobView) -> str:
    deps = j.spec.get("dependency") or []
    text = ",".join(
        f"{d['kind']}:{':'.join(d['job_ids'])}" if d.get("job_ids") else str(d["kind"])
        for d in deps
        if isinstance(d, dict)
    )
    return text or "(null)"


def _spec(key: str, missing: str = "(null)") -> Getter:
    return lambda j: str(j.spec.get(key) or missing)


#: letter -> (header, long name for -O, value)
FIELDS: dict[str, tuple[str, str, Getter]] = {
    "i": ("JOBID", "JobArrayID", lambda j: j.job_id),
    "A": ("JOBID", "JobID", lambda j: j.raw_id),
    "F": ("ARRAY_JOB_ID", "ArrayJobID", lambda j: j.array_job_id),
    "K": ("ARRAY_TASK_ID", "ArrayTaskID", lambda j: j.array_task_id),
    "j": ("NAME", "Name", lambda j: j.name),
    "u": ("USER", "UserName", lambda j: j.user),
    "U": ("UID", "UserID", lambda j: str(os.getuid())),
    "T": ("STATE", "State", lambda j: j.state),
    "t": ("ST", "StateCompact", lambda j: j.compact_state),
    "r": ("REASON", "Reason", lambda j: j.reason),
    "R": ("NODELIST(REASON)", "ReasonList", _reason_list),
    "N": ("NODELIST", "NodeList", lambda j: j.node_list),
    "M": ("TIME", "TimeUsed", lambda j: squeue_duration(j.elapsed_s)),
    "l": ("TIME_LIMIT", "TimeLimit", lambda j: squeue_limit(j.time_limit_s)),
    "L": ("TIME_LEFT", "TimeLeft", _time_left),
    "D": ("NODES", "NumNodes", lambda j: str(j.nodes)),
    "C": ("CPUS", "NumCPUs", lambda j: str(j.cpus)),
    "c": ("MIN_CPUS", "MinCpus", lambda j: str(j.spec.get("cpus_per_task") or 1)),
    "P": ("PARTITION", "Partition", lambda j: j.partition),
    "a": ("ACCOUNT", "Account", lambda j: j.account),
    "q": ("QOS", "QOS", _spec("qos", "normal")),
    "m": ("MIN_MEMORY", "MinMemory", lambda j: j.mem_request),
    "b": ("TRES_PER_NODE", "tres-per-node", _spec("gres", "N/A")),
    "f": ("FEATURES", "Feature", _spec("constraint")),
    "k": ("COMMENT", "Comment", _spec("comment")),
    "E": ("DEPENDENCY", "Dependency", _dependency),
    "v": ("RESERVATION", "Reservation", _spec("reservation")),
    "V": ("SUBMIT_TIME", "SubmitTime", lambda j: timestamp(j.submit_time)),
    "S": ("START_TIME", "StartTime", _start),
    "e": ("END_TIME", "EndTime", lambda j: timestamp(j.expected_end)),
    "Z": ("WORK_DIR", "WorkDir", lambda j: j.workdir),
    "o": ("COMMAND", "Command", lambda j: j.command),
    "Y": ("SCHEDNODES", "SchedNodes", lambda j: "(null)"),
    "y": ("NICE", "Nice", lambda j: "0"),
    "Q": ("PRIORITY", "PriorityLong", lambda j: "1"),
    "p": ("PRIORITY", "Priority", lambda j: "0.99998474121093"),
    "h": ("OVER_SUBSCRIBE", "OverSubscribe", lambda j: "OK"),
    "x": ("EXC_NODES", "ExcNodes", lambda j: ""),
    "n": ("REQ_NODES", "ReqNodes", lambda j: ""),
    "O": ("CONTIGUOUS", "Contiguous", lambda j: "0"),
    "w": ("WCKEY", "WCKey", lambda j: "(null)"),
}
#: -O names -> letter (and the -O-only Cluster field)
LONG_NAMES: dict[str, str] = {long: letter for letter, (_, long, _) in FIELDS.items()}
LONG_NAMES["Cluster"] = "cluster"
LONG_NAMES["STName"] = "T"  # an alias some scripts use
_EXTRA: dict[str, tuple[str, Getter]] = {"cluster": ("CLUSTER", lambda j: j.cluster)}


def _parser() -> SlurmArgs:
    p = SlurmArgs(PROG)
    p.add_argument("-A", "--account", action="append")
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-r", "--array", action="store_true")
    p.add_argument("--array-unique", action="store_true")
    p.add_argument("-h", "--noheader", action="store_true")
    p.add_argument("--help", action="store_true")
    p.add_argument("--usage", action="store_true")
    p.add_argument("-i", "--iterate", type=int)
    p.add_argument("-j", "--jobs", action="append", nargs="?", const="")
    p.add_argument("--json", action="store_true")
    p.add_argument("-l", "--long", action="store_true")
    p.add_argument("-L", "--licenses")
    p.add_argument("-M", "--clusters", action="append")
    p.add_argument("--me", action="store_true")
    p.add_argument("-n", "--name", action="append")
    p.add_argument("--noconvert", action="store_true")
    p.add_argument("-o", "--format")
    p.add_argument("-O", "--Format")
    p.add_argument("-p", "--partition", action="append")
    p.add_argument("-q", "--qos", action="append")
    p.add_argument("-R", "--reservation")
    p.add_argument("-s", "--steps", action="append", nargs="?", const="")
    p.add_argument("-S", "--sort")
    p.add_argument("--start", action="store_true")
    p.add_argument("-t", "--states", action="append")
    p.add_argument("-u", "--user", action="append")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-V", "--version", action="store_true")
    p.add_argument("-w", "--nodelist", action="append")
    p.add_argument("--federation", "--local", "--sibling", dest="ignored", action="store_true")
    p.add_argument("ids", nargs="*")
    return p


def main(argv: Sequence[str]) -> int:
    return run(PROG, _squeue, argv)


def _squeue(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.help or args.usage:
        sys.stdout.write("Usage: squeue [-A account] [--clusters names] [-i seconds] ...\n")
        return 0
    if args.version:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    parts = _format(args)
    client = connect()
    while True:
        code = _once(client, args, parts)
        if not args.iterate or code:
            return code
        time.sleep(args.iterate)
        sys.stdout.write("\n")


def _format(args: Any) -> list[Part]:
    if args.Format:
        names = {name: None for name in LONG_NAMES}
        return [
            Column(LONG_NAMES[p.key], p.width, p.right, p.suffix) if isinstance(p, Column) else p
            for p in parse_long(args.Format, names)
        ]
    fmt = args.format or os.environ.get("SQUEUE_FORMAT")
    if fmt is None:
        fmt = START_FORMAT if args.start else LONG_FORMAT if args.long else DEFAULT_FORMAT
    return parse_percent(fmt, FIELDS)


def _once(client: Any, args: Any, parts: list[Part]) -> int:
    now = time.time()
    ids = split_list(args.jobs) + split_list(args.ids)
    states = _states(args, bool(ids))
    clusters = split_list(args.clusters)
    if args.steps is not None:
        write_lines(
            []
            if args.noheader
            else ["         STEPID     NAME PARTITION     USER      TIME NODELIST"]
        )
        return 0
    try:
        jobs = _select(client, args, ids, states, now)
    except LookupError:
        sys.stderr.write("slurm_load_jobs error: Invalid job id specified\n")
        return 1
    if args.start:
        jobs = [j for j in jobs if j.state == "PENDING"]
    if args.sort:
        jobs = _sorted(jobs, args.sort)
    if args.json:
        print_json(_json(jobs, now))
        return 0
    if len(clusters) > 1 or clusters == ["all"]:
        names = sorted({c["name"] for c in client.clusters()}) if clusters == ["all"] else clusters
        for i, name in enumerate(names):
            sys.stdout.write(("\n" if i else "") + f"CLUSTER: {name}\n")
            _print(parts, [j for j in jobs if j.cluster == name], args.noheader)
        return 0
    _print(parts, jobs, args.noheader)
    return 0


def _states(args: Any, have_ids: bool) -> set[str] | None:
    """Slurm long states to show; None = every state (``-t all``, or ``-j``)."""
    items = split_list(args.states)
    if not items:
        return None if have_ids else set(ACTIVE)
    if any(i.lower() == "all" for i in items):
        return None
    try:
        return {slurm_state_name(i) for i in items}
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _select(
    client: Any, args: Any, ids: list[str], states: set[str] | None, now: float
) -> list[JobView]:
    def fetch(job_id: str) -> dict[str, Any]:
        return dict(client.job(job_id))

    raw: dict[int, dict[str, Any]] = {}
    if ids:
        raw.update(_by_ids(client, ids))
    else:
        want_done = states is None or bool(states - ACTIVE)
        users: list[str | None] = [*split_list(args.user)] or [None]
        clusters = split_list(args.clusters)
        one_cluster = clusters[0] if len(clusters) == 1 and clusters[0] != "all" else None
        for user in users:
            who = user_filter(client, user)
            for job in client.jobs(all=want_done, user=who, cluster=one_cluster):
                raw[job["id"]] = job
    views = [JobView(job, fetch, now) for _, job in sorted(raw.items())]
    return [v for v in views if _keep(v, args, states, bool(ids), now)]


def _by_ids(client: Any, ids: Iterable[str]) -> dict[int, dict[str, Any]]:
    from computenet.errors import NotFoundError, SpecError

    out: dict[int, dict[str, Any]] = {}
    for job_id in ids:
        try:
            job = client.job(job_id)
        except (NotFoundError, SpecError):
            continue
        if job.get("array_job_id") == job["id"] and "_" not in job_id:
            for element in client.jobs(all=True, name=job["name"]):
                if element.get("array_job_id") == job["id"]:
                    out.setdefault(element["id"], element)
        out[job["id"]] = job
    if not out:
        raise LookupError(ids)
    return out


def _keep(j: JobView, args: Any, states: set[str] | None, by_id: bool, now: float) -> bool:
    if states is not None and j.state not in states:
        return False
    if j.finished and not by_id and now - (j.end_time or now) > MIN_JOB_AGE_S:
        return False
    checks: list[tuple[list[str], Callable[[], str]]] = [
        (split_list(args.partition), lambda: j.partition),
        (split_list(args.name), lambda: j.name),
        (split_list(args.account), lambda: j.account),
        (split_list(args.qos), lambda: str(j.spec.get("qos") or "normal")),
        (split_list(args.user) if by_id else [], lambda: j.user),
    ]
    clusters = [c for c in split_list(args.clusters) if c != "all"]
    checks.append((clusters, lambda: j.cluster))
    return all(not wanted or get() in wanted for wanted, get in checks)


def _sorted(jobs: list[JobView], spec: str) -> list[JobView]:
    for key in reversed(split_list([spec])):
        reverse = key.startswith("-")
        letter = key.lstrip("+-")[:1]
        if letter in ("i", "A", "F"):
            jobs = sorted(jobs, key=lambda j: int(j.raw_id), reverse=reverse)
        elif letter in FIELDS:
            get = FIELDS[letter][2]
            jobs = sorted(jobs, key=get, reverse=reverse)
    return jobs


def _value(j: JobView, key: str) -> str:
    if key in _EXTRA:
        return _EXTRA[key][1](j)
    return FIELDS[key][2](j)


def _header(key: str) -> str:
    return _EXTRA[key][0] if key in _EXTRA else FIELDS[key][0]


def _print(parts: list[Part], jobs: list[JobView], noheader: bool) -> None:
    keys = [p.key for p in parts if isinstance(p, Column)]
    lines = [] if noheader else [render(parts, {k: _header(k) for k in keys})]
    lines.extend(render(parts, {k: _value(j, k) for k in keys}) for j in jobs)
    write_lines(lines)


def _json(jobs: list[JobView], now: float) -> dict[str, Any]:
    """Slurm 22.05's ``squeue --json`` shape (numbers plain, states strings)."""

    def one(j: JobView) -> dict[str, Any]:
        limit = j.time_limit_s
        code, _, sig = j.exit_code.partition(":")
        return {
            "account": j.account,
            "array_job_id": int(j.array_job_id) if j.job.get("array_job_id") else 0,
            "array_task_id": j.job.get("array_task_id"),
            "cluster": j.cluster,
            "command": j.command,
            "comment": j.spec.get("comment") or "",
            "cpus": j.cpus,
            "cpus_per_task": int(j.spec.get("cpus_per_task") or 1),
            "current_working_directory": j.workdir,
            "dependency": "" if _dependency(j) == "(null)" else _dependency(j),
            "end_time": int(j.expected_end or 0),
            # 22.05 prints the raw wait status: code in the high byte, signal low
            "exit_code": (int(code or 0) << 8) | int(sig or 0),
            "job_id": int(j.raw_id),
            "job_state": j.state,
            "name": j.name,
            "node_count": j.nodes,
            "nodes": j.node_list,
            "partition": j.partition,
            "qos": j.spec.get("qos") or "normal",
            "standard_output": j.spec.get("output") or "",
            "standard_error": j.spec.get("error") or "",
            "start_time": int(j.start_time or j.predicted_start or 0),
            "state_reason": j.reason,
            "submit_time": int(j.submit_time or 0),
            "time_limit": None if limit is None else max(1, (limit + 59) // 60),
            "user_name": j.user,
        }

    return {
        "meta": {"plugin": {"type": "openapi/v0.0.38", "name": "computenet"},
                 "Slurm": {"release": SLURM_VERSION}},
        "errors": [],
        "jobs": [one(j) for j in jobs],
    }  # fmt: skip
