"""squeue/sinfo/sacct format strings: parsing and padding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.shims.common import UsageError
from computenet.shims.formats import (
    Column,
    fit,
    pad,
    parse_long,
    parse_percent,
    parse_sacct,
    render,
    sacct_cell,
)
from computenet.shims.sacct import DEFAULT_WIDTHS
from computenet.shims.squeue import DEFAULT_FORMAT, FIELDS, LONG_NAMES


def test_default_squeue_format() -> None:
    parts = parse_percent(DEFAULT_FORMAT, FIELDS)
    columns = [p for p in parts if isinstance(p, Column)]
    assert [(c.key, c.width, c.right) for c in columns] == [
        ("i", 18, True),
        ("P", 9, True),
        ("j", 8, True),
        ("u", 8, True),
        ("t", 2, True),
        ("M", 10, True),
        ("D", 6, True),
        ("R", 0, False),
    ]
    assert [p for p in parts if isinstance(p, str)] == [" "] * 7


def test_literal_text_and_percent_sign() -> None:
    parts = parse_percent("id=%i|%%|%5j;", FIELDS)
    assert parts == ["id=", Column("i"), "|", "%", "|", Column("j", 5), ";"]
    assert render(parts, {"i": "12", "j": "a-long-name"}) == "id=12|%|a-lon;"


def test_unknown_letter_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="Invalid job format specification: W"):
        parse_percent("%i %W", FIELDS)


def test_pad_truncates_and_justifies() -> None:
    assert pad("abcdef", 3, right=False) == "abc"
    assert pad("ab", 4, right=True) == "  ab"
    assert pad("ab", 4, right=False) == "ab  "
    assert pad("anything", 0, right=True) == "anything"


def test_fit_widths() -> None:
    parts = fit(parse_percent("%#P %D", {"P": 0, "D": 0}), [{"P": "PARTITION"}, {"P": "x"}])
    assert parts[0] == Column("P", 9)


def test_long_format() -> None:
    parts = parse_long("JobArrayID,statecompact:.4,Reason:10|", LONG_NAMES)
    assert parts == [
        Column("JobArrayID", 20),
        Column("StateCompact", 4, True),
        Column("Reason", 10, False, "|"),
    ]
    with pytest.raises(UsageError):
        parse_long("NoSuchField", LONG_NAMES)


def test_sacct_format_widths_and_case() -> None:
    fields = parse_sacct("jobid,State%20,JobName%-5,exitcode", DEFAULT_WIDTHS)
    assert [(f.name, f.width) for f in fields] == [
        ("JobID", -12),
        ("State", 20),
        ("JobName", -5),
        ("ExitCode", 8),
    ]
    with pytest.raises(UsageError, match='Invalid field requested: "Bogus"'):
        parse_sacct("JobID,Bogus%3", DEFAULT_WIDTHS)


def test_sacct_cell_marks_truncation() -> None:
    assert sacct_cell("COMPLETED", 10) == " COMPLETED"
    assert sacct_cell("12", -6) == "12    "
    assert sacct_cell("a_very_long_name", 10) == "a_very_lo+"


@given(st.text(max_size=30), st.integers(1, 25), st.booleans())
def test_pad_has_the_width(value: str, width: int, right: bool) -> None:
    out = pad(value, width, right)
    assert len(out) == width
    kept = value[:width]  # the value's start, cut at the width
    assert out.endswith(kept) if right else out.startswith(kept)


@given(st.text(max_size=40), st.integers(-25, 25).filter(lambda n: n != 0))
def test_sacct_cell_has_the_width(value: str, width: int) -> None:
    cell = sacct_cell(value, width)
    assert len(cell) == abs(width)
    if len(value) <= abs(width):
        assert cell.strip(" ") == value.strip(" ")
