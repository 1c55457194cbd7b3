"""``cnet demo``: a small mixed workload that shows what the network does."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

import typer

from computenet.cli.context import fmt_duration, get_client, print_json
from computenet.errors import ComputeNetError

TERMINAL = {
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
    "PREEMPTED",
}

MPI_SCRIPT = """#!/bin/bash
#SBATCH --job-name=mpi-hello
#SBATCH --ntasks=4
#SBATCH --time=2
# Four ranks on the embedded cluster, through mpirun when it is installed.
if command -v mpirun >/dev/null 2>&1; then
  mpirun --allow-run-as-root --oversubscribe -np "$SLURM_NTASKS" \\
    sh -c 'echo "rank $OMPI_COMM_WORLD_RANK of $OMPI_COMM_WORLD_SIZE on $(hostname)"'
else
  srun sh -c 'echo "task $SLURM_PROCID of $SLURM_NTASKS on $(hostname)"'
fi
"""


def _workload() -> list[tuple[str, str | None, list[str]]]:
    """(label, script, options); ``{prev}`` in an option is the previous job's id."""
    return [
        ("mpi 4 tasks", MPI_SCRIPT, []),
        (
            "array of 8",
            None,
            [
                "--array=0-7",
                "--job-name=sweep",
                "--time=1",
                "--wrap",
                "echo task $SLURM_ARRAY_TASK_ID; sleep 1",
            ],
        ),
        ("chain 1/3", None, ["--job-name=prep", "--time=1", "--wrap", "sleep 1; echo prepared"]),
        (
            "chain 2/3",
            None,
            [
                "--job-name=solve",
                "--time=1",
                "--dependency=afterok:{prev}",
                "--wrap",
                "sleep 1; echo solved",
            ],
        ),
        (
            "chain 3/3",
            None,
            [
                "--job-name=report",
                "--time=1",
                "--dependency=afterok:{prev}",
                "--wrap",
                "echo report written",
            ],
        ),
        ("times out", None, ["--job-name=too-long", "--time=0:03", "--wrap", "sleep 60"]),
        (
            "fails",
            None,
            [
                "--job-name=bad-input",
                "--time=1",
                "--wrap",
                "echo 'input.dat: no such file' >&2; exit 3",
            ],
        ),
        (
            "cheapest",
            None,
            [
                "--job-name=cheap",
                "--policy=cheapest",
                "--ntasks=2",
                "--time=1",
                "--wrap",
                "sleep 2; echo done cheaply",
            ],
        ),
        (
            "fastest",
            None,
            [
                "--job-name=fast",
                "--policy=fastest",
                "--ntasks=2",
                "--time=1",
                "--wrap",
                "sleep 2; echo done fast",
            ],
        ),
        (
            "pinned to local-b",
            None,
            [
                "--job-name=pinned",
                "--cluster=local-b",
                "--time=1",
                "--hint=multithread",
                "--wrap",
                "nproc",
            ],
        ),
    ]


def demo(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    timeout_s: float = typer.Option(120.0, "--timeout", help="Give up after this long."),
) -> None:
    """Run a small mixed workload on the network and show where each job ran and why.

    Starts the local server if needed. The workload: a 4-task MPI job, an array
    of 8, a chain of three dependent jobs, a job that times out, one that
    fails, and jobs placed by different policies on both clusters.

    \b
    Example:
      cnet demo
      cnet demo --json | jq '.jobs[] | {name, state, cluster}'
    """
    from computenet.config import load_settings

    client = get_client()
    workdir = load_settings().state_dir / "demo" / time.strftime("%Y%m%d-%H%M%S")
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "USER", "LANG", "TERM")}
    started = time.monotonic()
    ids: list[tuple[str, int]] = []
    prev: int | None = None
    for label, script, options in _workload():
        opts = [o.replace("{prev}", str(prev)) for o in options]
        job = client.submit(script=script, options=opts, cwd=str(workdir), env=env)
        prev = int(job["id"])
        ids.append((label, prev))
        for element in job.get("array_ids", [])[1:]:
            ids.append((label, int(element)))
    jobs = _watch(client, ids, quiet=as_json, timeout_s=timeout_s)
    rows = [_row(label, jobs[job_id]) for label, job_id in ids]
    summary = {
        "jobs": [jobs[i] for _, i in ids],
        "rows": rows,
        "wall_s": round(time.monotonic() - started, 2),
        "workdir": str(workdir),
        "mpirun": shutil.which("mpirun") is not None,
    }
    if as_json:
        print_json(summary)
        return
    _final_table(rows, summary)


def _row(label: str, job: dict[str, Any]) -> dict[str, Any]:
    submit, start, end = job.get("submit_time"), job.get("start_time"), job.get("end_time")
    return {
        "label": label,
        "id": job["display_id"],
        "name": job["name"],
        "state": job["state"],
        "cluster": job.get("cluster"),
        "exit_code": job.get("exit_code"),
        "wait_s": (start - submit) if start and submit else None,
        "run_s": (end - start) if end and start else None,
        "reason": job.get("placement_reason") or job.get("reason"),
        "why": job.get("placement_short") or job.get("reason"),
    }


def _watch(
    client: Any, ids: list[tuple[str, int]], *, quiet: bool, timeout_s: float
) -> dict[int, dict[str, Any]]:
    from rich.console import Console
    from rich.live import Live

    wanted = {job_id for _, job_id in ids}
    deadline = time.monotonic() + timeout_s

    def fetch() -> dict[int, dict[str, Any]]:
        found = {j["id"]: j for j in client.jobs(all=True) if j["id"] in wanted}
        for job_id in wanted - found.keys():
            found[job_id] = client.job(job_id)
        return found

    jobs = fetch()
    console = Console(stderr=True, highlight=False)
    with Live(
        console=console, refresh_per_second=4, transient=True, auto_refresh=not quiet
    ) as live:
        while True:
            if not quiet:
                live.update(_progress(ids, jobs))
            if all(j["state"] in TERMINAL for j in jobs.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
            jobs = fetch()
    for job_id, job in jobs.items():
        if job.get("cluster"):
            try:
                placement = client.placement(job_id)
            except ComputeNetError:  # a missing explanation must not stop the demo
                continue
            job["placement_reason"] = placement.get("reason")
            job["placement_short"] = _short_reason(placement)
    return jobs


def _short_reason(placement: dict[str, Any]) -> str:
    """'fastest: ends +1:00 vs local-b +1:15': the policy and the margin it won by."""
    now = placement.get("decided_at") or 0.0
    feasible = [c for c in placement.get("candidates", []) if c.get("feasible")]
    chosen = next((c for c in feasible if c["cluster"] == placement.get("chosen")), None)
    if chosen is None:
        return str(placement.get("reason") or "")
    policy = placement.get("policy") or "?"
    key = "cost" if policy == "cheapest" else "predicted_end"

    def show(c: dict[str, Any]) -> str:
        if key == "cost":
            return f"{c['cost']:.4f}" if c.get("cost") is not None else "-"
        end = c.get("predicted_end")
        return "+" + fmt_duration(end - now) if end is not None else "-"

    label = "cost" if key == "cost" else "ends"
    others = [c for c in feasible if c is not chosen]
    text = f"{policy}: {label} {show(chosen)}"
    if others:
        text += f" vs {others[0]['cluster']} {show(others[0])}"
    elif len(placement.get("candidates", [])) > 1:
        text += " (no other candidate)"
    return text


def _progress(ids: list[tuple[str, int]], jobs: dict[int, dict[str, Any]]) -> Any:
    from rich.table import Table

    counts: dict[str, int] = {}
    for j in jobs.values():
        counts[j["state"]] = counts.get(j["state"], 0) + 1
    table = Table(
        title="computenet demo: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    )
    for col in ("job", "what", "state", "cluster"):
        table.add_column(col)
    for label, job_id in ids:
        j = jobs[job_id]
        table.add_row(j["display_id"], label, j["state"], j.get("cluster") or "-")
    return table


def _final_table(rows: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"computenet demo: {len(rows)} jobs in {summary['wall_s']:.1f} s")
    for col in ("job", "what", "state", "exit", "cluster", "wait", "run", "why there"):
        table.add_column(col, overflow="fold")
    for r in rows:
        color = {"COMPLETED": "green", "RUNNING": "yellow"}.get(r["state"], "red")
        table.add_row(
            r["id"],
            r["label"],
            f"[{color}]{r['state']}[/]",
            r["exit_code"] or "-",
            r["cluster"] or "-",
            fmt_duration(r["wait_s"]),
            fmt_duration(r["run_s"]),
            r["why"] or "",
        )
    console = Console(highlight=False)
    console.print(table)
    console.print(
        f"outputs in {summary['workdir']}; try: cnet why {rows[0]['id']}, "
        f"cnet logs {rows[0]['id']}, cnet ls --all"
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
