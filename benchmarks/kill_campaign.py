"""Kill campaign: the server killed with SIGKILL at seeded moments while
1,000 mixed jobs flow over an embedded cluster and a real Slurm cluster,
on SQLite and on PostgreSQL. Counts the accepted jobs lost or run twice.

    python benchmarks/kill_campaign.py [--jobs 1000] [--kills 20] [--seed 20]
                                       [--databases sqlite,postgresql] [--no-slurm]

Sets up everything in a temporary directory: one dev Slurm cluster
(scripts/dev-slurm, 3 nodes x 4 CPUs), a private PostgreSQL server, and a
server process per database (``python -m computenet.api.serve``) that is
killed and restarted. The workload and the checks are
``tests/support/kill_campaign.py``: plain, failing, array, dependent,
staged, hedged and multi-node jobs; every run of a job's script writes a
ledger line, so a job run twice is seen in what ran, not in what the server
says. Prints one JSON line per database, then the benchmark JSON (jobs lost
or duplicated over both databases; the baseline is the jobs accepted).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.integration.slurm.test_kill_campaign import campaign_clusters  # noqa: E402
from tests.support import kill_campaign  # noqa: E402
from tests.support.postgres import pg_bin, private_postgres  # noqa: E402

DEV_SLURM = REPO / "scripts" / "dev-slurm"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--no-slurm", action="store_true")
    parser.add_argument("--port-base", type=int, default=24100, help="dev Slurm ports")
    args = parser.parse_args()
    databases = [d.strip() for d in args.databases.split(",") if d.strip()]
    root = Path(tempfile.mkdtemp(prefix="cn-bench-kill-"))
    root.chmod(0o711)  # munged needs every parent of its socket searchable
    reports = []
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, root, True)
        slurm_conf = None
        if not args.no_slurm and shutil.which("slurmctld"):
            argv = [str(DEV_SLURM), "start", "--dir", str(root / "slurm"), "--clusters", "1"]
            out = subprocess.run(
                [*argv, "--prefix", "kc", "--port-base", str(args.port_base)],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if out.returncode != 0:
                raise SystemExit(f"scripts/dev-slurm start failed: {out.stderr.strip()}")
            stack.callback(
                subprocess.run,
                [str(DEV_SLURM), "stop", "--dir", str(root / "slurm")],
                timeout=120,
                check=False,
            )
            slurm_conf = out.stdout.strip().splitlines()[0]
        for db in databases:
            if db == "sqlite":
                url = f"sqlite:///{root / 'sqlite' / 'campaign.db'}"
            elif db == "postgresql" and pg_bin() is not None:
                url = stack.enter_context(private_postgres()).url
            else:
                print(json.dumps({"database": db, "skipped": "server binaries not installed"}))
                continue
            started = time.monotonic()
            report = kill_campaign.run(
                root / db,
                database_url=url,
                clusters=campaign_clusters(slurm_conf, "kc1"),
                jobs=args.jobs,
                kills=args.kills,
                seed=args.seed,
                timeout_s=1800,
            )
            print(json.dumps({**report.summary(), "wall_s": round(time.monotonic() - started, 1)}))
            reports.append(report)
    value = sum(r.lost_or_duplicated for r in reports)
    accepted = sum(r.accepted_jobs for r in reports)
    print(
        json.dumps(
            {
                "figure": "jobs lost or duplicated",
                "value": value,
                "unit": "jobs",
                "baseline": "jobs accepted in the same run",
                "baseline_value": accepted,
                "ratio": round(value / accepted, 6) if accepted else None,
                "goal": 0,
                "kills": sum(r.kills for r in reports),
                "databases": [r.database for r in reports],
                "clusters": ["embedded"] + (["slurm"] if slurm_conf else []),
                "other_problems": sum(len(r.problems) for r in reports) - value,
            }
        )
    )
    return 0 if value == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
