"""Job array indices."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.errors import SpecError
from computenet.spec import parse_array


@pytest.mark.parametrize(
    ("text", "indices", "limit"),
    [
        ("0-15", tuple(range(16)), None),
        ("1,3,5", (1, 3, 5), None),
        ("0-99:3", tuple(range(0, 100, 3)), None),
        ("0-15%4", tuple(range(16)), 4),
        ("1-5,10,20-30:2%4", (1, 2, 3, 4, 5, 10, 20, 22, 24, 26, 28, 30), 4),
        ("7", (7,), None),
        ("1-3,2", (1, 2, 3), None),
        ("0-10000", tuple(range(10001)), None),
    ],
)
def test_array_formats(text: str, indices: tuple[int, ...], limit: int | None) -> None:
    spec = parse_array(text)
    assert spec.indices == indices
    assert spec.max_running == limit
    assert spec.text == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5-1", "ends before it starts"),
        ("a", "'a' is not N, N-M or N-M:STEP"),
        ("%4", "no indices"),
        ("0-15%0", "'%0' must be a whole number >= 1"),
        ("0-15%x", "must be a whole number"),
        ("1-5:0", "step in '1-5:0' must be >= 1"),
        ("1:3", "is not N, N-M"),
        ("1,,2", "'' is not"),
        ("-3", "is not"),
    ],
)
def test_bad_arrays(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        parse_array(text)


def test_huge_array_is_refused_quickly_with_the_limit() -> None:
    with pytest.raises(
        SpecError, match=r"index 4000000 is over the limit \(indices must be below 10001\)"
    ):
        parse_array("0-4000000")
    with pytest.raises(SpecError, match="below 100"):
        parse_array("0-100", max_size=100)
    assert parse_array("0-99", max_size=100).indices[-1] == 99


_items = st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 50))


@given(st.lists(_items, min_size=1, max_size=6), st.one_of(st.none(), st.integers(1, 99)))
def test_array_matches_python_ranges(items: list[tuple[int, int, int]], limit: int | None) -> None:
    parts = []
    expected: set[int] = set()
    for a, b, step in items:
        low, high = min(a, b), max(a, b)
        parts.append(f"{low}-{high}:{step}")
        expected.update(range(low, high + 1, step))
    text = ",".join(parts) + (f"%{limit}" if limit else "")
    spec = parse_array(text)
    assert spec.indices == tuple(sorted(expected))
    assert spec.max_running == limit
    # The indices written out as a plain list read back the same.
    assert parse_array(",".join(map(str, spec.indices))).indices == spec.indices


@given(st.text(alphabet="0123456789-,:%ab", max_size=25))
def test_array_parser_raises_only_spec_error(text: str) -> None:
    try:
        spec = parse_array(text)
    except SpecError:
        return
    assert list(spec.indices) == sorted(set(spec.indices))
    assert all(0 <= i < 10001 for i in spec.indices)
