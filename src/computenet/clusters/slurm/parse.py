"""Parsers for what Slurm's commands print. Pure functions of text, no I/O.

Each parser accepts Slurm 22.05's spelling (measured on Debian 12) and the
newer ``--json`` shapes (23.02+: lists for states, ``{"number": ..}`` for
numbers). Output that is empty or cut off raises ``SlurmOutputError`` with a
one-line reason; the adapter turns it into a (transient) ``ClusterError``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from computenet.clusters.slurm.states import _number, map_state, parse_exit_code
from computenet.model import JobState

_UNITS = {"": 2**20, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40, "P": 2**50}
_NO_VALUE = {
    "",
    "N/A",
    "NONE",
    "UNKNOWN",
    "(NULL)",
    "UNLIMITED",
    "INFINITE",
    "PARTITION_LIMIT",
    "NONE ASSIGNED",
}
_KEY = re.compile(r"(?:^|\s)([A-Z][A-Za-z0-9_:/]*)=")


class SlurmOutputError(ValueError):
    """A Slurm command printed something we cannot read (empty, cut off, not ours)."""


@dataclass(frozen=True)
class SlurmJob:
    """One job as Slurm reports it, whichever command said so."""

    job_id: str
    state: JobState
    raw_state: str
    reason: str | None = None
    exit_code: str | None = None
    submit_time: float | None = None
    start_time: float | None = None
    end_time: float | None = None
    node_list: str | None = None
    nodes: int = 1
    cpus: int = 1
    gpus: int = 0
    mem_bytes: int = 0
    partition: str | None = None
    time_limit_s: int | None = None
    comment: str | None = None
    name: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    workdir: str | None = None
    array_task_id: int | None = None
    user: str | None = None  # the Unix account it runs as


# ----- small values -----------------------------------------------------------------
def parse_duration_s(text: str | None) -> float | None:
    """Slurm's ``[D-][HH:]MM:SS[.fff]`` or bare minutes; None for UNLIMITED and such."""
    if text is None or text.strip().upper() in _NO_VALUE:
        return None
    text = text.strip()
    days, _, rest = text.rpartition("-") if "-" in text else ("", "", text)
    try:
        parts = [float(p) for p in rest.split(":")]
        d = int(days) if days else 0
    except ValueError:
        raise SlurmOutputError(f"bad Slurm duration {text!r}") from None
    if days:  # D-HH, D-HH:MM, D-HH:MM:SS
        parts += [0.0] * (3 - len(parts))
        h, m, s = parts
    elif len(parts) == 1:  # minutes
        h, m, s = 0.0, parts[0], 0.0
    elif len(parts) == 2:  # MM:SS
        h, m, s = 0.0, parts[0], parts[1]
    elif len(parts) == 3:
        h, m, s = parts
    else:
        raise SlurmOutputError(f"bad Slurm duration {text!r}")
    return d * 86400 + h * 3600 + m * 60 + s


def parse_size_bytes(text: str | None) -> int:
    """``2000M``, ``3168K``, ``1.5G``; a bare number is MiB (Slurm's default unit)."""
    if not text or text.strip().upper() in _NO_VALUE:
        return 0
    m = re.fullmatch(r"([\d.]+)([KMGTP]?)", text.strip().upper())
    if not m:
        raise SlurmOutputError(f"bad Slurm size {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def parse_tres(text: str | None) -> dict[str, str]:
    """``cpu=4,mem=2000M,node=1,gres/gpu=2`` -> {"cpu": "4", ...}."""
    out: dict[str, str] = {}
    for item in (text or "").split(","):
        key, sep, value = item.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def tres_gpus(tres: dict[str, str]) -> int:
    """GPUs in a TRES list: ``gres/gpu`` when present, else the typed ``gres/gpu:MODEL``s."""
    if "gres/gpu" in tres:
        return int(tres["gres/gpu"] or 0)
    return sum(int(v) for k, v in tres.items() if k.startswith("gres/gpu:") and v.isdigit())


def parse_time(text: str | None) -> float | None:
    """An epoch (we set SLURM_TIME_FORMAT=%s) or an ISO local time (jobcomp)."""
    if text is None or text.strip().upper() in _NO_VALUE or text.strip() in ("0", "None"):
        return None
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise SlurmOutputError(f"bad Slurm time {text!r}") from None


def parse_key_values(line: str) -> dict[str, str]:
    """``scontrol show -o`` and jobcomp/filetxt lines: ``Key=value Key2=more words``.

    A value runs up to the next `` Key=``; values that themselves contain
    `` Word=`` cannot be told apart, which Slurm's own format shares."""
    matches = list(_KEY.finditer(line))
    out: dict[str, str] = {}
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        out[m.group(1)] = line[m.end() : end].strip()
    return out


# ----- squeue --json ------------------------------------------------------------------
def load_json(text: str, command: str) -> dict[str, Any]:
    if not text.strip():
        raise SlurmOutputError(f"{command} printed nothing")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SlurmOutputError(
            f"{command} printed unreadable JSON ({exc.msg} at character {exc.pos} of {len(text)})"
        ) from None
    if not isinstance(data, dict):
        raise SlurmOutputError(f"{command} printed JSON that is not an object")
    return data


def json_errors(data: dict[str, Any]) -> list[str]:
    """Slurm puts failures into an ``errors`` list and still exits 0."""
    out = []
    for err in data.get("errors") or []:
        if isinstance(err, dict):
            parts = [str(err.get(k)) for k in ("description", "error") if err.get(k)]
            out.append(": ".join(parts) or json.dumps(err))
        else:
            out.append(str(err))
    return out


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value)
    return None if value.strip().upper() in _NO_VALUE else value


def _name(value: Any) -> str | None:
    """Names and comments: only Slurm's empty spellings mean none."""
    text = None if value is None else str(value)
    return None if text is None or text.strip() in ("", "(null)") else text


def _time(value: Any) -> float | None:
    n = _number(value)
    return float(n) if n else None


def job_from_squeue_json(j: dict[str, Any]) -> SlurmJob:
    raw = j.get("job_state")
    tres = parse_tres(j.get("tres_alloc_str") or j.get("tres_req_str"))
    limit = _number(j.get("time_limit"))
    task = _number(j.get("array_task_id"))
    return SlurmJob(
        job_id=str(_number(j.get("job_id"))),
        state=map_state(raw),
        raw_state=raw[0] if isinstance(raw, list) and raw else str(raw),
        reason=_text(j.get("state_reason")),
        exit_code=parse_exit_code(j.get("exit_code")),
        submit_time=_time(j.get("submit_time")),
        start_time=_time(j.get("start_time")),
        end_time=_time(j.get("end_time")),
        node_list=_text(j.get("nodes")),
        nodes=_number(j.get("node_count")) or 1,
        cpus=_number(j.get("cpus")) or int(tres.get("cpu", "1") or 1),
        gpus=tres_gpus(tres),
        mem_bytes=parse_size_bytes(tres.get("mem")),
        partition=_text(j.get("partition")),
        time_limit_s=limit * 60 if limit is not None else None,
        comment=_name(j.get("comment")),
        name=_name(j.get("name")),
        stdout=_text(j.get("standard_output")),
        stderr=_text(j.get("standard_error")),
        workdir=_text(j.get("current_working_directory")),
        array_task_id=task,
        user=_text(j.get("user_name")),
    )


def parse_squeue_json(text: str) -> list[SlurmJob]:
    data = load_json(text, "squeue --json")
    if "jobs" not in data:
        raise SlurmOutputError("squeue --json printed no 'jobs' list")
    try:
        return [job_from_squeue_json(j) for j in data["jobs"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise SlurmOutputError(f"squeue --json: unexpected job record: {exc}") from None


# ----- squeue -o (no --json) ------------------------------------------------------------
#: Fields for ``squeue -h -t all -o``; the comment goes last since it may hold "|".
SQUEUE_FORMAT = "%i|%T|%r|%V|%S|%e|%N|%D|%C|%P|%l|%j|%k"


def parse_squeue_text(text: str) -> list[SlurmJob]:
    jobs = []
    for line in text.splitlines():
        if not line.strip():
            continue
        f = line.split("|", 12)
        if len(f) < 13:
            raise SlurmOutputError(f"squeue line cut off ({len(f)} of 13 fields): {line!r}")
        job_id, task = f[0], None
        if "_" in job_id:  # 12_5 is array task 5 of job 12; the native id is its own
            job_id, _, t = job_id.partition("_")
            task = int(t) if t.isdigit() else None
        state = map_state(f[1])
        limit = parse_duration_s(f[10])
        jobs.append(
            SlurmJob(
                job_id=job_id,
                state=state,
                raw_state=f[1],
                reason=_text(f[2]),
                submit_time=parse_time(f[3]),
                start_time=parse_time(f[4]),
                end_time=parse_time(f[5]) if state.terminal else None,
                node_list=_text(f[6]),
                nodes=int(f[7] or 1),
                cpus=int(f[8] or 1),
                partition=_text(f[9]),
                time_limit_s=int(limit) if limit is not None else None,
                name=_name(f[11]),
                comment=_name(f[12]),
                array_task_id=task,
            )
        )
    return jobs


# ----- scontrol show job -o and jobcomp/filetxt -------------------------------------------
def job_from_key_values(kv: dict[str, str]) -> SlurmJob:
    tres = parse_tres(kv.get("TRES") or kv.get("Tres"))
    limit = parse_duration_s(kv.get("TimeLimit"))
    state = map_state(kv["JobState"])
    task = kv.get("ArrayTaskId", "")
    return SlurmJob(
        job_id=kv["JobId"],
        state=state,
        raw_state=kv["JobState"],
        reason=_text(kv.get("Reason")),
        exit_code=parse_exit_code(kv.get("ExitCode")),
        submit_time=parse_time(kv.get("SubmitTime")),
        start_time=parse_time(kv.get("StartTime")),
        end_time=parse_time(kv.get("EndTime")) if state.terminal else None,
        node_list=_text(kv.get("NodeList")),
        nodes=int(kv.get("NumNodes") or kv.get("NodeCnt") or 1),
        cpus=int(kv.get("NumCPUs") or kv.get("ProcCnt") or tres.get("cpu") or 1),
        gpus=tres_gpus(tres),
        mem_bytes=parse_size_bytes(tres.get("mem")),
        partition=_text(kv.get("Partition")),
        time_limit_s=int(limit) if limit is not None else None,
        comment=_name(kv.get("Comment")),
        name=_name(kv.get("JobName") or kv.get("Name")),
        stdout=_text(kv.get("StdOut")),
        stderr=_text(kv.get("StdErr")),
        workdir=_text(kv.get("WorkDir")),
        array_task_id=int(task) if task.isdigit() else None,
        user=_text((kv.get("UserId") or "").split("(", 1)[0]) or None,
    )


def parse_scontrol_jobs(text: str) -> list[SlurmJob]:
    """``scontrol show job -o``: one job per line, except that a newline inside a
    value (Slurm keeps them in job names) continues the line."""
    records: list[str] = []
    for line in text.split("\n"):
        if line.startswith("JobId="):
            records.append(line)
        elif records:
            records[-1] += "\n" + line
    try:
        return [job_from_key_values(parse_key_values(r.rstrip())) for r in records]
    except (KeyError, ValueError) as exc:
        raise SlurmOutputError(f"scontrol show job: unexpected line: {exc}") from None


def parse_jobcomp(text: str) -> dict[str, SlurmJob]:
    """jobcomp/filetxt: one line per finished job; a later line for an id wins.
    A last line cut off while being written is skipped, not fatal."""
    out: dict[str, SlurmJob] = {}
    for line in text.splitlines():
        kv = parse_key_values(line)
        if "JobId" not in kv or "ExitCode" not in kv:
            continue
        try:
            job = job_from_key_values(kv)
        except (KeyError, ValueError):
            continue
        out[job.job_id] = job
    return out


# ----- sacct --parsable2 ------------------------------------------------------------------
#: ``sacct -P -n -o`` fields. 22.05's ``sacct --json`` reports exit_code 0 for
#: failed jobs (measured), so status and usage read the parsable form.
SACCT_FIELDS = (
    "JobIDRaw",
    "JobID",
    "State",
    "ExitCode",
    "Reason",
    "Submit",
    "Start",
    "End",
    "ElapsedRaw",
    "NNodes",
    "AllocCPUS",
    "AllocTRES",
    "TotalCPU",
    "MaxRSS",
    "Partition",
    "Timelimit",
    "NodeList",
    "WorkDir",
    "Comment",
)


@dataclass(frozen=True)
class SacctRow:
    job_id: str  # JobIDRaw of the allocation
    step: str | None  # None for the allocation line, else "batch", "0", ...
    fields: dict[str, str]


def parse_sacct(text: str) -> list[SacctRow]:
    rows = []
    n = len(SACCT_FIELDS)
    for line in text.splitlines():
        if not line.strip():
            continue
        values = line.split("|", n - 1)
        if len(values) < n:
            raise SlurmOutputError(f"sacct line cut off ({len(values)} of {n} fields): {line!r}")
        fields = dict(zip(SACCT_FIELDS, values, strict=True))
        raw, _, step = fields["JobIDRaw"].partition(".")
        rows.append(SacctRow(raw, step or None, fields))
    return rows


def job_from_sacct(row: SacctRow) -> SlurmJob:
    f = row.fields
    tres = parse_tres(f["AllocTRES"])
    state = map_state(f["State"])
    limit = parse_duration_s(f["Timelimit"])
    _, _, task = f["JobID"].partition("_")
    return SlurmJob(
        job_id=row.job_id,
        state=state,
        raw_state=f["State"],
        reason=_text(f["Reason"]),
        exit_code=parse_exit_code(f["ExitCode"]),
        submit_time=parse_time(f["Submit"]),
        start_time=parse_time(f["Start"]),
        end_time=parse_time(f["End"]) if state.terminal else None,
        node_list=_text(f["NodeList"]),
        nodes=int(f["NNodes"] or 1),
        cpus=int(f["AllocCPUS"] or 0) or 1,
        gpus=tres_gpus(tres),
        mem_bytes=parse_size_bytes(tres.get("mem")),
        partition=_text(f["Partition"]),
        time_limit_s=int(limit) if limit is not None else None,
        comment=_name(f["Comment"]),
        workdir=_text(f["WorkDir"]),
        array_task_id=int(task) if task.isdigit() else None,
    )
