"""Slurm's time formats, written and read."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.shims.slurmtime import (
    parse_duration_s,
    parse_past_time,
    sacct_cpu_time,
    sacct_duration,
    squeue_duration,
    squeue_limit,
    timestamp,
)


@pytest.mark.parametrize(
    ("seconds", "squeue", "sacct"),
    [
        (None, "0:00", "00:00:00"),
        (0, "0:00", "00:00:00"),
        (59, "0:59", "00:00:59"),
        (61, "1:01", "00:01:01"),
        (3600, "1:00:00", "01:00:00"),
        (86399, "23:59:59", "23:59:59"),
        (86400 + 3661, "1-01:01:01", "1-01:01:01"),
    ],
)
def test_durations(seconds: int | None, squeue: str, sacct: str) -> None:
    assert squeue_duration(seconds) == squeue
    assert sacct_duration(seconds) == sacct


def test_limit_and_cpu_time() -> None:
    assert squeue_limit(None) == "UNLIMITED"
    assert squeue_limit(600) == "10:00"
    assert sacct_cpu_time(1.5) == "00:01.500"
    assert sacct_cpu_time(75.25) == "01:15.250"
    assert sacct_cpu_time(7200) == "02:00:00"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("10", 600),
        ("10:30", 630),
        ("1:00:00", 3600),
        ("2-0", 2 * 86400),
        ("1-2:30", 86400 + 2 * 3600 + 30 * 60),
        ("1-02:03:04", 93784),
        ("UNLIMITED", -1),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration_s(text) == seconds


@given(st.integers(0, 400 * 86400))
def test_squeue_and_sacct_durations_read_back(seconds: int) -> None:
    assert parse_duration_s(sacct_duration(seconds)) == seconds
    text = squeue_duration(seconds)
    # squeue's M:SS form reads back as minutes:seconds
    assert parse_duration_s(text) == seconds


def test_timestamp() -> None:
    assert timestamp(None) == "N/A"
    assert timestamp(None, "Unknown") == "Unknown"
    epoch = datetime(2024, 3, 5, 7, 8, 9).timestamp()
    assert timestamp(epoch) == "2024-03-05T07:08:09"


NOW = datetime(2024, 6, 15, 12, 0, 0).timestamp()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", datetime(2024, 6, 15, 12, 0, 0)),
        ("now-1hour", datetime(2024, 6, 15, 11, 0, 0)),
        ("now-30", datetime(2024, 6, 15, 11, 59, 30)),
        ("now+2days", datetime(2024, 6, 17, 12, 0, 0)),
        ("today", datetime(2024, 6, 15)),
        ("midnight", datetime(2024, 6, 15)),
        ("2024-01-02", datetime(2024, 1, 2)),
        ("2024-01-02T03:04", datetime(2024, 1, 2, 3, 4)),
        ("2024-01-02T03:04:05", datetime(2024, 1, 2, 3, 4, 5)),
        ("06/01", datetime(2024, 6, 1)),
        ("12/31", datetime(2023, 12, 31)),  # no year: the last one passed
        ("06/01/23-10:00", datetime(2023, 6, 1, 10, 0)),
        ("0601", datetime(2024, 6, 1)),
        ("10:30", datetime(2024, 6, 15, 10, 30)),
        ("13:00", datetime(2024, 6, 14, 13, 0)),  # later today: yesterday's
    ],
)
def test_parse_past_time(text: str, expected: datetime) -> None:
    assert parse_past_time(text, NOW) == expected.timestamp()


@pytest.mark.parametrize("text", ["yesterday-ish", "25:00", "now-3fortnights", "2024-13-01"])
def test_parse_past_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_past_time(text, time.time())
