"""``srun``: run a command as a job and stream its output, as Slurm's srun.

Outside a job (no SLURM_JOB_ID), the command becomes a job (``sbatch
--wrap`` with srun's options mapped to sbatch's); srun waits for it,
follows its output as it grows and exits with its exit code. Inside a job,
tasks start within the allocation: the embedded cluster's srun when the
job runs on one, else the next ``srun`` on PATH (a real Slurm's).
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from computenet.shims.common import SLURM_VERSION, UsageError, connect, run

PROG = "srun"
TERMINAL = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}
)
POLL_S = 0.2
QUEUED_NOTICE_S = 1.0


class Use(Enum):
    JOB = "job"  # a job option: becomes the same sbatch option
    INNER = "inner"  # for the srun that starts tasks inside the job
    IGNORE = "ignore"  # about the terminal or the step; harmless here
    REFUSE = "refuse"  # cannot be honoured without an interactive step
    OWN = "own"  # read by this command (-l, -Q, -o, -e, -i, --help)


@dataclass(frozen=True)
class Opt:
    name: str
    short: str | None
    value: str  # "none" | "required" | "optional"
    use: Use


_J, _I, _X, _R, _O = Use.JOB, Use.INNER, Use.IGNORE, Use.REFUSE, Use.OWN
OPTIONS: tuple[Opt, ...] = (
    # job shape and placement: same meaning as sbatch's
    *(Opt(n, s, "required", _J) for n, s in (
        ("account", "A"), ("begin", "b"), ("chdir", "D"), ("clusters", "M"),
        ("comment", None), ("constraint", "C"), ("cpus-per-task", "c"),
        ("dependency", "d"), ("exclude", "x"), ("export", None), ("gpus", "G"),
        ("gpus-per-node", None), ("gpus-per-task", None), ("gres", None), ("hint", None),
        ("job-name", "J"), ("mail-type", None), ("mail-user", None), ("mem", None),
        ("mem-per-cpu", None), ("nodelist", "w"), ("nodes", "N"), ("ntasks", "n"),
        ("ntasks-per-core", None), ("ntasks-per-node", None), ("partition", "p"),
        ("qos", "q"), ("reservation", None), ("signal", None), ("threads-per-core", None),
        ("time", "t"), ("time-min", None), ("tmp", None), ("wckey", None),
        ("policy", None), ("max-cost", None), ("cpu-mode", None), ("site", None),
        ("region", None),
    )),
    Opt("exclusive", None, "optional", _J),
    Opt("contiguous", None, "none", _J),
    Opt("hold", "H", "none", _J),
    # task launch inside the job
    Opt("label", "l", "none", _O),
    Opt("mpi", None, "required", _I),
    Opt("cpu-bind", None, "required", _I),
    Opt("distribution", "m", "required", _I),
    # terminal and step behaviour
    Opt("unbuffered", "u", "none", _X),
    Opt("kill-on-bad-exit", "K", "optional", _X),
    Opt("disable-status", "X", "none", _X),
    Opt("wait", "W", "required", _X),
    Opt("overlap", None, "none", _X),
    Opt("exact", None, "none", _X),
    Opt("whole", None, "none", _X),
    Opt("overcommit", "O", "none", _X),
    Opt("oversubscribe", "s", "none", _X),
    Opt("immediate", "I", "optional", _X),
    Opt("verbose", "v", "none", _X),
    Opt("quiet", "Q", "none", _O),
    Opt("output", "o", "required", _O),
    Opt("error", "e", "required", _O),
    Opt("input", "i", "required", _O),
    Opt("help", "h", "none", _O),
    Opt("usage", None, "none", _O),
    Opt("version", "V", "none", _O),
    Opt("pty", None, "none", _R),
    Opt("multi-prog", None, "none", _R),
    Opt("jobid", None, "required", _R),
    Opt("no-allocate", "Z", "none", _R),
    Opt("het-group", None, "required", _R),
)  # fmt: skip
_BY_NAME = {o.name: o for o in OPTIONS}
_BY_SHORT = {o.short: o for o in OPTIONS if o.short}


@dataclass
class Request:
    """What an srun command line asks for."""

    job: list[str] = field(default_factory=list)  # sbatch options
    inner: list[str] = field(default_factory=list)  # options of the in-job srun
    own: dict[str, str | None] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)


def parse(argv: Sequence[str]) -> Request:
    """getopt-style reading: options until the first word that is not one.

    Raises UsageError for unknown options and missing values.
    """
    req = Request()
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-") or word == "-":
            break
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            opt = _lookup_long(name)
            if opt.value == "none" and eq:
                raise UsageError(f"option '--{opt.name}' doesn't allow an argument")
            if opt.value == "required" and not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"option '--{opt.name}' requires an argument")
                i += 1
                value = argv[i]
            _take(req, opt, value if (eq or opt.value == "required") else None)
            i += 1
            continue
        pos = 1
        while pos < len(word):
            found = _BY_SHORT.get(word[pos])
            if found is None:
                raise UsageError(f"invalid option -- '{word[pos]}'")
            opt = found
            rest = word[pos + 1 :]
            if opt.value == "none":
                _take(req, opt, None)
                pos += 1
                continue
            if rest or opt.value == "optional":
                _take(req, opt, rest or None)
            else:
                if i + 1 >= len(argv):
                    raise UsageError(f"option requires an argument -- '{word[pos]}'")
                i += 1
                _take(req, opt, argv[i])
            break
        i += 1
    req.command = list(argv[i:])
    return req


def _lookup_long(name: str) -> Opt:
    if name in _BY_NAME:
        return _BY_NAME[name]
    matches = [o for o in OPTIONS if o.name.startswith(name)] if name else []
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UsageError(f"option '--{name}' is ambiguous")
    raise UsageError(f"unrecognized option '--{name}'")


def _take(req: Request, opt: Opt, value: str | None) -> None:
    shown = f"--{opt.name}" if value is None else f"--{opt.name}={value}"
    if opt.use is Use.JOB:
        req.job.append(shown)
    elif opt.use is Use.INNER:
        req.inner.append(shown)
    elif opt.use is Use.OWN:
        req.own[opt.name] = value
    elif opt.use is Use.REFUSE:
        raise UsageError(f"--{opt.name} is not supported outside an allocation by computenet")


def batch_options(req: Request, out_dir: Path, token: str) -> tuple[list[str], Path, Path]:
    """The sbatch options that run ``req.command`` as srun would, and the
    files its stdout and stderr go to."""
    out = Path(str(req.own["output"])) if "output" in req.own else out_dir / f"{token}.out"
    err = Path(str(req.own["error"])) if "error" in req.own else out_dir / f"{token}.err"
    inner = ["srun", *req.inner]
    if "label" in req.own:
        inner.append("--label")
    wrap = shlex.join([*inner, "--", *req.command])
    options = [*req.job, f"--output={out}", f"--error={err}", f"--wrap={wrap}"]
    if not any(o.startswith("--job-name=") for o in req.job):
        options.insert(0, f"--job-name={os.path.basename(req.command[0])}")
    source = req.own.get("input")
    if source and source not in ("all", "none") and not source.isdigit():
        options.insert(0, f"--input={source}")
    return options, out, err


def main(argv: Sequence[str]) -> int:
    if os.environ.get("SLURM_JOB_ID"):
        return _inside_job(list(argv))
    return run(PROG, _outside_job, argv)


def _inside_job(argv: list[str]) -> int:
    """Start tasks in the current allocation; never returns on success."""
    if os.environ.get("CN_HOSTFILE"):
        from computenet.clusters.embedded import srun as embedded

        path = embedded.__file__
        assert path is not None
        os.execv(sys.executable, [sys.executable, "-I", "-S", path, *argv])
    me = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", "srun")
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) != me:
            os.execv(candidate, [candidate, *argv])
    sys.stderr.write("srun: error: inside a job, but no srun of its cluster was found\n")
    return 1


def _outside_job(argv: list[str]) -> int:
    req = parse(argv)
    if "help" in req.own or "usage" in req.own:
        sys.stdout.write("Usage: srun [OPTIONS(0)...] executable(0) [args(0)...]\n")
        return 0
    if "version" in req.own:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    if not req.command:
        raise UsageError("fatal: No command given to execute.")
    from computenet.config import load_settings

    out_dir = load_settings().state_dir / "srun"
    out_dir.mkdir(parents=True, exist_ok=True)
    options, out, err = batch_options(req, out_dir, uuid.uuid4().hex)
    client = connect()
    job = client.submit(options=options, cwd=os.getcwd(), env=dict(os.environ))
    job_id = job["id"]
    quiet = "quiet" in req.own
    try:
        final = _follow(
            client,
            job_id,
            stream_out="output" not in req.own,
            stream_err="error" not in req.own,
            quiet=quiet,
        )
    except KeyboardInterrupt:
        client.cancel(job_id)
        sys.stderr.write(f"srun: Job step aborted; job {job_id} cancelled\n")
        return 130
    finally:
        for path, mine in ((out, "output" not in req.own), (err, "error" not in req.own)):
            if mine:
                path.unlink(missing_ok=True)
    return _exit_status(final, quiet)


def _follow(client: Any, job_id: int, *, stream_out: bool, stream_err: bool, quiet: bool) -> Any:
    """Print the job's output as it grows until it ends; the final job."""
    offsets = {"stdout": 0, "stderr": 0}
    sinks = {"stdout": sys.stdout, "stderr": sys.stderr}
    streams = [s for s, on in (("stdout", stream_out), ("stderr", stream_err)) if on]
    first = time.monotonic()
    told_queued = False
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    while True:
        job = client.job(job_id)
        done = job["state"] in TERMINAL
        if not quiet and job.get("start_time") is None and not done:
            if not told_queued and time.monotonic() - first > QUEUED_NOTICE_S:
                sys.stderr.write(f"srun: job {job_id} queued and waiting for resources\n")
                told_queued = True
        elif told_queued:
            sys.stderr.write(f"srun: job {job_id} has been allocated resources\n")
            told_queued = False
        got = False
        for stream in streams:
            chunk = client.logs(job_id, stream, offsets[stream])
            if chunk["data"]:
                sinks[stream].write(chunk["data"])
                sinks[stream].flush()
                got = True
            offsets[stream] = chunk["offset"]
        if done and not got:
            return job
        if not got:
            time.sleep(POLL_S)


def _exit_status(job: dict[str, Any], quiet: bool) -> int:
    from computenet.shims.sbatch import exit_status

    code = exit_status(job)
    state = job["state"]
    if quiet or state == "COMPLETED":
        return code
    where = job.get("cluster") or "-"
    if state == "FAILED":
        sys.stderr.write(f"srun: error: {where}: task 0: Exited with exit code {code}\n")
    elif state == "TIMEOUT":
        sys.stderr.write(f"srun: error: *** JOB {job['id']} ON {where} DUE TO TIME LIMIT ***\n")
    else:
        sys.stderr.write(f"srun: error: job {job['id']} ended {state} (exit code {code})\n")
    return code
