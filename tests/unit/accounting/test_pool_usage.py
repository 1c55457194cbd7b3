"""Pool node-hours in statements and metrics, split at month boundaries."""

from __future__ import annotations

import calendar
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from computenet.accounting.statements import statement
from computenet.store.db import Store
from computenet.store.tables_pools import PoolEventRow, PoolNodeRow
from computenet.telemetry.pool_metrics import pool_metrics

MARCH = float(calendar.timegm((2026, 3, 1, 0, 0, 0)))
APRIL = float(calendar.timegm((2026, 4, 1, 0, 0, 0)))


def node(name: str, state: str, start: float, end: float | None, price: float = 2.0) -> PoolNodeRow:
    return PoolNodeRow(
        pool="burst",
        cluster="home",
        name=name,
        state=state,
        price_per_node_hour=price,
        requested_at=start,
        released_at=end,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    s.migrate()
    with s.session() as db:
        db.add(node("n1", "released", MARCH + 3600, MARCH + 3 * 3600))  # 2 h in March
        db.add(node("n2", "released", APRIL - 1800, APRIL + 1800))  # half in each month
        db.add(node("n3", "up", APRIL + 3600, None))  # live since April, 1 h to "now"
        db.add(PoolEventRow(time=MARCH, pool="burst", cluster="home", kind="grow", message="x"))
    return s


def test_statements_count_the_node_hours_paid_in_the_month(store: Store) -> None:
    now = APRIL + 2 * 3600
    with store.session() as s:
        march = statement(s, "2026-03", now=now)
        april = statement(s, "2026-04", now=now)
    assert march["pools"] == [
        {"pool": "burst", "cluster": "home", "nodes": 2, "node_hours": 2.5, "cost": 5.0}
    ]
    assert april["pools"][0]["node_hours"] == pytest.approx(1.5)
    assert april["total"]["pool_cost"] == pytest.approx(3.0)


def test_metrics_show_nodes_by_state_and_their_cost(store: Store) -> None:
    class Collector:
        def collect(self):  # type: ignore[no-untyped-def]
            with store.session() as s:
                yield from pool_metrics(s, APRIL + 2 * 3600, {"burst": 4})

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())  # type: ignore[arg-type]
    text = generate_latest(registry).decode()
    assert 'cn_pool_nodes{pool="burst",state="up"} 1.0' in text
    assert 'cn_pool_max_nodes{pool="burst"} 4.0' in text
    assert 'cn_pool_node_seconds_total{pool="burst"} 14400.0' in text
    assert 'cn_pool_cost_total{pool="burst"} 8.0' in text
    assert "cn_pool_spend_per_hour 2.0" in text
    assert 'cn_pool_events_total{kind="grow",pool="burst"} 1.0' in text
