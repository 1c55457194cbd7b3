"""Latency of `cnet ls` over 10,000 stored jobs and of `cnet --version` cold.

Stores 10,000 held jobs on a private local server (bulk submission), then
times the real command lines as a user runs them (new process each time,
median of several runs). Goals: `cnet ls` under 0.5 s, `cnet --version`
under 0.3 s, `cnet cp` of one 4 KiB file to the local server (the command's
own start-up and the server's round trips) under 0.15 s; the bare
interpreter (`python -c pass`) is timed in the same run for comparison.

    python benchmarks/cli_latency.py [--jobs 10000] [--runs 7] [--cp-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local import private_server


def wall(argv: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cp_startup(argv0: list[str], env: dict[str, str], runs: int) -> dict[str, object]:
    """`cnet cp` of one 4 KiB file on this machine, through the local server."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cn-bench-cp-") as tmp:
        src = Path(tmp) / "small"
        src.write_bytes(os.urandom(4096))
        subprocess.run([*argv0, "cp", str(src), f"{tmp}/warm"], env=env, check=True)
        cp = wall([*argv0, "cp", str(src), f"{tmp}/copy"], env, runs)
        bare = wall([sys.executable, "-c", "pass"], env, runs)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    return {
        "figure": "cnet_cp_small_local",
        "value": round(cp, 3),
        "unit": "s",
        "baseline": "goal",
        "baseline_value": 0.15,
        "ratio": round(cp / 0.15, 2),
        "goal": "< 0.15 s",
        "python_c_pass_s": round(bare, 3),
        "load_average": load,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cp-only", action="store_true", help="Only the cnet cp figure.")
    args = parser.parse_args()
    # The console script beside this interpreter, as a virtualenv puts it on
    # PATH: a version manager's shim in front of it (pyenv's costs about
    # 60 ms) is not part of cnet.
    beside = Path(sys.executable).parent / "cnet"
    cnet = str(beside) if beside.exists() else shutil.which("cnet")
    argv0 = [cnet] if cnet else [sys.executable, "-m", "computenet.cli.main"]
    with private_server() as env:
        cp = cp_startup(argv0, env, args.runs)
        if args.cp_only:
            print(json.dumps(cp))
            return
        os.environ.update(env)
        from computenet.client import Client
        from computenet.client.local import resolve_address
        from computenet.config import load_settings

        address = resolve_address(start=False, settings=load_settings())
        with Client(address.url, address.token, timeout_s=120, socket_path=address.socket) as cn:
            batch = [{"options": ["--hold", "--wrap", "true"], "cwd": "/tmp"}] * 5000
            stored = 0
            while stored < args.jobs:
                n = min(5000, args.jobs - stored)
                cn.submit_many(batch[:n])
                stored += n
        ls = wall([*argv0, "ls"], env, args.runs)
        ls_json = wall([*argv0, "ls", "--json"], env, args.runs)
        version = wall([*argv0, "--version"], env, args.runs)
        # The common case: a long history of finished jobs, few active ones.
        from computenet.model import JobSpec, JobState
        from computenet.store import jobs as repo
        from computenet.store.db import Store

        store = Store(load_settings().effective_database_url)
        with store.session() as s:
            repo.create_jobs(
                s,
                [
                    repo.NewJob(
                        JobSpec(command="true"),
                        os.environ.get("USER", "local"),
                        "default",
                        state=JobState.COMPLETED,
                    )
                ]
                * args.jobs,
                time.time(),
            )
        store.close()
        ls_history = wall([*argv0, "ls", "-t", "RUNNING"], env, args.runs)
    print(
        json.dumps(
            {
                "figure": "cnet_ls_json_10k",
                "value": round(ls_json, 3),
                "unit": "s",
                "jobs": args.jobs,
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "cnet_ls_active_among_history",
                "value": round(ls_history, 3),
                "unit": "s",
                "note": "cnet ls -t RUNNING beside 10,000 finished and 10,000 held jobs",
            }
        )
    )
    print(json.dumps(cp))
    print(
        json.dumps(
            {
                "figure": "cnet_version_cold",
                "value": round(version, 3),
                "unit": "s",
                "baseline": "goal",
                "baseline_value": 0.3,
                "ratio": round(version / 0.3, 2),
                "goal": "< 0.3 s",
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "cnet_ls_10k",
                "value": round(ls, 3),
                "unit": "s",
                "baseline": "goal",
                "baseline_value": 0.5,
                "ratio": round(ls / 0.5, 2),
                "goal": "< 0.5 s over 10,000 stored jobs",
                "jobs": args.jobs,
            }
        )
    )


if __name__ == "__main__":
    main()
