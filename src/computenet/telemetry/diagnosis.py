"""Why did a job fail (or look odd)? A pure classifier over the job's state,
exit code and signal, usage, and the tails of its stdout and stderr.

Returns ``Diagnosis(cause, evidence, hint)``: ``cause`` is a stable word
(below), ``evidence`` the facts and log lines it rests on, ``hint`` one
concrete thing to do. Rules are tried from the most certain (the cluster's
own verdict, such as OUT_OF_MEMORY) to the least (a non-zero exit code).

Causes: out_of_memory, time_limit, node_failure, command_not_found,
missing_input, permission_denied, segfault, mpi_startup, python_exception,
cancelled, nonzero_exit, likely_hung, low_efficiency, running, pending,
completed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SIGNALS = {6: "SIGABRT", 7: "SIGBUS", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM"}


@dataclass(frozen=True)
class JobFacts:
    state: str
    exit_code: str | None = None  # Slurm's "code:signal"
    reason: str | None = None
    cluster: str | None = None
    time_limit_s: float | None = None
    elapsed_s: float | None = None
    cpus: int | None = None
    cpu_time_s: float | None = None
    mem_limit_bytes: int | None = None
    max_rss_bytes: int | None = None
    low_cpu_for_s: float | None = None  # from telemetry, while running
    stdout_tail: str = ""
    stderr_tail: str = ""


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    evidence: list[str] = field(default_factory=list)
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "evidence": list(self.evidence), "hint": self.hint}


def split_exit(exit_code: str | None) -> tuple[int, int]:
    """(code, signal) from "code:signal"; a bare shell status 128+N is signal N."""
    if not exit_code:
        return 0, 0
    code_s, _, sig_s = exit_code.partition(":")
    try:
        code, sig = int(code_s or 0), int(sig_s or 0)
    except ValueError:
        return 1, 0
    if sig == 0 and 128 < code < 160:
        return code, code - 128
    return code, sig


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


def fmt_time(seconds: float) -> str:
    s = math.ceil(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{d}-{h:02d}:{m:02d}:{s:02d}" if d else f"{h:02d}:{m:02d}:{s:02d}"


_OOM = re.compile(
    r"oom[-_ ]kill|out of memory|memoryerror|cannot allocate memory|std::bad_alloc|"
    r"exceeded (job )?memory limit|killed process .* total-vm",
    re.I,
)
_TIME = re.compile(r"due to time limit|time limit (exceeded|reached)|timelimit", re.I)
_NODE = re.compile(r"node[_ ]fail|node failure|lost connection to node", re.I)
_NOT_FOUND = re.compile(
    r"(?P<cmd>[\w./+-]+): (command not found|not found)$|"
    r"exec(?:vp)?(?:\(\))?: (?P<cmd2>[\w./+-]+): No such file or directory|"
    r"Lmod has detected the following error|Unable to locate a modulefile for '(?P<mod>[^']+)'|"
    r"module: command not found",
    re.I,
)
_MISSING = re.compile(
    r"(?:can't open|cannot open|cannot access|could not open|unable to open|"
    r"failed to open|no such file)[^\n]*?['\"`]?(?P<path>/?[\w./-]+\.\w+|/[\w./-]+)['\"`]?"
    r"[^\n]*no such file or directory|"
    r"No such file or directory[^\n]*?['\"](?P<path2>[^'\"]+)['\"]|"
    r"(?P<path3>[\w./-]+): No such file or directory",
    re.I,
)
_PERMISSION = re.compile(r"permission denied|operation not permitted|EACCES", re.I)
_SEGV = re.compile(r"segmentation fault|sigsegv|core dumped|signal 11\b", re.I)
_MPI = re.compile(
    r"ORTE (was unable|has lost communication)|mpirun was unable to launch|"
    r"There are not enough slots available|PMIX? ERROR|prterun was unable|"
    r"MPI_Init(_thread)? (failed|has failed)|An ORTE daemon has unexpectedly failed|"
    r"Hydra|orted: command not found|HYDU_create_process|mpirun noticed that process rank",
    re.I,
)
_TRACEBACK = "Traceback (most recent call last):"
_PY_ERROR = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit))(: (?P<msg>.*))?$"
)
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _lines(facts: JobFacts) -> list[str]:
    out: list[str] = []
    for text in (facts.stderr_tail, facts.stdout_tail):
        out.extend(line.rstrip() for line in text.splitlines() if line.strip())
    return out


def _find(lines: Sequence[str], pattern: re.Pattern[str]) -> list[str]:
    return [line.strip()[:300] for line in lines if pattern.search(line)]


def diagnose(facts: JobFacts) -> Diagnosis:
    state = facts.state.upper()
    code, sig = split_exit(facts.exit_code)
    lines = _lines(facts)
    base = [f"state {state}"]
    if facts.exit_code:
        base.append(
            f"exit code {facts.exit_code}" + (f" ({SIGNALS[sig]})" if sig in SIGNALS else "")
        )
    if facts.reason and facts.reason not in ("None", state):
        base.append(f"reason: {facts.reason}")
    if state in ("PENDING", "QUEUED", "STAGING_IN"):
        return Diagnosis(
            "pending",
            base,
            f"the job has not started: {facts.reason or 'waiting'};"
            " cnet why JOB shows where it may go",
        )

    # --- out of memory --------------------------------------------------
    oom_lines = _find(lines, _OOM)
    near_limit = (
        facts.max_rss_bytes is not None
        and facts.mem_limit_bytes
        and facts.max_rss_bytes >= 0.9 * facts.mem_limit_bytes
    )
    if state == "OUT_OF_MEMORY" or oom_lines or (sig == 9 and near_limit):
        evidence = base + oom_lines[-3:]
        if facts.max_rss_bytes is not None and facts.mem_limit_bytes:
            evidence.append(f"peak RSS {gib(facts.max_rss_bytes)} of {gib(facts.mem_limit_bytes)}")
        return Diagnosis("out_of_memory", evidence, _mem_hint(facts))

    # --- time limit -------------------------------------------------------
    if state == "TIMEOUT" or _find(lines, _TIME):
        evidence = base + _find(lines, _TIME)[-2:]
        if facts.elapsed_s is not None and facts.time_limit_s:
            evidence.append(
                f"ran {fmt_time(facts.elapsed_s)} of its {fmt_time(facts.time_limit_s)} limit"
            )
        hint = "ask for more time or checkpoint and resume"
        if facts.time_limit_s:
            hint = (
                f"ask for more time (--time={fmt_time(facts.time_limit_s * 1.5)}), "
                "or checkpoint and resume"
            )
        return Diagnosis("time_limit", evidence, hint)

    # --- node failure -----------------------------------------------------
    if state == "NODE_FAIL" or _find(lines, _NODE):
        return Diagnosis(
            "node_failure",
            base + _find(lines, _NODE)[-2:],
            "a node failed under the job; it was not the job's fault: resubmit "
            "(computenet requeues it elsewhere up to 3 attempts)",
        )
    if state == "CANCELLED":
        return Diagnosis("cancelled", base, "the job was cancelled; nothing to fix")

    # --- log patterns, most specific first ---------------------------------
    mpi = _find(lines, _MPI)
    if mpi:
        return Diagnosis(
            "mpi_startup",
            base + mpi[-3:],
            "MPI could not start its ranks: ask for as many tasks as ranks (-n N) and "
            "start with srun or mpirun without -np (the allocation gives the count); "
            "load the same MPI module the program was built with",
        )
    for line in reversed(lines):
        m = _NOT_FOUND.search(line)
        if m:
            what = m.group("cmd") or m.group("cmd2") or m.group("mod") or "the command"
            where = f" on {facts.cluster}" if facts.cluster else ""
            return Diagnosis(
                "command_not_found",
                [*base, line.strip()[:300]],
                f"'{what}' is not available{where}: load its module in the script "
                f"(module load ...) or use its full path",
            )
    traceback = _python_traceback(lines)
    if traceback is not None:
        return traceback
    perm = _find(lines, _PERMISSION)
    if perm:
        return Diagnosis(
            "permission_denied",
            base + perm[-2:],
            "a file or directory is not readable/writable by the job's user: check the "
            "path's permissions (ls -l) and that output directories are writable",
        )
    for line in reversed(lines):
        m = _MISSING.search(line)
        if m:
            path = m.group("path") or m.group("path2") or m.group("path3") or "an input file"
            return Diagnosis(
                "missing_input",
                [*base, line.strip()[:300]],
                f"{path} does not exist where the job ran: relative paths start in the "
                "job's working directory; copy it there or declare it as an input to stage",
            )
    if sig == 11 or code == 139 or _find(lines, _SEGV):
        return Diagnosis(
            "segfault",
            base + _find(lines, _SEGV)[-2:],
            "the program crashed (segmentation fault): rebuild with -g, run it under gdb or "
            "with 'ulimit -c unlimited' for a core file, and check array bounds and stack size "
            "(ulimit -s)",
        )
    if state in ("FAILED",) or code or sig:
        tail = lines[-3:]
        return Diagnosis(
            "nonzero_exit",
            base + tail,
            f"the script exited with code {code}"
            + (f" (signal {SIGNALS.get(sig, sig)})" if sig else "")
            + ": the last lines of its output say why; add 'set -e -x' to see which command",
        )

    # --- odd but not failed ---------------------------------------------------
    if state == "RUNNING":
        if facts.low_cpu_for_s is not None and facts.low_cpu_for_s >= 600:
            return Diagnosis(
                "likely_hung",
                [*base, f"almost no CPU used for {facts.low_cpu_for_s / 60:.0f} min"],
                "the job is running but idle: it may wait on input, a lock or a dead peer; "
                "check its output (cnet logs -f JOB) and cancel it if it is stuck",
            )
        return Diagnosis("running", base, "the job is running normally")
    eff = _cpu_efficiency(facts)
    if eff is not None and eff < 0.25 and facts.cpus and facts.cpus > 1:
        used = max(1, round(eff * facts.cpus))
        return Diagnosis(
            "low_efficiency",
            [*base, f"CPU efficiency {eff:.0%} of {facts.cpus} CPUs"],
            f"the job used about {used} of its {facts.cpus} CPUs: ask for -c {used} "
            "(or make the program use them all)",
        )
    return Diagnosis("completed", base, "the job completed normally")


def _python_traceback(lines: Sequence[str]) -> Diagnosis | None:
    try:
        start = max(i for i, line in enumerate(lines) if _TRACEBACK in line)
    except ValueError:
        return None
    frames = [line.strip() for line in lines[start:] if _PY_FRAME.match(line)]
    error = next((m for line in lines[start + 1 :] if (m := _PY_ERROR.match(line.strip()))), None)
    if error is None:
        return None
    kind, msg = error.group("type"), error.group("msg") or ""
    evidence = [_TRACEBACK, *frames[-1:], error.group(0)[:300]]
    if kind.endswith("MemoryError"):
        return Diagnosis(
            "out_of_memory",
            evidence,
            "Python ran out of memory: ask for more memory (--mem) or process the data in chunks",
        )
    if kind.endswith(("ModuleNotFoundError", "ImportError")):
        m = re.search(r"No module named '([^']+)'", msg)
        name = m.group(1).split(".")[0] if m else "the module"
        return Diagnosis(
            "python_exception",
            evidence,
            f"Python cannot import {name}: install it in the job's environment "
            f"(pip install {name}) or activate your virtual environment in the script",
        )
    if kind.endswith(("FileNotFoundError",)):
        return Diagnosis(
            "missing_input",
            evidence,
            f"{msg or 'a file'} does not exist where the job ran: relative paths start in the "
            "job's working directory; copy it there or declare it as an input to stage",
        )
    where = frames[-1] if frames else "the last frame"
    return Diagnosis(
        "python_exception", evidence, f"the program raised {kind}: see {where} of the traceback"
    )


def _mem_hint(facts: JobFacts) -> str:
    if facts.max_rss_bytes and facts.mem_limit_bytes:
        want = math.ceil(max(facts.max_rss_bytes, facts.mem_limit_bytes) * 1.5 / 2**30)
        return (
            f"peak RSS {gib(facts.max_rss_bytes)} of {gib(facts.mem_limit_bytes)}: "
            f"ask for --mem={want}G"
        )
    if facts.mem_limit_bytes:
        want = math.ceil(facts.mem_limit_bytes * 1.5 / 2**30)
        return f"the limit was {gib(facts.mem_limit_bytes)}: ask for --mem={want}G"
    return "ask for more memory (--mem=..., or --mem-per-cpu=...)"


def _cpu_efficiency(facts: JobFacts) -> float | None:
    if facts.cpu_time_s is None or not facts.cpus or not facts.elapsed_s:
        return None
    return facts.cpu_time_s / (facts.cpus * facts.elapsed_s)
