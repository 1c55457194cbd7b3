"""Slurm's ways of writing durations and points in time, both directions."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta

from computenet.spec.units import format_elapsed

UNLIMITED = "UNLIMITED"
_UNITS_S = {
    "": 1, "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_NOW = re.compile(r"now(?:([+-])(\d{1,9})([a-z]*))?", re.IGNORECASE)
_CLOCK = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_ISO = re.compile(rf"(\d{{4}})-(\d{{2}})-(\d{{2}})(?:[tT]{_CLOCK})?")
_SLASHED = re.compile(rf"(\d{{1,2}})[/.](\d{{1,2}})(?:[/.](\d{{2}}))?(?:-{_CLOCK})?")
_MMDD = re.compile(r"(\d{2})(\d{2})(\d{2})?")
_CLOCK_ONLY = re.compile(_CLOCK)


def squeue_duration(seconds: float | None) -> str:
    """squeue's TIME: ``M:SS``, ``H:MM:SS``, ``D-HH:MM:SS``."""
    return "0:00" if seconds is None else format_elapsed(seconds)


def squeue_limit(seconds: float | None) -> str:
    """squeue's TIME_LIMIT: as TIME, or ``UNLIMITED``."""
    return UNLIMITED if seconds is None else squeue_duration(seconds)


def sacct_duration(seconds: float | None) -> str:
    """sacct's Elapsed and Timelimit: ``HH:MM:SS`` or ``D-HH:MM:SS``."""
    s = max(0, int(seconds or 0))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    head = f"{days}-" if days else ""
    return f"{head}{hours:02d}:{minutes:02d}:{s:02d}"


def sacct_cpu_time(seconds: float | None) -> str:
    """sacct's TotalCPU: ``MM:SS.mmm`` under an hour, else ``[D-]HH:MM:SS``."""
    if seconds is None:
        return "00:00:00"
    if seconds < 3600:
        minutes, rest = divmod(max(0.0, seconds), 60)
        return f"{int(minutes):02d}:{rest:06.3f}"
    return sacct_duration(seconds)


def timestamp(epoch: float | None, missing: str = "N/A") -> str:
    """Slurm's local ``YYYY-MM-DDTHH:MM:SS`` (``missing`` when unknown)."""
    if epoch is None:
        return missing
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))


def parse_duration_s(text: str) -> int:
    """Slurm's time-limit forms: ``M``, ``M:S``, ``H:M:S``, ``D-H``, ``D-H:M``,
    ``D-H:M:S``; ``UNLIMITED``/``INFINITE`` are -1. Raises ValueError."""
    text = text.strip()
    if text.upper() in ("UNLIMITED", "INFINITE", "-1"):
        return -1
    days = 0
    if "-" in text:
        head, _, text = text.partition("-")
        days = int(head)
        parts = [int(p) for p in text.split(":")]
        while len(parts) < 3:
            parts.append(0)
        hours, minutes, seconds = parts[:3]
    else:
        parts = [int(p) for p in text.split(":")]
        if len(parts) == 1:
            hours, minutes, seconds = 0, parts[0], 0
        elif len(parts) == 2:
            hours, minutes, seconds = 0, parts[0], parts[1]
        elif len(parts) == 3:
            hours, minutes, seconds = parts
        else:
            raise ValueError(f"invalid time {text!r}")
    if min(days, hours, minutes, seconds) < 0:
        raise ValueError(f"invalid time {text!r}")
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def parse_past_time(text: str, now: float | None = None) -> float:
    """sacct's ``-S``/``-E`` times (local zone), read as Slurm reads them for
    queries: a bare date or clock time means the latest one not in the future.

    Forms: ``now[{+|-}N[unit]]``, ``today``, ``midnight``, ``noon``,
    ``YYYY-MM-DD[THH:MM[:SS]]``, ``MM/DD[/YY][-HH:MM[:SS]]``, ``MMDD[YY]``,
    ``HH:MM[:SS]``. Raises ValueError.
    """
    now = time.time() if now is None else now
    current = datetime.fromtimestamp(now)
    lowered = text.strip().lower()
    if m := _NOW.fullmatch(lowered):
        sign, count, unit = m.groups()
        if count is None:
            return now
        if unit not in _UNITS_S:
            raise ValueError(f"invalid time unit {unit!r}")
        delta = int(count) * _UNITS_S[unit]
        return now + delta if sign == "+" else now - delta
    if lowered in ("today", "midnight"):
        return _at(current.date(), 0, 0, 0)
    if lowered == "noon":
        return _at(current.date(), 12, 0, 0)
    if m := _ISO.fullmatch(lowered):
        y, mo, d, hh, mm, ss = m.groups()
        return _at(date(int(y), int(mo), int(d)), *_hms(hh, mm, ss))
    if m := _SLASHED.fullmatch(lowered):
        mo, d, yy, hh, mm, ss = m.groups()
        return _at(_past_day(current, int(mo), int(d), yy), *_hms(hh, mm, ss))
    if m := _MMDD.fullmatch(lowered):
        mo, d, yy = m.groups()
        return _at(_past_day(current, int(mo), int(d), yy), 0, 0, 0)
    if m := _CLOCK_ONLY.fullmatch(lowered):
        hh, mm, ss = m.groups()
        stamp = _at(current.date(), *_hms(hh, mm, ss))
        return stamp if stamp <= now else stamp - 86400
    raise ValueError(f"invalid time specification {text!r}")


def _hms(hh: str | None, mm: str | None, ss: str | None) -> tuple[int, int, int]:
    return int(hh or 0), int(mm or 0), int(ss or 0)


def _past_day(current: datetime, month: int, day: int, yy: str | None) -> date:
    if yy is not None:
        return date(2000 + int(yy), month, day)
    candidate = date(current.year, month, day)
    if candidate > current.date():  # a date without a year is the last one passed
        candidate = date(current.year - 1, month, day)
    return candidate


def _at(day: date, hours: int, minutes: int, seconds: int) -> float:
    stamp = datetime.combine(day, datetime.min.time()) + timedelta(
        hours=hours, minutes=minutes, seconds=seconds
    )
    if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
        raise ValueError("clock time out of range")
    return stamp.timestamp()
