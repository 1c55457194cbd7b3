"""Job commands: submit, ls, show, cancel, logs, why (clusters: cli/clusters.py)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import typer

from computenet.cli.context import (
    exit_status,
    fmt_duration,
    fmt_time,
    get_client,
    print_json,
)
from computenet.errors import SpecError

JSON_OPT = typer.Option(False, "--json", help="Print JSON (stable field names, docs/cli.md).")
STATE_CODES = {
    "PENDING": "PD",
    "STAGING_IN": "SI",
    "QUEUED": "Q",
    "RUNNING": "R",
    "STAGING_OUT": "SO",
    "COMPLETED": "CD",
    "FAILED": "F",
    "CANCELLED": "CA",
    "TIMEOUT": "TO",
    "OUT_OF_MEMORY": "OOM",
    "NODE_FAIL": "NF",
    "PREEMPTED": "PR",
}
CLI_ONLY = {"--json"}


def submit(ctx: typer.Context) -> None:
    """Submit a batch script, like sbatch. Every sbatch option works.

    \b
    Examples:
      cnet submit job.sh
      cnet submit -N 2 --ntasks-per-node=4 --time=30 mpi.sh input.dat
      cnet submit --wrap "python train.py" --gpus=1 --policy=cheapest
      cnet submit --array=0-15%4 sweep.sh
      cnet submit --test-only --json job.sh      # validate and show the placement
      cnet submit --wait job.sh                  # exit with the job's exit code
    """
    from computenet.spec import split_submit_argv

    raw = list(ctx.args)
    as_json = "--json" in raw
    raw = [a for a in raw if a not in CLI_ONLY]
    options, script_path, script_args = split_submit_argv(raw)
    flags = set(options)
    wait = "--wait" in flags or "-W" in flags
    parsable = "--parsable" in flags
    test_only = "--test-only" in flags
    script: str | None = None
    if script_path is not None:
        path = Path(script_path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise SpecError(f"cannot read script {script_path}: {exc.strerror}") from exc
        try:
            script = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"{script_path} is not UTF-8 text (a binary file?)") from exc
    elif not any(o.startswith("--wrap") for o in options):
        if sys.stdin.isatty():
            raise SpecError(
                "no script given: cnet submit SCRIPT [options], or --wrap CMD "
                "(see cnet submit --help)"
            )
        script = sys.stdin.read()
    client = get_client()
    result = client.submit(
        script=script,
        options=options,
        args=script_args,
        cwd=os.getcwd(),
        env=dict(os.environ),
        test_only=test_only,
        script_name=Path(script_path).name if script_path else None,
    )
    if test_only:
        # Exit 0 whenever the script parsed, placeable or not: the placement
        # says which cluster would take it, or each cluster's reason why not.
        if as_json:
            print_json(result)
        else:
            _print_spec(result["spec"])
            _print_placement(result["placement"], result["spec"])
        return
    job_id = result.get("array_job_id") or result["id"]
    if wait:
        final = _wait(client, job_id, quiet=as_json or parsable)
        if as_json:
            print_json(final)
        elif parsable:
            print(job_id)
        raise typer.Exit(exit_status(final))
    if as_json:
        print_json(result)
    elif parsable:
        print(job_id)
    else:
        print(f"Submitted batch job {job_id}")


def _wait(client: Any, job_id: int | str, *, quiet: bool) -> dict[str, Any]:
    """Poll until the job (every element of an array) ends, with a live status line."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    terminal = {
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "TIMEOUT",
        "OUT_OF_MEMORY",
        "NODE_FAIL",
        "PREEMPTED",
    }
    start = time.monotonic()

    def done() -> tuple[bool, dict[str, Any], str]:
        job = client.job(job_id)
        if job.get("array_job_id") == job["id"]:
            elements = list(client.jobs(all=True, name=job["name"]))
            elements = [e for e in elements if e.get("array_job_id") == job["id"]]
            counts: dict[str, int] = {}
            for e in elements:
                counts[e["state"]] = counts.get(e["state"], 0) + 1
            finished = all(e["state"] in terminal for e in elements)
            worst = max(elements, key=lambda e: exit_status(e))
            text = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
            return finished, worst, text
        where = f" on {job['cluster']}" if job.get("cluster") else ""
        return job["state"] in terminal, job, f"{job['state']}{where}"

    if quiet:
        while True:
            finished, job, _ = done()
            if finished:
                return job
            time.sleep(0.2)
    with console.status(f"job {job_id}: submitted") as status:
        while True:
            finished, job, text = done()
            status.update(f"job {job_id}: {text}  [{fmt_duration(time.monotonic() - start)}]")
            if finished:
                break
            time.sleep(0.2)
    console.print(
        f"job {job_id}: {job['state']} exit {job.get('exit_code') or '-'}"
        + (f" ({job['reason']})" if job.get("reason") else "")
    )
    return dict(job)


#: What the table shows: the server sends only these.
LS_FIELDS = (
    "display_id",
    "cluster",
    "partition",
    "name",
    "owner",
    "state",
    "start_time",
    "end_time",
    "nodes",
    "reason",
)


def ls(
    all: bool = typer.Option(False, "--all", "-a", help="Include finished jobs."),
    state: str = typer.Option(None, "--state", "-t", help="Comma list, e.g. PENDING,RUNNING"),
    cluster: str = typer.Option(None, "--cluster", "-M", help="Only this cluster."),
    name: str = typer.Option(None, "--name", "-n", help="Only jobs with this name."),
    user: str = typer.Option(
        None, "--user", "-u", help="A user's jobs (in projects you manage or view)."
    ),
    account: str = typer.Option(
        None, "--account", "-A", help="A project's jobs (all of them if you manage or view it)."
    ),
    all_users: bool = typer.Option(False, "--all-users", help="Every job you may see."),
    as_json: bool = JSON_OPT,
) -> None:
    """List jobs, like squeue (active jobs; --all adds finished ones).

    Your own jobs by default; a project's manager or viewer also sees its jobs
    (-A PROJECT, --all-users), an administrator everyone's.

    \b
    Examples:
      cnet ls
      cnet ls --all --json | jq '.jobs[] | {id, state}'
      cnet ls -t RUNNING -M local-a
      cnet ls -A chem --all-users      # a manager: every job of project chem
    """
    jobs = list(
        get_client().jobs(
            all=all,
            state=state,
            cluster=cluster,
            name=name,
            user=user,
            project=account,
            all_users=all_users,
            fields=None if as_json else LS_FIELDS,
        )
    )
    if as_json:
        print_json({"jobs": jobs})
        return
    now = time.time()
    lines = [
        f"{'JOBID':>10} {'CLUSTER':<10} {'PARTITION':<9} {'NAME':<12} {'USER':<8} "
        f"{'ST':>3} {'TIME':>10} {'NODES':>5} REASON"
    ]
    for j in jobs:
        started = j.get("start_time")
        elapsed = ((j.get("end_time") or now) - started) if started else 0.0
        lines.append(
            f"{j['display_id']:>10} {(j.get('cluster') or '-')[:10]:<10} "
            f"{(j.get('partition') or '-')[:9]:<9} {j['name'][:12]:<12} {j['owner'][:8]:<8} "
            f"{STATE_CODES.get(j['state'], j['state']):>3} {fmt_duration(elapsed):>10} "
            f"{_nodes(j):>5} {j.get('reason') or ''}"
        )
    sys.stdout.write("\n".join(lines) + "\n")


def _nodes(job: dict[str, Any]) -> str:
    return str(job.get("nodes") or 1)


def show(
    job_id: str = typer.Argument(..., help="Job id (123, or 123_4 for an array element)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Show one job with its attempts, like scontrol show job."""
    job = get_client().job(job_id)
    if as_json:
        print_json(job)
        return
    keys = [
        "display_id",
        "name",
        "owner",
        "project",
        "state",
        "reason",
        "cluster",
        "partition",
        "exit_code",
    ]
    for key in keys:
        print(f"{key:>14}: {job.get(key) if job.get(key) is not None else '-'}")
    for key in ("submit_time", "start_time", "end_time"):
        print(f"{key:>14}: {fmt_time(job.get(key))}")
    for note in job.get("notes") or []:
        print(f"{'note':>14}: {note}")
    if (job.get("spec") or {}).get("container_image"):
        print(f"{'container':>14}: {container_summary(job['spec'])}")
    app = (job.get("spec") or {}).get("catalogue")
    if app:
        print(f"{'application':>14}: {app['name']} {app['version']}")
        from computenet.cli.apps import figure_text

        for f in job.get("figures") or []:
            print(f"{'figure':>14}: {figure_text(f)}")
    for a in job.get("attempts", []):
        print(
            f"{'attempt ' + str(a['number']):>14}: {a['cluster']} native id "
            f"{a['native_id'] or '-'} {a['state']} exit {a['exit_code'] or '-'}"
            + (f" ({a['reason']})" if a.get("reason") else "")
        )


def cancel(
    job_ids: list[str] = typer.Argument(..., help="Job ids (123 cancels a whole array)."),
    as_json: bool = JSON_OPT,
) -> None:
    """Cancel jobs, like scancel. Cancelling a finished job only says so."""
    client = get_client()
    results = []
    for job_id in job_ids:
        results.extend(client.cancel(job_id)["results"])
    if as_json:
        print_json({"results": results})
        return
    for r in results:
        if not r["changed"]:
            print(f"cnet: job {r['id']}: {r['message']}", file=sys.stderr)


def logs(
    job_id: str = typer.Argument(..., help="Job id."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing until it ends."),
    stderr: bool = typer.Option(False, "--stderr", "-e", help="The error stream."),
) -> None:
    """Print a job's output (stdout, or --stderr), like tail [-f].

    \b
    Examples:
      cnet logs 42
      cnet logs -f 42
    """
    client = get_client()
    stream = "stderr" if stderr else "stdout"
    offset = 0
    while True:
        chunk = client.logs(job_id, stream, offset)
        if chunk["data"]:
            sys.stdout.write(chunk["data"])
            sys.stdout.flush()
        offset = chunk["offset"]
        if not follow or (chunk["eof"] and not chunk["data"]):
            return
        if not chunk["data"]:
            time.sleep(0.3)


def why(job_id: str = typer.Argument(..., help="Job id."), as_json: bool = JSON_OPT) -> None:
    """Explain where a job was placed: every candidate cluster and why.

    \b
    Example:
      cnet why 42
    """
    placement = get_client().placement(job_id)
    if as_json:
        print_json(placement)
        return
    _print_placement(placement)


def container_summary(spec: dict[str, Any]) -> str:
    """``IMAGE, mounts SRC:DST[:ro] ..., workdir PATH`` of a spec dict."""
    parts = [str(spec["container_image"])]
    mounts = spec.get("container_mounts") or []
    if mounts:
        # a --test-only summary lists SRC:DST[:ro] texts, a stored spec mount objects
        shown = ",".join(
            m
            if isinstance(m, str)
            else f"{m['source']}:{m['target']}" + (":ro" if m.get("read_only") else "")
            for m in mounts
        )
        parts.append(f"mounts {shown}")
    if spec.get("container_workdir"):
        parts.append(f"workdir {spec['container_workdir']}")
    return ", ".join(parts)


def _print_spec(spec: dict[str, Any]) -> None:
    """How the script and options were read: every field that was given."""
    given = {k: v for k, v in spec.items() if v not in (None, [], False) and k != "ignored"}
    for key in ("container_image", "container_mounts", "container_workdir"):
        given.pop(key, None)
    if spec.get("container_image"):
        given["container"] = container_summary(spec)
    width = max((len(k) for k in given), default=0)
    print("parsed:")
    for key, value in given.items():
        shown = ",".join(map(str, value)) if isinstance(value, list) else value
        print(f"  {key:<{width}}  {shown}")


def _print_placement(placement: dict[str, Any], spec: dict[str, Any] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    now = placement.get("decided_at") or time.time()
    table = Table(
        title=f"policy {placement.get('policy')}: chosen {placement.get('chosen') or 'none yet'}"
    )
    for col in (
        "cluster",
        "partition",
        "feasible",
        "start in",
        "finish in",
        "cost",
        "score",
        "speed",
        "why not",
    ):
        table.add_column(col)
    for c in placement.get("candidates", []):
        start, end = c.get("predicted_start"), c.get("predicted_end")
        table.add_row(
            c["cluster"],
            c.get("partition") or "-",
            "yes" if c["feasible"] else "no",
            fmt_duration(start - now) if start is not None else "-",
            fmt_duration(end - now) if end is not None else "-",
            f"{c['cost']:.4f}" if c.get("cost") is not None else "-",
            f"{c['score']:.3g}" if c.get("score") is not None else "-",
            c.get("speed_source") or "-",
            c.get("why_not") or "",
        )
    console.print(table)
    console.print(f"reason: {placement.get('reason')}")
    if spec and spec.get("ignored"):
        for note in spec["ignored"]:
            console.print(f"note: {note}")


def register(app: typer.Typer) -> None:
    app.command(
        context_settings={
            "allow_extra_args": True,
            "ignore_unknown_options": True,
            "allow_interspersed_args": False,
            "help_option_names": ["--help"],
        },
        options_metavar="[SBATCH OPTIONS] [--json] SCRIPT [SCRIPT ARGS]",
    )(submit)
    app.command("ls")(ls)
    app.command("show")(show)
    app.command("cancel")(cancel)
    app.command("logs")(logs)
    app.command("why")(why)
