"""The token bucket of admission control, on a fake clock."""

from __future__ import annotations

import pytest

from computenet.clock import FakeClock
from computenet.core.admission import Admission
from computenet.errors import ConfigError, RateLimitError


def test_a_burst_passes_then_the_rate_refills() -> None:
    clock = FakeClock()
    bucket = Admission(clock, rate_per_s=2.0, burst=3)
    assert [bucket.wait_s("alice") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.wait_s("alice") == pytest.approx(0.5)  # one token at 2/s
    clock.advance(0.25)
    assert bucket.wait_s("alice") == pytest.approx(0.25)
    clock.advance(0.25)
    assert bucket.wait_s("alice") == 0.0
    assert bucket.wait_s("alice") == pytest.approx(0.5)


def test_a_refused_request_takes_nothing() -> None:
    clock = FakeClock()
    bucket = Admission(clock, rate_per_s=1.0, burst=1)
    assert bucket.wait_s("alice") == 0.0
    for _ in range(100):  # hammering does not push the next slot further out
        assert bucket.wait_s("alice") == pytest.approx(1.0)
    clock.advance(1.0)
    assert bucket.wait_s("alice") == 0.0


def test_callers_do_not_share_a_bucket() -> None:
    bucket = Admission(FakeClock(), rate_per_s=1.0, burst=2)
    assert bucket.wait_s("alice") == bucket.wait_s("alice") == 0.0
    assert bucket.wait_s("alice") > 0
    assert bucket.wait_s("bob") == 0.0


def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = Admission(clock, rate_per_s=10.0, burst=5)
    bucket.wait_s("alice")
    clock.advance(3600)
    assert [bucket.wait_s("alice") for _ in range(6)].count(0.0) == 5


def test_a_clock_stepping_back_gives_no_tokens() -> None:
    clock = FakeClock()
    bucket = Admission(clock, rate_per_s=1.0, burst=1)
    bucket.wait_s("alice")
    clock.advance(-100)
    assert bucket.wait_s("alice") > 0
    clock.advance(100)  # back where it was: still no whole token
    assert bucket.wait_s("alice") > 0
    clock.advance(1)
    assert bucket.wait_s("alice") == 0.0


def test_admit_raises_a_transient_error_with_the_wait() -> None:
    bucket = Admission(FakeClock(), rate_per_s=4.0, burst=1)
    bucket.admit("alice")
    with pytest.raises(RateLimitError) as caught:
        bucket.admit("alice")
    err = caught.value
    assert err.transient and err.http_status == 429
    assert err.details["retry_after_s"] == pytest.approx(0.25)
    assert "4 a second" in err.message and "alice" in err.message


def test_rate_zero_turns_it_off() -> None:
    bucket = Admission(FakeClock(), rate_per_s=0.0, burst=1)
    assert not bucket.enabled
    assert all(bucket.wait_s("alice") == 0.0 for _ in range(1000))


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        Admission(FakeClock(), rate_per_s=-1.0, burst=1)
    with pytest.raises(ConfigError):
        Admission(FakeClock(), rate_per_s=1.0, burst=0)


def test_many_callers_keep_memory_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    bucket = Admission(clock, rate_per_s=1.0, burst=2)
    monkeypatch.setattr(Admission, "MAX_BUCKETS", 10)
    for i in range(10):
        bucket.wait_s(f"user{i}")
    clock.advance(2.0)  # every bucket has refilled: forgetting them is safe
    bucket.wait_s("late")
    assert len(bucket._buckets) == 1
    clock.advance(0.5)
    for i in range(20):
        bucket.wait_s(f"busy{i}")
    assert len(bucket._buckets) == 21  # none refilled yet: none dropped
