"""Collection overhead on a running job: a CPU-bound job's time with and
without the process-tree sampler reading it.

The job (a fixed amount of pure-Python work under a supervisor-like parent,
with ``running.json`` as the embedded cluster writes it) and the sampler are
pinned to the same CPU, the worst case: every CPU cycle the sampler takes is
one the job does not get. The sampler runs every second (30 times the default
rate). The figure is the change of the job's own CPU time (median of the
rounds), next to the sampler's CPU time per sample and the job's wall time.

    python benchmarks/telemetry_overhead.py [--work 60000000] [--rounds 5] [--every 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    ap.add_argument("--work", type=int, default=60_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--every", type=float, default=1.0, help="sampling interval of the test (s)")
    args = ap.parse_args()
    cpu = sorted(os.sched_getaffinity(0))[-1]
    os.sched_setaffinity(0, {cpu})
    jobs_dir = Path(tempfile.mkdtemp(prefix="cn-overhead-")) / "jobs"
    without, with_ = [], []
    for _ in range(args.rounds):  # alternate so machine load hits both alike
        without.append(run_job(args.work, cpu, jobs_dir, None))
        with_.append(run_job(args.work, cpu, jobs_dir, args.every))
    cpu_without = statistics.median(r["cpu_s"] for r in without)
    cpu_with = statistics.median(r["cpu_s"] for r in with_)
    wall_without = statistics.median(r["wall_s"] for r in without)
    wall_with = statistics.median(r["wall_s"] for r in with_)
    per_sample = sum(r["sampler_cpu_s"] for r in with_) / max(1, sum(r["samples"] for r in with_))
    cpu_change = cpu_with / cpu_without - 1
    print(
        f"job CPU time (median of {args.rounds}): {cpu_without:.3f} s alone, {cpu_with:.3f} s "
        f"sampled every {args.every:g} s on the same CPU: {cpu_change:+.2%}"
    )
    print(
        f"job wall time: {wall_without:.2f} s alone, {wall_with:.2f} s sampled "
        f"({wall_with / wall_without - 1:+.2%}; includes other load on the machine)"
    )
    print(
        f"sampler CPU per sample {per_sample * 1000:.2f} ms: at the 30 s default "
        f"{per_sample / 30:.4%} of one CPU"
    )
    print(
        json.dumps(
            {
                "figure": "telemetry_overhead",
                "value": round(100 * cpu_change, 3),  # signed: machine noise is a few %
                "unit": f"% job CPU time change, sampled every {args.every:g} s",
                "baseline": "the same job's CPU time without the sampler (s)",
                "baseline_value": round(cpu_without, 3),
                "ratio": round(cpu_with / cpu_without, 4),
                "goal": "< 1 %",
                "sampler_cpu_ms_per_sample": round(per_sample * 1000, 3),
                "sampler_cpu_share_at_30s_pct": round(100 * per_sample / 30, 5),
                "wall_change_pct": round(100 * (wall_with / wall_without - 1), 2),
                "rounds": {"without": without, "with": with_},
            }
        )
    )


if __name__ == "__main__":
    main()
