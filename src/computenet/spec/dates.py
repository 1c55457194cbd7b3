"""Points in time as sbatch ``--begin`` and ``--deadline`` write them.

Accepted (as in Slurm's ``parse_time``): ``now[+N[unit]]`` (unit seconds by
default; minutes, hours, days, weeks), ``YYYY-MM-DD[THH:MM[:SS]]``,
``HH:MM[:SS][AM|PM]`` (the next such time), ``MMDD[YY]``, ``MM/DD[/YY]``,
``MM.DD[.YY]``, and the words ``today``, ``tomorrow``, ``midnight``,
``noon``, ``elevenses`` (11:00), ``fika`` (15:00) and ``teatime`` (16:00).
Wall-clock forms are read in ``tz`` (the submitting user's zone).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from computenet.errors import SpecError

_UNITS_S = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_WORD_TIMES = {
    "midnight": time(0, 0), "noon": time(12, 0), "elevenses": time(11, 0),
    "fika": time(15, 0), "teatime": time(16, 0),
}  # fmt: skip
_NOW = re.compile(r"now(?:\+(\d{1,9})([a-z]*))?", re.IGNORECASE)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([ap]m)?", re.IGNORECASE)
_MMDD = re.compile(r"(\d{2})(\d{2})(\d{2})?")
_SEPARATED = re.compile(r"(\d{1,2})([/.])(\d{1,2})(?:\2(\d{2}))?")


def parse_when(text: str, *, now: float, tz: tzinfo, option: str = "begin") -> float:
    """Seconds since the epoch for a Slurm time; raises SpecError if invalid."""
    try:
        return _parse(text.strip(), now, tz)
    except (ValueError, OverflowError) as exc:
        raise SpecError(f"invalid --{option}={text}: {exc}", option=option) from exc
    except _Invalid:
        raise SpecError(
            f"invalid --{option}={text} (use now+N[minutes|hours|days], "
            "YYYY-MM-DD[THH:MM[:SS]], HH:MM[:SS], MM/DD[/YY] or a word like tomorrow)",
            option=option,
        ) from None


class _Invalid(Exception):
    pass


def _parse(text: str, now: float, tz: tzinfo) -> float:
    current = datetime.fromtimestamp(now, tz)
    lowered = text.lower()
    if m := _NOW.fullmatch(text):
        count, unit = m.groups()
        if count is None:
            return now
        factor = _UNITS_S.get(unit.lower() or "s")
        if factor is None:
            raise _Invalid
        return now + int(count) * factor
    if lowered == "today":
        return _at(current.date(), time(0, 0), tz)
    if lowered == "tomorrow":
        return _at(current.date() + timedelta(days=1), time(0, 0), tz)
    if lowered in _WORD_TIMES:
        return _next_time(current, _WORD_TIMES[lowered], tz)
    if m := _CLOCK.fullmatch(text):
        return _next_time(current, _clock(*m.groups()), tz)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?", text):
        stamp = datetime.fromisoformat(text)
        return stamp.replace(tzinfo=tz).timestamp()
    if m := _MMDD.fullmatch(text):
        return _at(_month_day(current, m.group(1), m.group(2), m.group(3)), time(0, 0), tz)
    if m := _SEPARATED.fullmatch(text):
        return _at(_month_day(current, m.group(1), m.group(3), m.group(4)), time(0, 0), tz)
    raise _Invalid


def _clock(hours: str, minutes: str, seconds: str | None, meridiem: str | None) -> time:
    hour = int(hours)
    if meridiem:
        if not 1 <= hour <= 12:
            raise ValueError("hour must be 1..12 with AM/PM")
        hour = hour % 12 + (12 if meridiem.lower() == "pm" else 0)
    return time(hour, int(minutes), int(seconds or 0))


def _month_day(current: datetime, month: str, day: str, year: str | None) -> date:
    if year is not None:
        return date(2000 + int(year), int(month), int(day))
    candidate = date(current.year, int(month), int(day))
    # A date without a year that has passed means next year, as in Slurm.
    if candidate < current.date():
        candidate = date(current.year + 1, int(month), int(day))
    return candidate


def _next_time(current: datetime, at: time, tz: tzinfo) -> float:
    today = _at(current.date(), at, tz)
    if today > current.timestamp():
        return today
    return _at(current.date() + timedelta(days=1), at, tz)


def _at(day: date, at: time, tz: tzinfo) -> float:
    return datetime.combine(day, at, tzinfo=tz).timestamp()
