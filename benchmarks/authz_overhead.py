"""What authorisation costs a request: a cached caller against no check at all.

One real server (uvicorn in a thread, fake clusters, SQLite) answers, in
turns over one keep-alive loopback connection:

- ``GET /healthz``: no token, no rule (the baseline);
- ``GET /api/v1/whoami`` as a member of a project: the rule table, the
  token's caller from the per-server cache, the scope check;
- the same with ``auth_cache_ttl_s = 0`` on a second server: the caller is
  read from the database on every request (what the cache saves).

Reports the median per-request time of each over ``--requests`` calls and
the cached check's ratio to the baseline (goal: at most 1.5x).

    python benchmarks/authz_overhead.py [--requests 3000]

Last line: one JSON object (figure, value, unit, baseline, ...).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx2

from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.core.runtime import Runtime
from tests.support.live import LiveServer

ADMIN = "cn_bench_admin_token"
GOAL = 1.5


def _server(root: Path, ttl_s: float) -> LiveServer:
    cluster = ClusterConfig(
        name="alpha", kind="fake", partitions=[PartitionConfig(name="cpu", default=True)]
    )
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=[cluster],
        token=ADMIN,
        user="admin",
        auth_cache_ttl_s=ttl_s,
    )
    return LiveServer(Runtime(settings))


def _median_us(http: httpx2.Client, path: str, headers: dict[str, str], n: int) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        resp = http.get(path, headers=headers)
        times.append(time.perf_counter() - start)
        assert resp.status_code == 200, resp.text
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="cn-bench-authz-"))
    cached = _server(root / "cached", 5.0)
    uncached = _server(root / "uncached", 0.0)
    try:
        figures = {}
        for name, server in (("cached", cached), ("uncached", uncached)):
            with server.client(ADMIN) as admin:
                token = admin.add_user("alice", project="chem")["token"]
            member = {"Authorization": f"Bearer {token}"}
            with httpx2.Client(base_url=server.url, timeout=30) as http:
                for _ in range(200):  # warm up the connection and the caches
                    http.get("/healthz")
                    http.get("/api/v1/whoami", headers=member)
                figures[f"{name}_healthz"] = _median_us(http, "/healthz", {}, args.requests)
                figures[name] = _median_us(http, "/api/v1/whoami", member, args.requests)
    finally:
        cached.stop()
        uncached.stop()
    base = figures["cached_healthz"]
    print(
        json.dumps(
            {
                "figure": "authz_uncached_whoami_us",
                "value": round(figures["uncached"], 1),
                "unit": "us/request",
                "baseline": "GET /healthz on the same server, same run",
                "baseline_value": round(figures["uncached_healthz"], 1),
                "ratio": round(figures["uncached"] / figures["uncached_healthz"], 2),
                "goal": "none (what the cache saves)",
            }
        )
    )
    print(
        json.dumps(
            {
                "figure": "authz_cached_whoami_us",
                "value": round(figures["cached"], 1),
                "unit": "us/request",
                "baseline": "GET /healthz (no token, no rule) on the same server, same run",
                "baseline_value": round(base, 1),
                "ratio": round(figures["cached"] / base, 2),
                "goal": f"<= {GOAL}x the baseline",
            }
        )
    )


if __name__ == "__main__":
    main()
