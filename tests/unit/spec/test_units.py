"""Durations, memory sizes and counts in Slurm's formats."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from computenet.errors import SpecError
from computenet.spec import format_mem, format_time, parse_mem_bytes, parse_time_s
from computenet.spec.units import parse_node_range


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1", 60),
        ("90", 5400),
        ("1:30", 90),
        ("1:90", 150),  # Slurm does not range-check fields
        ("2:03:04", 7384),
        ("25:00:00", 90000),
        ("00:00:30", 30),
        ("1-0", 86400),
        ("1-", 86400),
        ("1-2", 93600),
        ("1-2:3", 93780),
        ("1-2:3:4", 93784),
        ("UNLIMITED", None),
        ("infinite", None),
        ("-1", None),
        ("0", None),  # sbatch: a limit of zero requests no limit
        ("0:0", None),
    ],
)
def test_time_formats(text: str, seconds: int | None) -> None:
    assert parse_time_s(text) == seconds


@pytest.mark.parametrize("text", ["1-2:3:4:5", "1.5", "abc", "", " 5", "5m", "-1-2", "1:2:3:4"])
def test_bad_times_are_refused_with_the_formats(text: str) -> None:
    with pytest.raises(SpecError, match="invalid time"):
        parse_time_s(text)


def test_huge_time_text_is_refused_not_slow() -> None:
    with pytest.raises(SpecError, match="too long"):
        parse_time_s("9" * 5000)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "UNLIMITED"),
        (0, "00:00:00"),
        (59, "00:00:59"),
        (3600, "01:00:00"),
        (86400, "1-00:00:00"),
        (93784, "1-02:03:04"),
        (100 * 86400, "100-00:00:00"),
    ],
)
def test_format_time_is_slurms_display(seconds: int | None, text: str) -> None:
    assert format_time(seconds) == text


@given(st.integers(min_value=1, max_value=10**9))
def test_time_round_trip(seconds: int) -> None:
    assert parse_time_s(format_time(seconds)) == seconds


@given(st.text(max_size=30))
def test_time_parser_raises_only_spec_error(text: str) -> None:
    try:
        result = parse_time_s(text)
    except SpecError:
        return
    assert result is None or result > 0


@pytest.mark.parametrize(
    ("text", "mem_bytes"),
    [
        ("0", 0),
        ("100", 100 * 2**20),
        ("100M", 100 * 2**20),
        ("4G", 4 * 2**30),
        ("4g", 4 * 2**30),
        ("4GB", 4 * 2**30),
        ("1T", 2**40),
        ("512K", 512 * 2**10),
        ("100MB", 100 * 2**20),
        ("0G", 0),
    ],
)
def test_memory_units(text: str, mem_bytes: int) -> None:
    assert parse_mem_bytes(text) == mem_bytes


def test_memory_default_unit_is_a_parameter() -> None:
    assert parse_mem_bytes("2", default_unit="G") == 2 * 2**30


@pytest.mark.parametrize("text", ["2P", "1.5G", "-1", "abc", "4X", "", "G"])
def test_bad_memory_is_refused(text: str) -> None:
    with pytest.raises(SpecError, match="invalid memory size"):
        parse_mem_bytes(text)


@given(st.integers(min_value=0, max_value=2**50), st.sampled_from(["K", "M", "G", "T"]))
def test_memory_round_trip(count: int, unit: str) -> None:
    mem_bytes = parse_mem_bytes(f"{count}{unit}")
    assert parse_mem_bytes(format_mem(mem_bytes)) == mem_bytes


@given(st.text(max_size=30))
def test_memory_parser_raises_only_spec_error(text: str) -> None:
    try:
        result = parse_mem_bytes(text)
    except SpecError:
        return
    assert result >= 0


def test_node_ranges() -> None:
    assert parse_node_range("2") == (2, None)
    assert parse_node_range("2-4") == (2, 4)
    with pytest.raises(SpecError, match="maximum node count 2 is less than minimum node count 4"):
        parse_node_range("4-2")
    for bad in ("0", "-1", "abc", "2,4", "2.5", "2-"):
        with pytest.raises(SpecError, match="--nodes"):
            parse_node_range(bad)
