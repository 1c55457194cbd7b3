"""Pool reaction: from the first job that needs a pool to its node running it.

A private local server (its own HOME and config file) with a home cluster
that is full, and a pool with a boot delay behind it. A local-first job
arrives, the broker grows the pool, the controller asks the provider, the
node comes up after the boot delay and the job starts. Reaction = the
job's start, read from its own clock (it runs ``date +%s.%N``), minus its
submission as the server records it; the goal is at most the boot delay
plus one controller pass (``controller_interval_s``). Slurm's StartTime is in
whole seconds (rounded down), so the start the server records is printed
beside it but not used.

    python benchmarks/pool_reaction.py [--cluster embedded|slurm] [--runs 3]
                                       [--boot-delay 2] [--keep]

``--cluster slurm`` uses a dev Slurm cluster (``scripts/dev-slurm --cloud-nodes 1``,
root only) whose slurmctld resumes the node through ``cnet pool resume``;
there the controller powers the node up itself (``scontrol update
state=power_up``) and sends the job once the node is idle. Each run starts
from a pool with no node (on Slurm: the node fully powered down, ``idle~``),
and on Slurm prints its timeline: the server's records (placement and
power-up, node up, job queued, running) and the daemons' logs (power-up,
ResumeProgram, slurmd start, registration, allocation), in seconds after
submission. ``--keep`` leaves the run's directory (logs) in place.

Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from _local import REPO, private_server

INTERVAL_S = 0.25


def cnet(env: dict[str, str], *args: str) -> Any:
    out = subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if out.returncode != 0:
        raise SystemExit(f"cnet {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout) if "--json" in args else out.stdout


def wait(what: str, check: Any, timeout_s: float = 180.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def config(kind: str, boot: float, slurm_conf: str | None) -> str:
    # on Slurm the cluster's name is slurm.conf's ClusterName: the pool programs pass it
    name = "home" if kind == "embedded" else "rc1"
    common = f"""
home_cluster = "{name}"
default_policy = "local-first"
local_first_wait_s = 5.0
controller_interval_s = {INTERVAL_S}
"""
    if kind == "embedded":
        cluster = """
kind = "embedded"
[[clusters.partitions]]
name = "batch"
nodes = 1
cores = 1
default = true
[[clusters.partitions]]
name = "burst"
cores = 1
[[clusters.pools]]
name = "burst"
partition = "burst"
max_nodes = 2
idle_release_s = 1.0
"""
    else:
        cluster = f"""
kind = "slurm"
slurm_conf = "{slurm_conf}"
[[clusters.partitions]]
name = "debug"
nodes = 1
cores = 4
default = true
[[clusters.partitions]]
name = "cloud"
nodes = 1
cores = 4
[[clusters.pools]]
name = "cloud"
partition = "cloud"
nodes = "rc1c1"
idle_release_s = 3
resume_timeout_s = 120
"""
    return (
        common
        + f'\n[[clusters]]\nname = "{name}"\n'
        + cluster
        + f"boot_delay_s = {boot}\nprice_per_node_hour = 1.0\n"
    )


def powered_down(slurm_conf: str | None) -> bool:
    """The pool's Slurm node is fully off (``idle~``), so each run starts from an empty pool."""
    if slurm_conf is None:
        return True
    out = subprocess.run(
        ["sinfo", "-h", "-N", "-n", "rc1c1", "-o", "%t"],
        env=dict(os.environ, SLURM_CONF=slurm_conf),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return out.stdout.strip() == "idle~"


def measure(
    env: dict[str, str], runs: int, partition: str, width: int, slurm_conf: str | None
) -> list[float]:
    blocker = cnet(env, "submit", "--json", "--wrap", "sleep 300", "-t", "10", "-n", str(width))
    wait(
        "the blocker to run",
        lambda: cnet(env, "show", "--json", str(blocker["id"]))["state"] == "RUNNING",
    )
    out: list[float] = []
    try:
        _runs(env, runs, partition, out, slurm_conf)
    finally:  # never leave the blocker running on the cluster
        cnet(env, "cancel", str(blocker["id"]))
    return out


def _runs(
    env: dict[str, str], runs: int, partition: str, out: list[float], slurm_conf: str | None
) -> None:
    for i in range(runs):
        # the job prints the clock when it runs: its real start on the node
        job = cnet(env, "submit", "--json", "--wrap", "date +%s.%N", "-t", "1", "-n", "1")
        done = wait(
            "the job",
            lambda j=job: (
                lambda r: r if r["state"] in ("COMPLETED", "FAILED", "CANCELLED") else None
            )(cnet(env, "show", "--json", str(j["id"]))),
        )
        if done["state"] != "COMPLETED" or done.get("partition") != partition:
            raise SystemExit(f"run {i + 1}: job ended {done['state']} on {done.get('partition')}")
        submitted = float(done["submit_time"])
        ran = float(wait("the job's output", lambda j=job: cnet(env, "logs", str(j["id"])).strip()))
        reaction = ran - submitted
        out.append(reaction)
        print(
            f"  run {i + 1}: ran {reaction:.2f} s after submission "
            f"(recorded start: {float(done['start_time']) - submitted:.2f} s)",
            flush=True,
        )
        if slurm_conf is not None:
            timeline(env, done, ran, Path(slurm_conf).parent)
        wait(
            "the pool to release its node",
            lambda: all(p["up"] + p["booting"] == 0 for p in cnet(env, "pools", "--json")["pools"]),
        )
        wait("the pool's node to be powered down", lambda: powered_down(slurm_conf))


def _log_times(path: Path, patterns: dict[str, str], since: float) -> dict[str, float]:
    """When each pattern first appears in a Slurm log (``[ISO-time] message``
    lines) at or after ``since``."""
    found: dict[str, float] = {}
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return found
    for line in lines:
        m = re.match(r"\[(\d{4}-\d\d-\d\dT[\d:.]+)\] (.*)", line)
        if not m:
            continue
        for label, pattern in patterns.items():
            at = datetime.fromisoformat(m.group(1)).timestamp()
            if at >= since and label not in found and re.search(pattern, m.group(2)):
                found[label] = at
    return found


def timeline(env: dict[str, str], job: dict[str, Any], ran: float, cdir: Path) -> None:
    """Print where one run's reaction went, from the server's records and the
    Slurm daemons' logs (each mark: seconds after the job's submission)."""
    from computenet.client import Client

    state = Path(env["XDG_STATE_HOME"]) / "computenet" / "server.json"
    token = Path(env["XDG_DATA_HOME"]) / "computenet" / "token"
    t0 = float(job["submit_time"])
    marks: dict[str, float] = {"the job runs (its own clock)": ran}
    with Client(json.loads(state.read_text())["url"], token.read_text().strip()) as client:
        for e in client.events(job["id"]):
            if e["to"] == "QUEUED":
                marks.setdefault("sbatch done (job QUEUED)", e["time"])
            elif e["to"] == "RUNNING":
                marks.setdefault("poll sees RUNNING", e["time"])
        for e in client.pool_events(None, 1000):
            if e["time"] < t0 - 0.01:
                continue
            if e["kind"] == "grow":
                marks.setdefault("power_up (controller)", e["time"])
            elif e["kind"] == "up":
                marks.setdefault("node up in sinfo (controller)", e["time"])
    attempt = (job.get("attempts") or [{}])[-1]
    if attempt.get("start_time") is not None:
        marks["Slurm StartTime (whole seconds)"] = float(attempt["start_time"])
    node = "rc1c1"
    ctld = {
        "slurmctld powers the node up": rf"powering up node {node}",
        "node registered (slurmctld)": rf"Node {node} now responding",
        "job allocated (slurmctld)": rf"sched: Allocate JobId=\S+ NodeList={node}",
    }
    marks.update(_log_times(cdir / "slurmctld.log", ctld, t0 - 1))
    marks.update(
        _log_times(cdir / "pool-programs.log", {"ResumeProgram runs": rf"resume {node}"}, t0 - 1)
    )
    slurmd = {"slurmd started": r"slurmd version .* started"}
    marks.update(_log_times(cdir / f"slurmd-{node}.log", slurmd, t0 - 1))
    for label, at in sorted(marks.items(), key=lambda kv: kv[1]):
        print(f"    {at - t0:+6.2f} s  {label}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", choices=("embedded", "slurm"), default="embedded")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--boot-delay", type=float, default=2.0)
    parser.add_argument("--keep", action="store_true", help="keep the run's directory (logs)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cn-bench-pool-"))
    slurm_conf = None
    if args.cluster == "slurm":
        started = subprocess.run(
            [
                sys.executable,
                str(REPO / "scripts" / "dev-slurm"),
                "start",
                "--dir",
                str(root),
                "--prefix",
                "rc",
                "--nodes",
                "1",
                "--cloud-nodes",
                "1",
                "--suspend-time",
                "3",
            ],
            capture_output=True,
            text=True,
            timeout=900,
        )
        if started.returncode != 0:
            raise SystemExit(f"dev-slurm: {started.stderr.strip()}")
        slurm_conf = started.stdout.strip().splitlines()[0]
    conf = root / "config.toml"
    conf.write_text(config(args.cluster, args.boot_delay, slurm_conf))
    try:
        with private_server({"CN_CONFIG": str(conf)}) as env:
            if args.cluster == "slurm":
                state = Path(env["XDG_STATE_HOME"]) / "computenet" / "server.json"
                token = Path(env["XDG_DATA_HOME"]) / "computenet" / "token"
                pool_env = root / "rc1" / "pool.env"
                pool_env.write_text(
                    f"export CN_SERVER_URL={json.loads(state.read_text())['url']}\n"
                    f"export CN_TOKEN={token.read_text().strip()}\n"
                )
                pool_env.chmod(0o600)
            partition = "burst" if args.cluster == "embedded" else "cloud"
            width = 1 if args.cluster == "embedded" else 4
            print(
                f"{args.cluster}: boot delay {args.boot_delay:g} s, controller interval "
                f"{INTERVAL_S:g} s, load average {os.getloadavg()[0]:.2f}"
            )
            reactions = measure(env, args.runs, partition, width, slurm_conf)
    finally:
        if args.cluster == "slurm":
            subprocess.run(
                [str(REPO / "scripts" / "dev-slurm"), "stop", "--dir", str(root)],
                timeout=120,
                check=False,
            )
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    baseline = args.boot_delay + INTERVAL_S
    worst = max(reactions)
    print(
        f"median {statistics.median(reactions):.2f} s, worst {worst:.2f} s; load average "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(
        json.dumps(
            {
                "figure": f"pool_reaction_{args.cluster}",
                "value": round(worst, 3),
                "unit": "s",
                "baseline": "boot delay + one controller interval",
                "baseline_value": baseline,
                "ratio": round(worst / baseline, 3),
                "goal": "<= 1",
            }
        )
    )


if __name__ == "__main__":
    main()
