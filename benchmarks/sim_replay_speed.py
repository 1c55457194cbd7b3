"""Figure: trace replay speed, computenet vs AccaSim 1.1.3, EASY on real traces.

For SDSC-SP2 and HPC2N (from ../shared/traces, skipped when absent) this
runs, in one process each so peak memory is separate:

- computenet EASY end to end (parse + clean + schedule + metrics), best of 3;
- computenet conservative, FCFS and EASY-SJF (cost beside EASY's);
- AccaSim 1.1.3 EASYBackfilling on the same jobs (the trace rewritten with
  the cleaned sizes and estimates, submits shifted by a constant, memory
  fields -1, TZ=UTC), when installed (``pip install accasim==1.1.3``) and
  not skipped with ``--no-accasim``;
- FCFS/EASY quality metrics beside the trace's own recorded schedule.

    python benchmarks/sim_replay_speed.py [--no-accasim] [--traces DIR]

The last line is the JSON summary: value = EASY jobs/s on SDSC-SP2,
baseline = AccaSim's, ratio = value / baseline (goal >= 50), plus HPC2N's
wall time (goal < 3 s).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO.parent / "shared" / "traces"
TRACE_FILES = {
    "SDSC-SP2": "SDSC-SP2-1998-4.2-cln.swf.gz",
    "HPC2N": "HPC2N-2002-2.2-cln.swf.gz",
}
OFFSET_S = 1_000_000_000  # AccaSim misbehaves with a clock at 0

OURS = textwrap.dedent(
    """
    import json, resource, sys, time
    from computenet.sim.replay import replay
    path, policy, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
    best = None
    for _ in range(repeat):
        result = replay(path, policy)
        if best is None or result.wall_s < best.wall_s:
            best = result
    m = best.metrics
    print(json.dumps({"wall_s": best.wall_s, "jobs": m.jobs, "jobs_per_s": best.jobs_per_s,
        "mean_wait_s": m.mean_wait_s, "mean_bsld": m.mean_bsld, "utilization": m.utilization,
        "p50_wait_s": m.p50_wait_s, "p90_wait_s": m.p90_wait_s, "p99_wait_s": m.p99_wait_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)

ACCASIM = textwrap.dedent(
    """
    import collections, collections.abc, json, resource, sys, time
    collections.Mapping = collections.abc.Mapping  # removed in Python 3.10
    from accasim.base.simulator_class import Simulator
    from accasim.base.scheduler_class import EASYBackfilling
    from accasim.base.allocator_class import FirstFit
    trace, config, results = sys.argv[1:4]
    began = time.perf_counter()
    Simulator(trace, config, EASYBackfilling(FirstFit()), RESULTS_FOLDER_PATH=results,
              scheduling_output=True, statistics_output=True,
              show_statistics=False).start_simulation()
    wall = time.perf_counter() - began
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"wall_s": wall, "peak_rss_mb": max(own, kids) / 1024}))
    """
)


def run_json(code: str, *args: str, env: dict[str, str] | None = None) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def rewrite_for_accasim(path: Path, out: Path) -> tuple[int, int]:
    """The cleaned jobs as AccaSim reads them; returns (jobs, machine procs)."""
    from computenet.sim.swf import SwfTrace

    trace = SwfTrace(path)
    capacity = trace.header.machine_procs or 0
    count = 0
    with out.open("w") as text:
        text.write(f"; MaxProcs: {capacity}\n; MaxNodes: {capacity}\n")
        for job in trace.jobs(capacity):
            submit = int(job.submit) + OFFSET_S
            fields = [
                job.job_id,
                submit,
                -1,
                int(job.runtime_s),
                job.procs,
                -1,
                -1,
                job.procs,
                int(job.estimate_s),
                -1,
                1,
                1,
                1,
                -1,
                1,
                -1,
                -1,
                -1,
            ]
            text.write(" ".join(map(str, fields)) + "\n")
            count += 1
    return count, capacity


def accasim_available() -> bool:
    probe = subprocess.run([sys.executable, "-c", "import accasim"], capture_output=True)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-accasim", action="store_true")
    parser.add_argument("--traces", type=Path, default=TRACES)
    args = parser.parse_args()
    present = {
        name: args.traces / f for name, f in TRACE_FILES.items() if (args.traces / f).exists()
    }
    if not present:
        print(f"skipped: no traces under {args.traces}")
        print(
            json.dumps(
                {
                    "figure": "sim_replay_speed",
                    "value": None,
                    "unit": "jobs/s",
                    "baseline": "AccaSim 1.1.3 EASY",
                    "baseline_value": None,
                    "ratio": None,
                    "goal": ">= 50x AccaSim; HPC2N < 3 s",
                    "skipped": "traces absent",
                }
            )
        )
        return
    use_accasim = not args.no_accasim and accasim_available()
    if not args.no_accasim and not use_accasim:
        print("AccaSim not installed (pip install accasim==1.1.3): baseline skipped")
    from computenet.sim.replay import recorded_metrics

    report: dict[str, dict[str, object]] = {}
    for name, path in present.items():
        row: dict[str, object] = {}
        for policy, repeat in (("easy", 3), ("fcfs", 1), ("easy-sjf", 1), ("conservative", 1)):
            row[policy] = run_json(OURS, str(path), policy, str(repeat))
            print(f"{name:9s} {policy:12s} {json.dumps(row[policy])}", flush=True)
        recorded = recorded_metrics(path)
        row["recorded"] = {
            "utilization": recorded.utilization,
            "mean_wait_s": recorded.mean_wait_s,
            "mean_bsld": recorded.mean_bsld,
        }
        print(f"{name:9s} {'recorded':12s} {json.dumps(row['recorded'])}", flush=True)
        if use_accasim:
            with tempfile.TemporaryDirectory() as tmp:
                swf = Path(tmp) / "trace.swf"
                jobs, capacity = rewrite_for_accasim(path, swf)
                config = Path(tmp) / "sys.json"
                config.write_text(
                    json.dumps(
                        {
                            "groups": {"g0": {"core": 1}},
                            "resources": {"g0": capacity},
                            "equivalence": {"processor": {"core": 1}},
                            "start_time": OFFSET_S,
                        }
                    )
                )
                results = Path(tmp) / "results"
                results.mkdir()
                acc = run_json(ACCASIM, str(swf), str(config), str(results), env={"TZ": "UTC"})
                acc["jobs"] = jobs
                acc["jobs_per_s"] = jobs / acc["wall_s"]
                row["accasim_easy"] = acc
                print(f"{name:9s} {'accasim easy':12s} {json.dumps(acc)}", flush=True)
        report[name] = row

    def jps(name: str, key: str) -> float | None:
        value = report.get(name, {}).get(key)
        return float(value["jobs_per_s"]) if isinstance(value, dict) else None

    ours = jps("SDSC-SP2", "easy")
    theirs = jps("SDSC-SP2", "accasim_easy")
    hpc2n = report.get("HPC2N", {}).get("easy")
    summary = {
        "figure": "sim_replay_speed",
        "value": round(ours, 1) if ours else None,
        "unit": "jobs/s (EASY, SDSC-SP2, parse + schedule + metrics)",
        "baseline": "AccaSim 1.1.3 EASYBackfilling, same jobs",
        "baseline_value": round(theirs, 1) if theirs else None,
        "ratio": round(ours / theirs, 1) if ours and theirs else None,
        "goal": ">= 50x AccaSim; HPC2N EASY < 3 s",
        "hpc2n_easy_wall_s": round(float(hpc2n["wall_s"]), 3) if isinstance(hpc2n, dict) else None,
        "machine": f"{os.cpu_count()} cores",
        "peak_rss_self_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    began = time.perf_counter()
    main()
    sys.stderr.write(f"benchmark took {time.perf_counter() - began:.0f} s\n")
