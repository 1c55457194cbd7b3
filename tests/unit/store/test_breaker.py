"""The database circuit breaker and how the store classifies its errors."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from computenet.errors import StoreError
from computenet.store.breaker import Breaker
from computenet.store.db import Store, is_outage


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_open_breaker_fails_fast_then_lets_calls_through_and_backs_off() -> None:
    clock = Clock()
    b = Breaker(open_s=1.0, max_open_s=4.0, clock=clock)
    b.check()  # closed: nothing raised
    assert b.failed("refused") == 1.0
    with pytest.raises(StoreError) as err:
        b.check()
    assert err.value.transient and err.value.details["retry_after_s"] == pytest.approx(1.0)
    assert err.value.message == "database unreachable (refused); retry in 1 s"
    clock.t += 1.0
    b.check()  # half-open: the next call goes through
    assert b.failed("refused") == 2.0  # and failing again doubles the wait
    clock.t += 2.0
    assert b.failed("refused") == 4.0
    clock.t += 4.0
    assert b.failed("refused") == 4.0  # capped
    assert b.trips == 4
    clock.t += 4.0
    assert not b.succeeded(clock.t - 5.0), "a call under way before the failure proves nothing"
    assert b.failing
    assert b.succeeded(b.check())
    assert not b.failing and b.reason is None
    assert b.failed("refused") == 1.0  # a fresh outage starts from the shortest wait


def test_failures_while_open_count_once() -> None:
    clock = Clock()
    b = Breaker(open_s=2.0, clock=clock)
    b.failed("a")
    clock.t += 0.5
    assert b.failed("b") == pytest.approx(1.5)
    assert b.trips == 1 and b.reason == "b"


def _operational(sqlstate: str | None) -> OperationalError:
    orig = psycopg.OperationalError("boom")
    if sqlstate is not None:
        orig.sqlstate = sqlstate  # type: ignore[misc]
    return OperationalError("SELECT 1", {}, orig)


@pytest.mark.parametrize(
    ("sqlstate", "outage"),
    [(None, True), ("08006", True), ("57P01", True), ("57P03", True), ("40P01", False)],
)
def test_postgres_errors_that_mean_the_server_is_away(sqlstate: str | None, outage: bool) -> None:
    assert is_outage(_operational(sqlstate), sqlite=False) is outage


def test_sqlite_errors_never_open_the_breaker(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(StoreError) as err, store.session() as s:
            s.execute(text("SELECT * FROM no_such_table"))
        assert err.value.message.startswith("database error: no such table")
        assert not store.breaker.failing
        with store.session() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
    finally:
        store.close()


def test_an_open_breaker_refuses_sessions_until_a_call_succeeds(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        store.breaker.failed("the test cut it")
        with pytest.raises(StoreError, match="the test cut it"), store.session():
            pass
        store.breaker._open_until = 0.0  # the wait is over: half-open
        with store.session() as s:
            assert s.execute(text("SELECT 1")).scalar() == 1
        assert not store.breaker.failing
    finally:
        store.close()
