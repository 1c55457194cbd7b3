"""Utilisation arithmetic on known jobs, running jobs included."""

from __future__ import annotations

import pytest

from computenet.accounting.service import AccountingService
from computenet.clock import FakeClock
from computenet.model import JobSpec
from computenet.telemetry import reports, utilization

from .conftest import passes, submit

DAY = 86400.0


async def test_utilization_by_cluster_and_day(make_runtime, clock: FakeClock) -> None:
    clock.set(1_800_057_600.0)  # a UTC midnight
    rt = make_runtime()
    capacity = {("alpha", "cpu"): 8, ("beta", "cpu"): 8}
    # 4 CPUs for 6 hours on one cluster, ended; 2 CPUs still running for 2 h
    submit(rt, JobSpec(name="big", command="sleep 21600", ntasks=4, time_limit_s=30000))
    await passes(rt)
    clock.advance(21600)
    await passes(rt, 1)
    submit(rt, JobSpec(name="small", command="sleep 99999", ntasks=2, time_limit_s=200000))
    await passes(rt)
    clock.advance(7200)
    acct = next(s for s in rt.services if isinstance(s, AccountingService))
    acct.step()
    now = clock.now()
    with rt.store.session() as s:
        u = utilization.utilization(s, capacity, since=now - 3600, until=now, now=now)
        by_day = utilization.utilization(
            s, capacity, since=now - 3600, until=now, now=now, by="day"
        )
        idle = utilization.idle(s, capacity, now=now)
        eff = reports.efficiency(s, since=0, until=now + 1)
    total = u["total"]
    assert total["core_hours"] == pytest.approx(4 * 6 + 2 * 2)
    assert total["capacity_core_hours"] == pytest.approx(16 * 8)  # 8 hours of this day
    assert total["utilization"] == pytest.approx(28 / 128)
    (day,) = by_day["rows"]
    assert day["core_hours"] == pytest.approx(28)
    busy = sum(r["capacity_core_hours"] - r["idle_core_hours"] for r in idle["last_day"])
    assert busy == pytest.approx(28)
    assert eff["rows"] == []  # fake clusters report no CPU time


def test_parse_when() -> None:
    now = 1_800_000_000.0
    assert reports.parse_when("-7d", now, 0) == now - 7 * DAY
    assert reports.parse_when("2027-01-15", now, 0) == 1_800_000_000.0 - 1_800_000_000.0 % DAY
    assert reports.parse_when(None, now, 5) == 5
    with pytest.raises(Exception, match="invalid time"):
        reports.parse_when("yesterday", now, 0)
