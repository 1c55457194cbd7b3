"""A catalogue run costs no more than 1.5x a plain submission of the same script.

Sequential submissions through the SDK to one private local server, in the
same run: ``run_app("lammps", ...)`` (check the values, render the template,
then the submission path) against ``submit(script=...)`` of the very script
that run renders. Both are held (--hold) so running them does not compete
with the measurement; the two kinds alternate in blocks so that load on the
machine falls on both alike. The figure is the ratio of the mean time per
submission (app / plain).

    python benchmarks/apps_submit.py [--jobs 1000] [--block 50]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _local import private_server

from computenet.client import Client
from computenet.client.local import resolve_address
from computenet.config import load_settings

PARAMS = {"size": 12, "steps": 500, "temperature": 1.5}
OPTIONS = ["--hold", "--ntasks=2", "--time=5"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000, help="submissions of each kind")
    parser.add_argument("--block", type=int, default=50)
    args = parser.parse_args()
    with private_server() as env:
        os.environ.update(env)
        address = resolve_address(start=False, settings=load_settings())
        with Client(address.url, address.token, socket_path=address.socket) as cn:
            script = cn.run_app("lammps", PARAMS, options=OPTIONS, test_only=True)["script"]

            def app() -> None:
                cn.run_app("lammps", PARAMS, options=OPTIONS, cwd="/tmp")

            def plain() -> None:
                cn.submit(script=script, options=OPTIONS, cwd="/tmp")

            for _ in range(20):  # warm up connections, caches and the template
                app()
                plain()
            spent = {"app": 0.0, "plain": 0.0}
            done = 0
            while done < args.jobs:
                n = min(args.block, args.jobs - done)
                for kind, fn in (("plain", plain), ("app", app)):
                    start = time.perf_counter()
                    for _ in range(n):
                        fn()
                    spent[kind] += time.perf_counter() - start
                done += n
            stored = sum(1 for _ in cn.jobs(state="PENDING", fields=("id",)))
    app_ms = 1000 * spent["app"] / args.jobs
    plain_ms = 1000 * spent["plain"] / args.jobs
    sys.stderr.write(
        f"{args.jobs} of each: app {app_ms:.2f} ms, plain {plain_ms:.2f} ms per submission; "
        f"{stored} jobs stored; load {os.getloadavg()[0]:.2f}\n"
    )
    print(
        json.dumps(
            {
                "figure": "apps_submit_overhead",
                "value": round(app_ms / plain_ms, 3),
                "unit": "x plain submission time",
                "baseline": "plain SDK submit of the same rendered script, same server, same run",
                "baseline_value": round(plain_ms, 3),
                "ratio": round(app_ms / plain_ms, 3),
                "goal": "<= 1.5",
            }
        )
    )


if __name__ == "__main__":
    main()
