"""HPL on this machine's embedded cluster: sustained GFLOPS against the derived peak.

Starts a private local server (default configuration: embedded clusters
local-a and local-b), runs `cnet bench run hpl` on local-a as a user would
(an ordinary job: Debian's hpcc under OpenMPI), and reports the figure
against the allocation's derived peak (CPUs x clock x FLOPs per cycle,
capped at this host). The efficiency is a fact to record, not a target.

    python benchmarks/hpl_embedded.py [--n 4000] [--ntasks 2]

Needs hpcc and mpirun; without them it says so and prints value null.
Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local import private_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4000)
    parser.add_argument("--ntasks", type=int, default=2)
    args = parser.parse_args()
    line = {
        "figure": "hpl_embedded_gflops",
        "value": None,
        "unit": "GFLOPS",
        "baseline": "derived peak of the allocation",
        "baseline_value": None,
        "ratio": None,
        "goal": "a fact to record (efficiency = ratio)",
    }
    if shutil.which("hpcc") is None or shutil.which("mpirun") is None:
        print("hpcc or mpirun is not installed: nothing to measure")
        print(json.dumps(line))
        return
    with private_server() as env:
        out = subprocess.run(
            [
                sys.executable, "-m", "computenet.cli.main", "bench", "run", "hpl",
                "--cluster", "local-a", "-p", f"n={args.n}", f"--ntasks={args.ntasks}",
                "--time=30", "--wait", "--json",
            ],
            env=env, capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
    run = json.loads(out.stdout)
    print(
        f"HPL N={args.n} on {run.get('cluster')}/{run.get('partition')}, {run.get('cpus')} CPUs: "
        f"{run.get('figure_text')}; derived peak {run.get('peak_gflops')} GFLOPS; "
        f"state {run.get('state')} {run.get('error') or ''}"
    )
    line.update(
        value=run.get("value"),
        baseline_value=run.get("peak_gflops"),
        ratio=None if run.get("efficiency") is None else round(run["efficiency"], 4),
        n=args.n,
        ntasks=args.ntasks,
        node_type=run.get("node_type"),
        state=run.get("state"),
    )
    print(json.dumps(line))


if __name__ == "__main__":
    main()
