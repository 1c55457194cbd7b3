"""Each main portal page costs at most 2x the same data fetched through the REST API.

A private server (a subprocess: uvicorn over a runtime) with 20 fake
clusters, 50 users in 10 projects and 10,000 jobs (9,500 held, 500 run to
the end, so placements, events and usage exist). For each page, signed in
as the administrator (who sees every job): the time of one page request
(session cookie; the page calls the API in-process and renders HTML)
against the time of the REST calls that fetch the same data, made by an SDK
client over loopback with the administrator's token, in the same run,
alternating in blocks so load on the machine falls on both alike. The figure
is the worst page's ratio of mean times.

    python benchmarks/portal_pages.py [--rounds 40] [--block 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

TOKEN = "cn_bench_portal_admin_token"
PASSWORD = "bench password 1"
CLUSTERS, USERS, PROJECTS, JOBS, RUN = 20, 50, 10, 10_000, 500
JOB_FIELDS = (
    "id,display_id,name,owner,project,state,reason,cluster,partition,"
    "submit_time,start_time,end_time,cpus,gpus"
)


def serve(root: Path, port_file: Path) -> None:
    """The server process: uvicorn on a free loopback port over fake clusters."""
    import socket

    import uvicorn

    from computenet.api.app import create_app
    from computenet.config import ClusterConfig, PartitionConfig, Settings
    from computenet.core.runtime import Runtime

    clusters = [
        ClusterConfig(
            name=f"c{i:02d}",
            kind="fake",
            partitions=[
                PartitionConfig(
                    name="cpu", nodes=4, cores=16, default=True, price_per_core_hour=0.01 + i / 1000
                )
            ],
        )
        for i in range(CLUSTERS)
    ]
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=clusters,
        token=TOKEN,
        user="admin",
        max_bulk_jobs=JOBS,
    )
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port_file.write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(create_app(Runtime(settings)), log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])


def populate(url: str) -> None:
    from computenet.client import Client

    with Client(url, TOKEN) as admin:
        admin.set_password("admin", PASSWORD)
        tokens = []
        for u in range(USERS):
            project = f"p{u % PROJECTS}"
            tokens.append(admin.add_user(f"u{u:02d}", project=project)["token"])
        per_user = JOBS // USERS
        runs = RUN // USERS
        for token in tokens:
            jobs = [
                {
                    "script": "#!/bin/sh\nsleep 1\n",
                    "options": ["-n", "4", "--time=10", "-J", f"run{i}"],
                }
                for i in range(runs)
            ] + [
                {"script": "#!/bin/sh\nsleep 60\n", "options": ["-n", "2", "-H", "-J", f"held{i}"]}
                for i in range(per_user - runs)
            ]
            with Client(url, token) as user:
                user.submit_many(jobs)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = sum(1 for _ in admin.jobs(all_users=True, state="COMPLETED", fields=("id",)))
            if done >= RUN:
                break
            time.sleep(1)
        sys.stderr.write(f"{done} of {RUN} runs completed\n")


def sign_in(url: str) -> httpx2.Client:
    browser = httpx2.Client(base_url=url, follow_redirects=False, timeout=60)
    form = browser.get("/portal/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    resp = browser.post(
        "/portal/login", data={"username": "admin", "password": PASSWORD, "csrf": csrf.group(1)}
    )
    assert resp.status_code == 303, resp.text
    return browser


def pages(url: str, job_id: str) -> dict[str, tuple[str, Callable[[Any], None]]]:
    """page name -> (its path, the REST calls that fetch what it shows)."""

    def dashboard(c: Any) -> None:
        c.whoami()
        c.utilization(by="day", since="-7d")
        c.waits(by="day", since="-7d")
        c.get("/jobs", {"state": "RUNNING", "limit": 50, "order": "desc"})
        c.clusters()
        c.budgets()

    def jobs(c: Any) -> None:
        c.whoami()
        c.get(
            "/jobs",
            {"all": True, "all_users": True, "limit": 100, "order": "desc", "fields": JOB_FIELDS},
        )
        c.clusters()

    def job(c: Any) -> None:
        c.whoami()
        c.job(job_id)
        c.placement(job_id)
        c.events(job_id)
        c.diagnosis(job_id)
        c.get(f"/jobs/{job_id}/logs", {"stream": "stdout", "limit": 1 << 20})

    def app(c: Any) -> None:
        c.whoami()
        c.app("lammps")

    def usage(c: Any) -> None:
        c.whoami()
        c.usage()
        c.projects()

    return {
        "dashboard": ("/portal/", dashboard),
        "jobs": ("/portal/jobs?scope=all&finished=1", jobs),
        "job": (f"/portal/jobs/{job_id}", job),
        "catalogue form": ("/portal/apps/lammps", app),
        "usage": ("/portal/usage", usage),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40, help="requests of each kind per page")
    parser.add_argument("--block", type=int, default=10)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve), Path(args.serve) / "port")
        return
    from computenet.client import Client

    root = Path(tempfile.mkdtemp(prefix="cn-bench-portal-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CN_")}
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(root)], env=env, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while not (root / "port").exists() or not (root / "port").read_text():
            assert time.monotonic() < deadline and proc.poll() is None, "server did not start"
            time.sleep(0.1)
        url = f"http://127.0.0.1:{(root / 'port').read_text()}"
        while True:
            try:
                httpx2.get(url + "/healthz", timeout=2)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "server did not answer"
                time.sleep(0.1)
        populate(url)
        browser = sign_in(url)
        rest = Client(url, TOKEN)
        done = next(rest.jobs(all_users=True, state="COMPLETED", fields=("id",)))
        results = {}
        for name, (path, calls) in pages(url, str(done["id"])).items():
            for _ in range(5):  # warm up
                assert browser.get(path).status_code == 200
                calls(rest)
            spent = {"page": 0.0, "rest": 0.0}
            left = args.rounds
            while left:
                n = min(args.block, left)
                start = time.perf_counter()
                for _ in range(n):
                    browser.get(path)
                spent["page"] += time.perf_counter() - start
                start = time.perf_counter()
                for _ in range(n):
                    calls(rest)
                spent["rest"] += time.perf_counter() - start
                left -= n
            page_ms = 1000 * spent["page"] / args.rounds
            rest_ms = 1000 * spent["rest"] / args.rounds
            results[name] = (page_ms, rest_ms)
            sys.stderr.write(
                f"{name:15s} page {page_ms:8.2f} ms  REST {rest_ms:8.2f} ms  "
                f"ratio {page_ms / rest_ms:.2f}\n"
            )
        browser.close()
        rest.close()
    finally:
        proc.terminate()
        proc.wait(10)
    worst = max(results, key=lambda k: results[k][0] / results[k][1])
    page_ms, rest_ms = results[worst]
    sys.stderr.write(f"load {os.getloadavg()[0]:.2f}; worst page: {worst}\n")
    print(
        json.dumps(
            {
                "figure": "portal_page_cost",
                "value": round(page_ms / rest_ms, 3),
                "unit": f"x REST time for the same data (worst page: {worst})",
                "baseline": "SDK REST calls for the page's data, same server, same run",
                "baseline_value": round(rest_ms, 3),
                "ratio": round(page_ms / rest_ms, 3),
                "goal": "<= 2",
            }
        )
    )


if __name__ == "__main__":
    main()
