"""The embedded process-tree sampler on real processes."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from computenet.telemetry import procs

BURN = "import time\nend=time.time()+30\nwhile time.time()<end: pass\n"
PARENT = (
    "import subprocess,sys,time\n"
    f"p=subprocess.Popen([sys.executable,'-c',{BURN!r}])\n"
    "time.sleep(60)\n"
)


def test_tree_cpu_rss_threads(tmp_path: Path) -> None:
    sup = subprocess.Popen([sys.executable, "-c", PARENT])
    try:
        job = tmp_path / "jobs" / "7"
        job.mkdir(parents=True)
        ticks = procs._start_ticks(sup.pid)
        (job / "running.json").write_text(
            json.dumps({"supervisor_pid": sup.pid, "supervisor_ticks": ticks})
        )
        time.sleep(1.0)
        first = procs.sample_jobs(tmp_path / "jobs", ["7", "8", "x"])
        time.sleep(1.0)
        second = procs.sample_jobs(tmp_path / "jobs", ["7"])
        assert set(first) == {"7"}
        a, b = first["7"], second["7"]
        assert a.cpu_time_s is not None and b.cpu_time_s is not None
        assert b.cpu_time_s > a.cpu_time_s > 0  # the grandchild burns CPU time
        assert (
            a.rss_bytes and a.rss_bytes > 1 << 20 and a.threads == 1
        )  # the burner alone: the supervisor is not the job
        # a reused pid (other start time) is not the job
        (job / "running.json").write_text(
            json.dumps({"supervisor_pid": sup.pid, "supervisor_ticks": (ticks or 0) + 1})
        )
        assert procs.sample_jobs(tmp_path / "jobs", ["7"]) == {}
        # an ended job is left to the cluster's usage report
        (job / "status.json").write_text("{}")
        assert procs.sample_jobs(tmp_path / "jobs", ["7"]) == {}
    finally:
        for p in __import__("psutil").Process(sup.pid).children(recursive=True):
            p.kill()
        sup.kill()
        sup.wait()
