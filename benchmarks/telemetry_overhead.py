"""Collection overhead on a running job: a CPU-bound job's time with and
without the process-tree sampler reading it.

The job (a fixed amount of pure-Python work under a supervisor-like parent,
with ``running.json`` as the embedded cluster writes it) and the sampler are
pinned to the same CPU, the worst case: every CPU cycle the sampler takes is
one the job does not get. The sampler runs every second (30 times the default
rate); the figure is the job's slowdown scaled to the default 30 s interval,
next to the sampler's own CPU time per sample.

    python benchmarks/telemetry_overhead.py [--work 30000000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from computenet.telemetry import procs

SUPERVISOR = """
import subprocess, sys
sys.exit(subprocess.call([sys.executable, '-c', sys.argv[1]]))
"""
BURN = """
import time
t0 = time.process_time(); w0 = time.time()
x = 0
for i in range({work}):
    x += i * i
print(time.process_time() - t0, time.time() - w0)
"""


def run_job(work: int, cpu: int, jobs_dir: Path, sample_every_s: float | None) -> dict[str, float]:
    job = jobs_dir / "1"
    job.mkdir(parents=True, exist_ok=True)
    for name in ("running.json", "status.json"):
        (job / name).unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, BURN.format(work=work)],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    ticks = procs._start_ticks(proc.pid)
    (job / "running.json").write_text(
        json.dumps({"supervisor_pid": proc.pid, "supervisor_ticks": ticks})
    )
    samples, sampler_cpu = 0, 0.0
    while proc.poll() is None:
        if sample_every_s is None:
            time.sleep(0.05)
            continue
        c0 = time.process_time()
        procs.sample_jobs(jobs_dir, ["1"])
        sampler_cpu += time.process_time() - c0
        samples += 1
        time.sleep(sample_every_s)
    out, _ = proc.communicate()
    job_cpu, job_wall = (float(x) for x in out.split())
    return {"cpu_s": job_cpu, "wall_s": job_wall, "samples": samples, "sampler_cpu_s": sampler_cpu}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=int, default=30_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--every", type=float, default=1.0, help="sampling interval of the test (s)")
    args = ap.parse_args()
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    jobs_dir = Path(tempfile.mkdtemp(prefix="cn-overhead-")) / "jobs"
    without, with_ = [], []
    for _ in range(args.rounds):  # alternate so machine load hits both alike
        without.append(run_job(args.work, cpu, jobs_dir, None))
        with_.append(run_job(args.work, cpu, jobs_dir, args.every))
    base = min(r["wall_s"] for r in without)
    sampled = min(r["wall_s"] for r in with_)
    per_sample = sum(r["sampler_cpu_s"] for r in with_) / max(1, sum(r["samples"] for r in with_))
    slowdown = max(0.0, sampled / base - 1)
    at_default = slowdown * args.every / 30.0
    cpu_share_default = per_sample / 30.0  # sampler CPU per second of a 1-CPU job
    print(
        f"job alone: wall {base:.2f} s (best of {args.rounds}); sampled every "
        f"{args.every:g} s on the same CPU: wall {sampled:.2f} s, slowdown {slowdown:.2%}"
    )
    print(
        f"sampler CPU per sample {per_sample * 1000:.2f} ms; at the 30 s default: "
        f"{cpu_share_default:.4%} of one CPU, slowdown {at_default:.4%}"
    )
    print(
        json.dumps(
            {
                "figure": "telemetry_overhead",
                "value": round(100 * at_default, 4),
                "unit": "% of the job's time at the 30 s interval",
                "baseline": "the same job without the sampler (wall s)",
                "baseline_value": round(base, 3),
                "ratio": round(sampled / base, 4),
                "goal": "< 1 %",
                "slowdown_at_test_interval_pct": round(100 * slowdown, 3),
                "test_interval_s": args.every,
                "sampler_cpu_ms_per_sample": round(per_sample * 1000, 3),
                "rounds": {"without": without, "with": with_},
            }
        )
    )


if __name__ == "__main__":
    main()
