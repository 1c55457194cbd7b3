"""--begin and --deadline times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from computenet.errors import SpecError
from computenet.spec import parse_when

NOW = datetime(2030, 6, 1, 12, 30, tzinfo=UTC)


def when(text: str, tz: timezone = UTC) -> datetime:
    return datetime.fromtimestamp(parse_when(text, now=NOW.timestamp(), tz=tz), UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("now+60", NOW + timedelta(seconds=60)),
        ("now+5minutes", NOW + timedelta(minutes=5)),
        ("now+1hour", NOW + timedelta(hours=1)),
        ("now+2days", NOW + timedelta(days=2)),
        ("now+1week", NOW + timedelta(weeks=1)),
        ("2030-07-04", datetime(2030, 7, 4, tzinfo=UTC)),
        ("2030-07-04T10:15", datetime(2030, 7, 4, 10, 15, tzinfo=UTC)),
        ("2030-07-04T10:15:30", datetime(2030, 7, 4, 10, 15, 30, tzinfo=UTC)),
        ("16:00", datetime(2030, 6, 1, 16, 0, tzinfo=UTC)),
        ("10:00", datetime(2030, 6, 2, 10, 0, tzinfo=UTC)),  # passed today: tomorrow
        ("4:00PM", datetime(2030, 6, 1, 16, 0, tzinfo=UTC)),
        ("midnight", datetime(2030, 6, 2, tzinfo=UTC)),
        ("noon", datetime(2030, 6, 2, 12, tzinfo=UTC)),
        ("teatime", datetime(2030, 6, 1, 16, tzinfo=UTC)),
        ("today", datetime(2030, 6, 1, tzinfo=UTC)),
        ("tomorrow", datetime(2030, 6, 2, tzinfo=UTC)),
        ("0704", datetime(2030, 7, 4, tzinfo=UTC)),
        ("07/04/31", datetime(2031, 7, 4, tzinfo=UTC)),
        ("07.04", datetime(2030, 7, 4, tzinfo=UTC)),
        ("05/01", datetime(2031, 5, 1, tzinfo=UTC)),  # passed this year: next year
    ],
)
def test_time_forms(text: str, expected: datetime) -> None:
    assert when(text) == expected


def test_wall_clock_forms_use_the_users_zone() -> None:
    plus2 = timezone(timedelta(hours=2))
    assert when("2030-07-04T10:00", plus2) == datetime(2030, 7, 4, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "text", ["someday", "now+5parsecs", "13/45", "2030-13-01", "25:00", "13:00PM", ""]
)
def test_bad_times(text: str) -> None:
    with pytest.raises(SpecError, match="invalid --begin"):
        when(text)
