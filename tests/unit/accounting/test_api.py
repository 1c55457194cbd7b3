"""Budgets, statements and the sacct export through the real API."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from computenet.client import Client
from computenet.errors import ForbiddenError, QuotaError, SpecError
from computenet.store.tables_accounting import BudgetRow, ReservationRow
from tests.support.live import LiveServer

# 2 CPUs x 30 min at the dearest partition (alpha: 0.04 per core-hour) = 0.04
JOB = {"options": ["--wrap", "sleep 3600", "-n", "2", "--time=30"], "cwd": "/tmp"}
JOB_COST = 0.04


def test_concurrent_submissions_never_overspend_a_hard_budget(
    live: LiveServer, second: LiveServer, admin: Client, alice: Client
) -> None:
    """Sixteen threads submit at once through two servers sharing one database."""
    budget = 1.0  # room for 25 jobs
    admin.post("/budgets", {"project": "chem", "amount": budget})
    token = alice._http.headers["Authorization"].split()[1]
    servers = [live, second]
    accepted: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()

    def worker(server: LiveServer) -> None:
        with server.client(token) as c:
            for _ in range(5):
                try:
                    job = c.post("/jobs", JOB)
                    with lock:
                        accepted.append(job["id"])
                except QuotaError as exc:
                    with lock:
                        refused.append(exc.message)

    threads = [threading.Thread(target=worker, args=(servers[i % 2],)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(accepted) + len(refused) == 80
    assert refused and "out of budget" in refused[0]
    assert len(accepted) * JOB_COST <= budget + JOB_COST + 1e-9
    assert len(accepted) >= 20  # and the budget was not refused early
    with live.runtime.store.session() as s:
        row = s.get(BudgetRow, "chem")
        held = s.query(ReservationRow).count()
    assert row is not None and row.reserved <= budget + 1e-9
    assert held == len(accepted)


def _wait(cond: Any, timeout_s: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_statement_and_sacct_after_jobs_end(admin: Client, alice: Client) -> None:
    job = alice.submit(options=["--wrap", "echo hi", "-n", "2", "--time=5"], cwd="/tmp")
    alice.wait(job["id"], timeout_s=10)
    stmt = _wait(lambda: (d := alice.get("/usage")) and d["projects"][0]["users"] and d)
    (proj,) = stmt["projects"]
    assert proj["project"] == "chem" and proj["users"][0]["user"] == "alice"
    sacct = _wait(lambda: (d := alice.get("/usage/sacct")) and len(d["lines"]) > 1 and d)
    assert sacct["lines"][0].startswith("JobID|JobName|User|Account|Partition|Cluster|AllocCPUS")
    fields = sacct["lines"][1].split("|")
    assert len(fields) == 17
    assert fields[0] == str(job["id"]) and fields[2] == "alice" and fields[3] == "chem"
    assert fields[6] == "2" and fields[10] == "COMPLETED" and fields[11] == "0:0"
    empty = alice.get("/usage", {"month": "2001-01"})
    assert empty["projects"][0]["core_seconds"] == 0 and empty["total"]["cost"] == 0
    with pytest.raises(ForbiddenError):
        alice.get("/usage", {"project": "phys"})
    with pytest.raises(SpecError):
        alice.get("/usage", {"month": "2025-13"})


def test_budgets_and_quotas_are_set_by_admins_and_read_by_members(
    admin: Client, alice: Client
) -> None:
    with pytest.raises(ForbiddenError):
        alice.post("/budgets", {"project": "chem", "amount": 1.0})
    with pytest.raises(ForbiddenError):
        alice.post("/quotas", {"scope": "user", "name": "alice", "max_running_cpus": 9})
    assert alice.get("/budgets")["budgets"] == []
    admin.post("/budgets", {"project": "chem", "amount": 5.0, "soft": True})
    admin.post("/budgets", {"project": "phys", "amount": 7.0})
    assert len(admin.get("/budgets")["budgets"]) == 2
    (b,) = alice.get("/budgets")["budgets"]  # chem's only: alice is not in phys
    assert (b["project"], b["amount"], b["hard"], b["period"]) == ("chem", 5.0, False, "month")
    admin.post("/quotas", {"scope": "user", "name": "alice", "max_running_cpus": 2})
    admin.post("/quotas", {"scope": "user", "name": "bob", "max_running_cpus": 2})
    assert [q["name"] for q in alice.get("/quotas")["quotas"]] == ["alice"]
    job = alice.submit(options=["--wrap", "sleep 100", "-n", "4", "--time=5"], cwd="/tmp")
    _wait(lambda: alice.job(job["id"])["reason"] == "QOSMaxCpuPerUserLimit")
    admin.delete("/quotas/user/alice")
    _wait(lambda: alice.job(job["id"])["state"] in ("QUEUED", "RUNNING"))
