"""Admission control: does one user flooding the server slow everybody else?

One computenet server process at a time (as in benchmarks/load_mix.py: a
seeded SQLite store, a fake cluster) takes ``--clients`` polite clients
(``--users`` tokens, the load mix, a pause of mean ``--think-s``) and one
flooding user: ``--flood`` connections with one token listing jobs back to
back, ignoring every 429. Twice, in the same run:

- admission control off (``CN_REQUEST_RATE_PER_S=0``): the baseline;
- on, at ``--rate`` requests a second with bursts of ``--burst`` per user
  (above what each polite user sends, far below the flood).

Reports the polite clients' p99 latency in each, and what the flood got
(served, refused). The figure is the p99 with admission control over the
p99 without: below 1 means the flood no longer slows the others.

    python benchmarks/admission_fairness.py [--duration-s 60]

Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
from load_mix import Stats, _pct, computenet_server, one_client, seed

GOAL = "< 1 (the flood costs the others less with admission control on)"


async def flood(url: str, token: str, stop_at: float, counts: Counter[int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx2.AsyncClient(base_url=url + "/api/v1", headers=headers, timeout=60) as http:
        while time.monotonic() < stop_at:
            try:
                resp = await http.get("/jobs", params={"limit": 100, "all": "true"})
                counts[resp.status_code] += 1
            except httpx2.HTTPError:
                counts[0] += 1


async def drive(url: str, polite: list[str], greedy: str, args: argparse.Namespace) -> Any:
    stats = Stats()
    counts: Counter[int] = Counter()
    stop_at = time.monotonic() + args.duration_s
    clients = [
        one_client(
            url,
            polite[i % len(polite)],
            stop_at,
            args.think_s,
            random.Random(args.seed + i),
            stats,
            args.jobs,
        )
        for i in range(args.clients)
    ]
    floods = [flood(url, greedy, stop_at, counts) for _ in range(args.flood)]
    await asyncio.gather(*clients, *floods)
    return stats, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=40)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--flood", type=int, default=16, help="the flooding user's connections")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--think-s", type=float, default=5.0)
    parser.add_argument("--rate", type=float, default=5.0)
    parser.add_argument("--burst", type=int, default=10)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    if not (1 <= args.users <= args.clients <= 1000 and 1 <= args.flood <= 200):
        parser.error("--users 1..clients, --clients up to 1000, --flood 1..200")
    if not (1 <= args.duration_s <= 3600 and args.think_s > 0 and args.jobs >= 1):
        parser.error("--duration-s 1..3600, --think-s > 0, --jobs >= 1")
    root = Path(tempfile.mkdtemp(prefix="cn-load-fair-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        tokens = seed(f"sqlite:///{root / 'seed.db'}", args.jobs, args.users + 1, random.Random(1))
        *polite, greedy = list(tokens)
        for name, rate in (("off", "0"), ("on", str(args.rate))):
            where = root / name
            where.mkdir()
            shutil.copy(root / "seed.db", where / "store.db")
            settings = {"CN_REQUEST_RATE_PER_S": rate, "CN_REQUEST_BURST": str(args.burst)}
            with computenet_server(where, where / "store.db", settings) as server:
                stats, counts = asyncio.run(drive(server.url, polite, greedy, args))
            every = [x for v in stats.latencies.values() for x in v]
            results[name] = {
                "polite_requests": len(every),
                "polite_errors": sum(stats.errors.values()),
                "polite_p50_ms": round(_pct(every, 0.5) * 1e3, 1),
                "polite_p99_ms": round(_pct(every, 0.99) * 1e3, 1),
                "flood_answers": {str(k): v for k, v in sorted(counts.items())},
                "error_examples": stats.examples,
            }
            print(f"admission {name}: {json.dumps(results[name])}", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    on, off = results["on"], results["off"]
    print(
        json.dumps(
            {
                "figure": "admission_polite_p99_under_flood",
                "value": on["polite_p99_ms"],
                "unit": "ms (p99 of the polite clients' requests)",
                "baseline": "the same load and flood with admission control off, same run",
                "baseline_value": off["polite_p99_ms"],
                "ratio": round(on["polite_p99_ms"] / off["polite_p99_ms"], 2),
                "goal": GOAL,
                "polite_errors": on["polite_errors"],
            }
        )
    )


if __name__ == "__main__":
    main()
