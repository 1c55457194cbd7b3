"""Load: many clients submitting, listing, tailing logs and cancelling against
a server holding 100,000 jobs, against a plain FastAPI app as the baseline.

Sets up, in a private directory under /tmp:

- a SQLite store seeded through the store layer (bulk inserts, not the API)
  with ``--jobs`` finished jobs (each with one attempt) of ``--users`` users,
  copied once per server so both start from the same database;
- a computenet server process (``python -m computenet.api.serve``: the
  controller, telemetry and accounting run as in production) over a
  ``fake`` cluster with room for every job, so the figure is the control
  plane's and not a cluster's;
- the plain app of benchmarks/_plain_app.py over the other copy.

Against each in turn, ``--clients`` asyncio clients (one connection each,
loopback only; ``--users`` tokens shared among them) run the mix for
``--duration-s``: submit (a job printing two lines 20 s apart), list (the
active jobs, or a page of 100 of all jobs from a random cursor), tail the
log of one of their jobs, cancel one; each pauses a random time of mean
``--think-s`` between requests. Reported: p50/p99 latency per endpoint,
errors (any answer but 2xx, and any transport error), the server's RSS at
the start and the end of the load.

    python benchmarks/load_mix.py [--duration-s 600] [--clients 200] [--jobs 100000]

Last line: one JSON object, the overall p99 latency against the plain
app's in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import Table, insert, update

from computenet.accounting import ledger
from computenet.accounting.prices import PriceTable
from computenet.core.service import SubmitInput, parse
from computenet.model import JobState
from computenet.store import jobs as repo
from computenet.store import users as user_repo
from computenet.store.db import Store
from computenet.store.tables import AttemptRow, JobRow

REPO = Path(__file__).resolve().parents[1]
#: overall p99 at most this many times the plain app's, with no errors
GOAL_RATIO = 3.0
#: the server's RSS may grow at most this much over the run (MiB)
RSS_BOUND_MIB = 100
ADMIN_TOKEN = "cn_load_admin_token"
OPS = ("list", "logs", "submit", "cancel")
WEIGHTS = (35, 35, 20, 10)
SCRIPT = "echo started; sleep 20; echo done"
SEED_BATCH = 5000


# ----- the store ------------------------------------------------------------------
def seed(url: str, jobs: int, users: int, rng: random.Random) -> dict[str, str]:
    """``jobs`` finished jobs with one attempt and its usage record each,
    owned round-robin by ``users`` users of project ``load``; returns token
    -> user."""
    store = Store(url)
    store.migrate()
    now = time.time()
    tokens = {}
    with store.session() as s:
        for i in range(users):
            name = f"user{i:02d}"
            tokens[user_repo.add_user(s, name, now=now, project="load")] = name
    specs = [
        parse(
            SubmitInput(script=None, options=opts, cwd="/tmp"),
            max_script_bytes=1 << 20,
            max_array_size=1,
        )
        for opts in (
            ["--wrap", "echo hello", "-n", "1", "--time=10"],
            ["--wrap", "srun ./simulate --steps 1000", "-N", "2", "-n", "8", "--time=2:00:00"],
            ["--wrap", "python train.py", "-n", "4", "--mem=8G", "--time=30"],
        )
    ]
    ends = [(JobState.COMPLETED, "0:0"), (JobState.FAILED, "1:0"), (JobState.CANCELLED, "0:15")]
    attempts = AttemptRow.__table__
    assert isinstance(attempts, Table)
    done = 0
    while done < jobs:
        count = min(SEED_BATCH, jobs - done)
        state, exit_code = ends[0]
        batch = []
        for i in range(done, done + count):
            state, exit_code = ends[0] if rng.random() < 0.8 else rng.choice(ends[1:])
            batch.append(repo.NewJob(specs[i % 3], f"user{i % users:02d}", "load", state))
        start = now - 86_400 * 30 * (1 - done / jobs)
        with store.session() as s:
            made = repo.insert_jobs(s, batch, start)
            ids = [j["id"] for j in made]
            s.execute(
                update(JobRow)
                .where(JobRow.id.in_(ids))
                .values(
                    cluster="alpha",
                    partition="cpu",
                    start_time=start + 60,
                    end_time=start + 600,
                    attempt_count=1,
                )
            )
            s.execute(
                insert(attempts),
                [
                    {
                        "job_id": j["id"],
                        "number": 1,
                        "cluster": "alpha",
                        "partition": "cpu",
                        "tag": f"cn-seed-{j['id']}-1",
                        "native_id": str(1_000_000 + j["id"]),
                        "state": j["state"],
                        "submit_time": start,
                        "start_time": start + 60,
                        "end_time": start + 600,
                        "exit_code": exit_code,
                    }
                    for j in made
                ],
            )
            # Their usage, as the accounting service of the server that ran them wrote it.
            pairs = ledger.unaccounted_attempts(s, job_ids=ids, limit=len(ids))
            ledger.record_attempts(s, pairs, PriceTable([]), now)
        done += count
    store.close()
    return tokens


# ----- the servers ------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str

    def rss_mib(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")


def _wait_for(server_file: Path, proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        if server_file.exists():
            url = str(json.loads(server_file.read_text())["url"])
            try:
                if httpx2.get(url + "/healthz", timeout=2).status_code == 200:
                    return url
            except httpx2.HTTPError:
                pass
        time.sleep(0.2)
    raise RuntimeError("server did not start in 120 s")


@contextmanager
def running(cmd: list[str], env: dict[str, str], root: Path) -> Iterator[Server]:
    server_file = root / "server.json"
    log = root / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [*cmd, "--server-file", str(server_file)], env=env, stdout=out, stderr=out
        )
    try:
        yield Server(proc, _wait_for(server_file, proc, log))
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def computenet_server(root: Path, db: Path, settings: dict[str, str] | None = None) -> Any:
    """The server over ``db``; ``settings``: more CN_* variables."""
    config = root / "config.toml"
    # Room for every job at once: 200 nodes x 64 cores.
    config.write_text(
        '[[clusters]]\nname = "alpha"\nkind = "fake"\n'
        '[[clusters.partitions]]\nname = "cpu"\nnodes = 200\ncores = 64\n'
        "max_time_s = 86400\ndefault = true\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CN_")}
    env.update(
        HOME=str(root),
        CN_CONFIG=str(config),
        CN_DATABASE_URL=f"sqlite:///{db}",
        CN_DATA_DIR=str(root / "data"),
        CN_STATE_DIR=str(root / "state"),
        CN_TOKEN=ADMIN_TOKEN,
        CN_USER="admin",
        **(settings or {}),
    )
    return running([sys.executable, "-m", "computenet.api.serve"], env, root)


def plain_server(root: Path, db: Path, tokens: dict[str, str]) -> Any:
    token_file = root / "tokens.json"
    token_file.write_text(json.dumps(tokens))
    cmd = [
        sys.executable,
        str(REPO / "benchmarks" / "_plain_app.py"),
        "--database",
        f"sqlite:///{db}",
        "--tokens",
        str(token_file),
    ]
    return running(cmd, dict(os.environ), root)


# ----- the clients -------------------------------------------------------------------
@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[str] = field(default_factory=list)
    #: (seconds, op, when it started in seconds since the phase began) of each request
    timeline: list[tuple[float, str, float]] = field(default_factory=list)
    began: float = field(default_factory=time.perf_counter)

    def record(self, op: str, seconds: float, error: str | None) -> None:
        self.latencies[op].append(seconds)
        self.timeline.append((seconds, op, time.perf_counter() - seconds - self.began))
        if error is not None:
            self.errors[op] += 1
            if len(self.examples) < 10:
                self.examples.append(f"{op}: {error}")


async def one_client(
    url: str,
    token: str,
    stop_at: float,
    think_s: float,
    rng: random.Random,
    stats: Stats,
    jobs: int,
    tls: ssl.SSLContext,
) -> None:
    mine: list[int] = []
    offsets: dict[int, int] = {}
    top = jobs
    headers = {"Authorization": f"Bearer {token}"}
    await asyncio.sleep(rng.uniform(0, think_s))
    async with httpx2.AsyncClient(
        base_url=url + "/api/v1", headers=headers, timeout=60, verify=tls
    ) as http:
        while time.monotonic() < stop_at:
            op = rng.choices(OPS, WEIGHTS)[0]
            if op in ("logs", "cancel") and not mine:
                op = "submit"
            job = rng.choice(mine[-5:]) if mine else 0
            if op == "submit":
                call = http.post(
                    "/jobs",
                    json={"options": ["--wrap", SCRIPT, "-n", "1", "--time=10"], "cwd": "/tmp"},
                )
            elif op == "list" and rng.random() < 0.5:
                call = http.get("/jobs", params={"limit": 100})
            elif op == "list":
                params = {"limit": 100, "all": "true", "cursor": rng.randrange(top)}
                call = http.get("/jobs", params=params)
            elif op == "logs":
                call = http.get(f"/jobs/{job}/logs", params={"offset": offsets.get(job, 0)})
            else:
                call = http.post(f"/jobs/{job}/cancel")
                mine.remove(job)
            start = time.perf_counter()
            error = None
            try:
                resp = await call
                if resp.status_code >= 300:
                    error = f"{resp.status_code} {resp.text[:200]}"
            except httpx2.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
            stats.record(op, time.perf_counter() - start, error)
            if error is None and op == "submit":
                mine.append(resp.json()["id"])
                top = max(top, mine[-1])
            elif error is None and op == "logs":
                offsets[job] = resp.json()["offset"]
            await asyncio.sleep(min(rng.expovariate(1 / think_s), 5 * think_s))


async def drive(url: str, tokens: list[str], args: argparse.Namespace) -> Stats:
    stats = Stats()
    # One TLS context for every client: a client of its own loads the CA
    # store (about 25 ms of this process's loop each), and 200 of them in the
    # first seconds stalled every request in flight on the client's side,
    # the crowd of slow requests at the start of both phases.
    tls = ssl.create_default_context()
    stop_at = time.monotonic() + args.duration_s
    await asyncio.gather(
        *(
            one_client(
                url,
                tokens[i % len(tokens)],
                stop_at,
                args.think_s,
                random.Random(args.seed + i),
                stats,
                max(args.jobs, 1),
                tls,
            )
            for i in range(args.clients)
        )
    )
    return stats


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _slowest(stats: Stats, p99_s: float) -> dict[str, Any]:
    """Where the slowest 1% of requests were: by endpoint, and by the 10 s of
    the phase they started in (a few crowded windows mean stalls, not load
    spread evenly), with the ten slowest."""
    slow = [t for t in stats.timeline if t[0] >= p99_s]
    by_op: dict[str, int] = defaultdict(int)
    by_window: dict[int, int] = defaultdict(int)
    for _, op, began in slow:
        by_op[op] += 1
        by_window[int(began // 10) * 10] += 1
    crowded = sorted(by_window.items(), key=lambda kv: -kv[1])[:5]
    return {
        "count": len(slow),
        "by_endpoint": dict(sorted(by_op.items())),
        "busiest_10s_windows": {f"{w}s": n for w, n in crowded},
        "ten": [
            {"ms": round(s * 1e3, 1), "op": op, "at_s": round(b, 1)}
            for s, op, b in sorted(slow, reverse=True)[:10]
        ],
    }


def run_phase(
    name: str, server: Server, tokens: list[str], args: argparse.Namespace
) -> dict[str, Any]:
    rss_start = server.rss_mib()
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:  # the RSS every 30 s, to tell a plateau from a climb
        while not done.wait(30):
            samples.append(round(server.rss_mib(), 1))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    stats = asyncio.run(drive(server.url, tokens, args))
    elapsed = time.monotonic() - started
    done.set()
    sampler.join()
    rss_end = server.rss_mib()
    every = [x for v in stats.latencies.values() for x in v]
    result = {
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "errors": sum(stats.errors.values()),
        "p50_ms": round(_pct(every, 0.50) * 1e3, 1),
        "p99_ms": round(_pct(every, 0.99) * 1e3, 1),
        "rss_start_mib": round(rss_start, 1),
        "rss_end_mib": round(rss_end, 1),
        "rss_every_30s_mib": samples,
        "endpoints": {
            op: {
                "requests": len(v),
                "p50_ms": round(_pct(v, 0.50) * 1e3, 1),
                "p99_ms": round(_pct(v, 0.99) * 1e3, 1),
                "errors": stats.errors.get(op, 0),
            }
            for op, v in sorted(stats.latencies.items())
        },
        "error_examples": stats.examples,
        "slowest": _slowest(stats, _pct(every, 0.99)),
    }
    print(f"{name}: {json.dumps(result)}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--think-s", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the directory (server logs)")
    parser.add_argument(
        "--server-setting",
        action="append",
        default=[],
        metavar="CN_NAME=VALUE",
        help="a setting for the computenet server (repeatable)",
    )
    parser.add_argument(
        "--phases",
        default="computenet,plain",
        help="which servers to load, in order (computenet alone: no ratio)",
    )
    args = parser.parse_args()
    if not (1 <= args.clients <= 2000 and 1 <= args.users <= args.clients):
        parser.error("--clients 1..2000 and --users 1..clients")
    if not (1 <= args.duration_s <= 3600 and args.think_s > 0 and args.jobs >= 0):
        parser.error("--duration-s 1..3600, --think-s > 0, --jobs >= 0")
    settings = dict(kv.split("=", 1) for kv in args.server_setting if "=" in kv)
    if len(settings) != len(args.server_setting) or not all(k.startswith("CN_") for k in settings):
        parser.error("--server-setting CN_NAME=VALUE")
    phases = args.phases.split(",")
    if "computenet" not in phases or not set(phases) <= {"computenet", "plain"}:
        parser.error("--phases: computenet, optionally with plain")
    root = Path(tempfile.mkdtemp(prefix="cn-load-"))
    try:
        started = time.monotonic()
        tokens = seed(
            f"sqlite:///{root / 'seed.db'}", args.jobs, args.users, random.Random(args.seed)
        )
        print(f"seeded {args.jobs} jobs in {time.monotonic() - started:.1f} s", flush=True)
        results = {}
        for name in phases:
            where = root / name
            where.mkdir()
            db = where / "store.db"
            shutil.copy(root / "seed.db", db)
            if name == "computenet":
                server_cm = computenet_server(where, db, settings)
            else:
                server_cm = plain_server(where, db, tokens)
            with server_cm as server:
                results[name] = run_phase(name, server, list(tokens), args)
    finally:
        if args.keep:
            print(f"kept {root}", flush=True)
        else:
            shutil.rmtree(root, ignore_errors=True)
    cn = results["computenet"]
    growth = cn["rss_end_mib"] - cn["rss_start_mib"]
    print(
        f"computenet RSS {cn['rss_start_mib']} -> {cn['rss_end_mib']} MiB "
        f"(growth {growth:.1f}, bound {RSS_BOUND_MIB}); errors {cn['errors']}",
        flush=True,
    )
    if "plain" not in results:
        return
    plain = results["plain"]
    print(
        json.dumps(
            {
                "figure": "load_mix_p99_overhead",
                "value": cn["p99_ms"],
                "unit": "ms (p99, every request of the mix)",
                "baseline": "the same mix on a plain FastAPI app over the same database, same run",
                "baseline_value": plain["p99_ms"],
                "ratio": round(cn["p99_ms"] / plain["p99_ms"], 2),
                "goal": f"<= {GOAL_RATIO}x, 0 errors, RSS growth <= {RSS_BOUND_MIB} MiB",
                "errors": cn["errors"],
                "rss_growth_mib": round(growth, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
