"""``sbatch``: submit a batch script to the network, as Slurm's sbatch does.

Every sbatch option passes through to the server, which parses it with
``computenet.spec``. The script comes from a file or standard input.
Output: ``Submitted batch job ID`` (`` on cluster NAME`` with -M), or
``ID[;cluster]`` with --parsable; --wait exits with the job's exit code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

from computenet.shims.common import SLURM_VERSION, connect, run

PROG = "sbatch"
#: SBATCH_* input variables and the option each stands for; they override
#: #SBATCH directives and yield to the command line, as in Slurm.
INPUT_ENV = {
    "SBATCH_ACCOUNT": "--account",
    "SBATCH_CLUSTERS": "--clusters",
    "SBATCH_CONSTRAINT": "--constraint",
    "SBATCH_EXPORT": "--export",
    "SBATCH_GRES": "--gres",
    "SBATCH_GPUS": "--gpus",
    "SBATCH_JOB_NAME": "--job-name",
    "SBATCH_MEM_PER_CPU": "--mem-per-cpu",
    "SBATCH_MEM_PER_NODE": "--mem",
    "SBATCH_PARTITION": "--partition",
    "SBATCH_QOS": "--qos",
    "SBATCH_RESERVATION": "--reservation",
    "SBATCH_TIMELIMIT": "--time",
}
TERMINAL = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED"}
)
USAGE = """\
Usage: sbatch [OPTIONS(0)...] [ : [OPTIONS(N)...]] script(0) [args(0)...]

Every option of Slurm's sbatch is accepted and passed to the computenet
network (see docs/shims.md); the network's own options (--policy,
--max-cost, --cpu-mode, ...) work too. A script is read from standard
input when none is named.
"""


def main(argv: Sequence[str]) -> int:
    return run(PROG, _sbatch, argv)


def _sbatch(argv: list[str]) -> int:
    from computenet.errors import SpecError
    from computenet.spec import split_submit_argv
    from computenet.spec.argv import read_options

    try:
        options, script_path, script_args = split_submit_argv(argv)
        given = {g.option.name: g.value for g in read_options(options)}
    except SpecError as exc:
        sys.stderr.write(f'sbatch: {exc.message}\nTry "sbatch --help" for more information\n')
        return 1
    if "help" in given or "usage" in given:
        sys.stdout.write(USAGE)
        return 0
    if "version" in given:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    script = _read_script(script_path, "wrap" in given)
    if script_path is not None and "job-name" not in given and not _script_names_job(script):
        # Slurm names a job after its script file; the server sees only the text.
        options = [*options, f"--job-name={os.path.basename(script_path)}"]
    options = _env_options(given) + options
    client = connect()
    result = client.submit(
        script=script,
        options=options,
        args=script_args,
        cwd=os.getcwd(),
        env=dict(os.environ),
        test_only="test-only" in given,
    )
    if "test-only" in given:
        _print_test_only(result)
        return 0
    job_id = result.get("array_job_id") or result["id"]
    wanted = _clusters(given)
    cluster = _cluster_of(client, job_id, wanted) if wanted else None
    if "parsable" in given:
        sys.stdout.write(f"{job_id};{cluster}\n" if cluster else f"{job_id}\n")
    else:
        where = f" on cluster {cluster}" if cluster else ""
        sys.stdout.write(f"Submitted batch job {job_id}{where}\n")
    sys.stdout.flush()
    if "wait" in given:
        return _wait(client, job_id)
    return 0


def _read_script(path: str | None, wrap: bool) -> str | None:
    from computenet.errors import SpecError

    if path is None:
        if wrap:
            return None
        if sys.stdin.isatty():
            sys.stderr.write("sbatch: Reading batch script from standard input...\n")
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise SpecError(f"Unable to open file {path}") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"{path} is not a text file (a binary file?)") from exc


def _script_names_job(script: str | None) -> bool:
    from computenet.errors import SpecError
    from computenet.spec import parse_directives
    from computenet.spec.argv import read_options

    if script is None:
        return False
    try:
        return any(g.option.name == "job-name" for g in read_options(parse_directives(script)))
    except SpecError:
        return False


def _env_options(given: dict[str, str | None]) -> list[str]:
    from computenet.spec.options import lookup_long

    out = []
    for var, option in INPUT_ENV.items():
        value = os.environ.get(var)
        if value and lookup_long(option[2:]).name not in given:
            out.append(f"{option}={value}")
    return out


def _clusters(given: dict[str, str | None]) -> list[str]:
    text = given.get("clusters") or given.get("cluster") or os.environ.get("SBATCH_CLUSTERS")
    return [c for c in (text or "").split(",") if c]


def _cluster_of(client: Any, job_id: int, wanted: list[str], timeout_s: float = 10.0) -> str:
    """The cluster a -M job went to: the only one named, else where the
    broker placed it (waiting briefly for the placement)."""
    if len(wanted) == 1 and wanted[0].lower() != "all":
        return wanted[0]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job.get("cluster"):
            return str(job["cluster"])
        if job["state"] in TERMINAL:
            break
        time.sleep(0.1)
    return wanted[0]


def _print_test_only(result: dict[str, Any]) -> None:
    from computenet.shims.slurmtime import timestamp

    placement = result.get("placement") or {}
    spec = result.get("spec") or {}
    chosen = placement.get("chosen")
    best = next(
        (c for c in placement.get("candidates", []) if c.get("cluster") == chosen),
        None,
    )
    if best is None:
        raise_infeasible(placement)
    tasks = int(spec.get("ntasks") or spec.get("nodes") or 1)
    cpus = tasks * int(spec.get("cpus_per_task") or 1)
    sys.stderr.write(
        f"sbatch: Job 0 to start at {timestamp(best.get('predicted_start'))} using {cpus} "
        f"processors on nodes {chosen} in partition {best.get('partition') or ''}\n"
    )


def raise_infeasible(placement: dict[str, Any]) -> NoReturn:
    from computenet.errors import InfeasibleError

    reasons = "; ".join(
        f"{c['cluster']}: {c.get('why_not')}"
        for c in placement.get("candidates", [])
        if c.get("why_not")
    )
    raise InfeasibleError(
        "Requested node configuration is not available" + (f" ({reasons})" if reasons else "")
    )


def _wait(client: Any, job_id: int) -> int:
    """Poll until the job (every element, for an array) ends; its exit code."""
    while True:
        job = client.job(job_id)
        if job.get("array_job_id") == job["id"]:
            elements = [
                e
                for e in client.jobs(all=True, name=job["name"])
                if e.get("array_job_id") == job["id"]
            ]
        else:
            elements = [job]
        if elements and all(e["state"] in TERMINAL for e in elements):
            return max(exit_status(e) for e in elements)
        time.sleep(0.2)


def exit_status(job: dict[str, Any]) -> int:
    """sbatch --wait's exit code: the job's, 128+signal, or 1 if it failed
    without one."""
    code, _, sig = (job.get("exit_code") or "").partition(":")
    try:
        c, s = int(code or 0), int(sig or 0)
    except ValueError:
        c, s = 1, 0
    if c:
        return c
    if s:
        return 128 + s
    return 0 if job.get("state") == "COMPLETED" else 1
