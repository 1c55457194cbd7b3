"""A kill campaign: a real server process killed with SIGKILL at seeded
moments while a mixed workload flows, then every accepted job checked.

The workload (seeded) mixes plain jobs, failing ones, arrays, dependencies,
staged inputs, hedged copies and multi-node jobs, on the configured clusters
(an embedded one, and a Slurm one when given). Every run of a job's script
appends ``TOKEN TASK start`` and ``TOKEN TASK end`` lines to a ledger file, so
runs are counted from what ran, not from what the server says.

After the last job ends, each accepted job (every array element too) is
checked: it exists, it ended in the state its script asks for, its script
ran once (a hedged job runs at most one copy per cluster it raced on: copies
shorter than the controller's reaction may all run to the end, which is
counted apart), and its event chain is whole (starts at PENDING,
each event leaves the state the last one entered, ends in the job's state).
Used by ``tests/integration/slurm/test_kill_campaign.py`` (small) and
``benchmarks/kill_campaign.py`` (1,000 jobs, 20 kills, SQLite and PostgreSQL).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2

from computenet.client import Client
from computenet.config import ClusterConfig
from computenet.errors import ComputeNetError
from tests.support.ports import free_port

TOKEN = "cn_kill_campaign_token"
HEDGE = 2  # copies of a hedged job
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL"}
#: kinds and how often each is drawn
KINDS = (
    ("plain", 30),
    ("fail", 8),
    ("array", 8),
    ("dependency", 10),
    ("staged", 8),
    ("hedged", 6),
    ("multinode", 8),
)


@dataclass
class Submission:
    token: str
    kind: str
    options: list[str]
    expect: str
    tasks: int = 1
    job_id: int | None = None  # the first id the server acknowledged


@dataclass
class Report:
    database: str
    submitted: int = 0
    accepted_jobs: int = 0  # acknowledged jobs, each array element counted
    unacknowledged: int = 0  # submissions whose answer was lost to a kill
    kills: int = 0
    lost: list[str] = field(default_factory=list)
    wrong_state: list[str] = field(default_factory=list)
    ran_twice: list[str] = field(default_factory=list)
    never_ran: list[str] = field(default_factory=list)
    broken_events: list[str] = field(default_factory=list)
    hedged_extra_starts: int = 0
    hedged_both_finished: int = 0  # copies too short to be cancelled before they ended
    submit_s: float = 0.0
    kinds: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    @property
    def lost_or_duplicated(self) -> int:
        return len(self.lost) + len(self.ran_twice)

    @property
    def problems(self) -> list[str]:
        return self.lost + self.wrong_state + self.ran_twice + self.never_ran + self.broken_events

    def summary(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "submitted": self.submitted,
            "accepted_jobs": self.accepted_jobs,
            "unacknowledged": self.unacknowledged,
            "kills": self.kills,
            "lost": len(self.lost),
            "wrong_state": len(self.wrong_state),
            "ran_twice": len(self.ran_twice),
            "never_ran": len(self.never_ran),
            "broken_event_chains": len(self.broken_events),
            "hedged_extra_starts": self.hedged_extra_starts,
            "hedged_both_finished": self.hedged_both_finished,
            "submit_s": round(self.submit_s, 1),
            "kinds": self.kinds,
            "elapsed_s": round(self.elapsed_s, 1),
            "first_problems": self.problems[:10],
        }


class ServerProcess:
    """``python -m computenet.api.serve`` on a fixed port, started and killed by PID."""

    def __init__(
        self, root: Path, database_url: str, clusters: list[ClusterConfig], port: int
    ) -> None:
        self.root = root
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.server_file = root / "server.json"
        self.env = dict(
            os.environ,
            CN_DATABASE_URL=database_url,
            CN_DATA_DIR=str(root / "data"),
            CN_STATE_DIR=str(root / "state"),
            CN_TOKEN=TOKEN,
            CN_USER="admin",
            CN_PORT=str(port),
            CN_CONTROLLER_INTERVAL_S="0.1",
            CN_CLUSTERS=json.dumps([c.model_dump(mode="json") for c in clusters]),
            XDG_CONFIG_HOME=str(root / "config"),
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout_s: float = 60) -> None:
        log = (self.root / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "computenet.api.serve", "--server-file", str(self.server_file)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited: {(self.root / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx2.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not answer /healthz")
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def workload(
    n: int, rng: random.Random, root: Path, clusters: list[str], ledger: Path
) -> list[Submission]:
    """``n`` submissions of seeded kinds (dependencies name earlier plain jobs by token)."""
    staged_input = root / "input.dat"
    staged_input.write_text("staged input\n")
    kinds = [k for k, _ in KINDS if k != "hedged" or len(clusters) > 1]
    weights = [w for k, w in KINDS if k in kinds]
    out: list[Submission] = []
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        token = f"t{i:05d}"
        sleep = f"0.{rng.randint(1, 6)}"
        options = ["-t", "2"]
        if kind not in ("hedged",) and rng.random() < 0.7:
            options += ["-M", rng.choice(clusters)]
        body = f"sleep {sleep}"
        code = 0
        tasks = 1
        if kind == "fail":
            code = 3
        elif kind == "array":
            tasks = 3
            options += ["--array", f"0-{tasks - 1}"]
        elif kind == "dependency":
            options.append("--dependency=afterok:{parent}")
        elif kind == "staged":
            options.append(f"--input-stage=local:{staged_input}:in.dat")
            body = f"grep -q 'staged input' in.dat && {body}"
        elif kind == "hedged":
            options += ["--hedge", str(HEDGE)]
        elif kind == "multinode":
            options += ["-N", "2", "-n", "2"]
        task = "${SLURM_ARRAY_TASK_ID:-x}"
        script = (
            f'echo "{token} {task} start" >> {ledger}; {body} || exit 9; '
            f'echo "{token} {task} end" >> {ledger}; exit {code}'
        )
        expect = "FAILED" if code else "COMPLETED"
        out.append(Submission(token, kind, [*options, "--wrap", script], expect, tasks))
    return out


def _submit(client: Client, sub: Submission, root: Path, parents: list[Submission]) -> bool:
    options = list(sub.options)
    if sub.kind == "dependency":
        done = [p for p in parents if p.job_id is not None]
        if not done:  # no acknowledged parent yet: run it plain
            options = [o for o in options if not o.startswith("--dependency")]
        else:
            parent = done[-1]
            options = [
                o.replace("{parent}", str(parent.job_id)) if o.startswith("--dep") else o
                for o in options
            ]
    try:
        job = client.submit(options=options, cwd=str(root), env={"PATH": os.environ["PATH"]})
    except ComputeNetError:
        return False
    sub.job_id = int(job["id"])
    return True


def _wait_all(client: Client, ids: set[int], timeout_s: float) -> dict[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            jobs = {int(j["id"]): j for j in client.jobs(all=True)}
        except ComputeNetError:
            jobs = {}
        if jobs and all(jobs.get(i, {}).get("state") in TERMINAL for i in ids):
            return jobs
        if time.monotonic() > deadline:
            return jobs
        time.sleep(1.0)


def _chain_broken(events: list[dict[str, Any]], state: str) -> str | None:
    if not events:
        return "no events"
    if events[0].get("from") is not None or events[0]["to"] != "PENDING":
        return f"first event {events[0].get('from')}->{events[0]['to']}"
    for before, after in itertools.pairwise(events):
        if after.get("from") != before["to"]:
            return f"{before['to']} then {after.get('from')}->{after['to']}"
        if before["to"] in TERMINAL:
            return f"an event after the terminal {before['to']}"
    if events[-1]["to"] != state:
        return f"last event to {events[-1]['to']}, job {state}"
    return None


def run(
    root: Path,
    *,
    database_url: str,
    clusters: list[ClusterConfig],
    jobs: int,
    kills: int,
    seed: int,
    timeout_s: float = 600,
) -> Report:
    """One campaign under ``root``; the server is stopped before returning."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    ledger = root / "ledger.txt"
    ledger.touch()
    names = [c.name for c in clusters]
    subs = workload(jobs, rng, root, names, ledger)
    kill_at = set(rng.sample(range(1, jobs), min(kills, jobs - 1)))
    report = Report(database="postgresql" if database_url.startswith("postgres") else "sqlite")
    report.kinds = dict(Counter(s.kind for s in subs))
    server = ServerProcess(root, database_url, clusters, free_port())
    started = time.monotonic()
    server.start()
    client = Client(server.url, TOKEN, timeout_s=30)
    plain: list[Submission] = []
    try:
        for i, sub in enumerate(subs):
            if i in kill_at:
                time.sleep(rng.uniform(0.0, 0.5))  # somewhere mid-pass
                server.kill()
                report.kills += 1
                client.close()
                server.start()
                client = Client(server.url, TOKEN, timeout_s=30)
            report.submitted += 1
            if not _submit(client, sub, root, plain):
                report.unacknowledged += 1
            elif sub.kind == "plain":
                plain.append(sub)
        report.submit_s = time.monotonic() - started
        accepted = [s for s in subs if s.job_id is not None]
        ids = {s.job_id + t for s in accepted for t in range(s.tasks) if s.job_id is not None}
        report.accepted_jobs = len(ids)
        final = _wait_all(client, ids, timeout_s)
        lines = [line.split() for line in ledger.read_text().splitlines() if line.strip()]
        starts = Counter((tok, task) for tok, task, what in lines if what == "start")
        ends = Counter((tok, task) for tok, task, what in lines if what == "end")
        for sub in accepted:
            assert sub.job_id is not None
            for t in range(sub.tasks):
                job_id = sub.job_id + t
                name = f"job {job_id} ({sub.kind} {sub.token})"
                job = final.get(job_id)
                if job is None:
                    report.lost.append(f"{name}: missing")
                    continue
                if job["state"] != sub.expect:
                    report.wrong_state.append(f"{name}: {job['state']}, expected {sub.expect}")
                task = str(t) if sub.tasks > 1 else "x"
                runs, finished = starts[(sub.token, task)], ends[(sub.token, task)]
                if sub.kind == "hedged":  # by design one copy per cluster may run
                    report.hedged_extra_starts += max(0, runs - 1)
                    report.hedged_both_finished += finished > 1
                    if runs > HEDGE:
                        report.ran_twice.append(f"{name}: {runs} runs of {HEDGE} copies")
                elif runs > 1:
                    report.ran_twice.append(f"{name}: started {runs} times")
                if job["state"] in ("COMPLETED", "FAILED") and runs == 0:
                    report.never_ran.append(f"{name}: {job['state']} with no run")
                why = _chain_broken(client.events(job_id), job["state"])
                if why is not None:
                    report.broken_events.append(f"{name}: {why}")
        unacked = {s.token for s in subs if s.job_id is None}
        per_token: defaultdict[str, int] = defaultdict(int)
        for (tok, _task), n in starts.items():
            if tok in unacked:
                per_token[tok] = max(per_token[tok], n)
        report.ran_twice += [
            f"unacknowledged {t}: started {n} times" for t, n in per_token.items() if n > 1
        ]
    finally:
        client.close()
        server.stop()
        report.elapsed_s = time.monotonic() - started
    return report
