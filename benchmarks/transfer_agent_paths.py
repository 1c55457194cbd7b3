"""One file to an agent through each of its data paths, in the same run: the bulk
listener (threads, blocking TLS sockets) against the control listener's event loop
(uvicorn, where every chunk went before), and the plain data listener.

The copy runs in this process (the copy engine, as the server runs it), so the
figure is the data path alone, without ``cnet cp``'s hand-over; besides wall
time it gives the CPU seconds per GiB of this process and of the agent, which a
loaded machine disturbs less than wall time.

Run: BENCH_REPS=N [BENCH_PARALLEL=4] python benchmarks/transfer_agent_paths.py [SIZE_MIB]
(default 1024 MiB; BENCH_PARALLEL: streams per copy, as ``cnet cp --parallel``)
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from transfer_floor import make_file
from transfer_setup import MIB, load_average, wait_port

from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint

#: streams per copy (``cnet cp --parallel``)
PARALLEL = int(os.environ.get("BENCH_PARALLEL", "4"))
PATHS = ("bulk listener (TLS, threads)", "control listener (TLS, event loop)", "plain (threads)")


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_self() -> float:
    t = os.times()
    return t.user + t.system


def _start_agent(base: Path) -> tuple[subprocess.Popen[bytes], dict[str, str]]:
    root, info_file = base / "root", base / "agent.json"
    root.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "computenet.cli.main",
            "agent",
            "--root",
            str(root),
            "--listen",
            "127.0.0.1:0",
            "--data-listen",
            "127.0.0.1:0",
            "--info-file",
            str(info_file),
        ]
    )
    while not info_file.exists():
        time.sleep(0.05)
    info = json.loads(info_file.read_text())
    wait_port(int(info["url"].rsplit(":", 1)[1]), proc)
    return proc, info


def _endpoint(info: dict[str, str], path: str) -> AgentEndpoint:
    if path == PATHS[1]:
        info = {k: v for k, v in info.items() if k != "bulk_url"}
    access = AgentAccess.from_dict(info)
    return AgentEndpoint(access, parallel=PARALLEL, integrity_only=path == PATHS[2])


async def _one(
    src: Path, info: dict[str, str], path: str, agent_pid: int, root: Path
) -> tuple[float, float, float]:
    """(wall s, this process's CPU s, the agent's CPU s) of one copy."""
    (root / "big.bin").unlink(missing_ok=True)
    subprocess.run(["sync"], check=True)
    async with _endpoint(info, path) as site, LocalEndpoint() as local:
        await site.stat(".")  # connect and pin outside the timing
        before = (time.monotonic(), _cpu_self(), _cpu_of(agent_pid))
        await copy(local, str(src), site, "big.bin", CopyOptions(parallel=PARALLEL))
        after = (time.monotonic(), _cpu_self(), _cpu_of(agent_pid))
    wall, mine, agent = (b - a for a, b in zip(before, after, strict=True))
    return wall, mine, agent


def main() -> None:
    size = int(sys.argv[1]) * MIB if len(sys.argv) > 1 else 1024 * MIB
    reps = int(os.environ.get("BENCH_REPS", "3"))
    base = Path(tempfile.mkdtemp(prefix="cnet-bench-", dir=os.environ.get("BENCH_DIR")))
    proc, info = _start_agent(base)
    try:
        src = base / "big.bin"
        make_file(src, size)
        print(f"load average before: {load_average()} (2 cores)", flush=True)
        samples: dict[str, list[tuple[float, float, float]]] = {p: [] for p in PATHS}
        for _ in range(reps):  # interleaved: a burst of load hits every path
            for path in PATHS:
                samples[path].append(asyncio.run(_one(src, info, path, proc.pid, base / "root")))
        print(f"load average after: {load_average()}", flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(base, ignore_errors=True)
    gib = size / 2**30
    rows = {}
    for path, runs in samples.items():
        wall = statistics.median(r[0] for r in runs)
        rows[path] = {
            "MB_per_s": round(size / wall / 1e6),
            "rounds_s": [round(r[0], 2) for r in runs],
            "client_cpu_s_per_GiB": round(statistics.median(r[1] for r in runs) / gib, 2),
            "agent_cpu_s_per_GiB": round(statistics.median(r[2] for r in runs) / gib, 2),
        }
        print(f"{path:38s} {json.dumps(rows[path])}", flush=True)
    bulk, control = rows[PATHS[0]], rows[PATHS[1]]
    print(
        json.dumps(
            {
                "figure": "transfer_agent_paths",
                "value": bulk["MB_per_s"],
                "unit": "MB/s",
                "baseline": "control listener (event loop)",
                "baseline_value": control["MB_per_s"],
                "ratio": round(bulk["MB_per_s"] / control["MB_per_s"], 2),
                "goal": "the bulk listener beats the event loop it replaced (> 1)",
                "bytes": size,
                "parallel": PARALLEL,
                "paths": rows,
                "load_average": load_average(),
            }
        )
    )


if __name__ == "__main__":
    main()
