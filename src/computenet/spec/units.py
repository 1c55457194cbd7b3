"""Slurm's formats for durations, memory sizes and counts.

Durations follow sbatch ``--time``: ``M``, ``M:S``, ``H:M:S``, ``D-H``,
``D-H:M``, ``D-H:M:S`` (fields are not range-checked, as in Slurm), and
``UNLIMITED``/``INFINITE``/``-1``/``0`` mean no limit (None). Unlike Slurm,
which rounds a limit up to whole minutes, seconds are kept exactly.

Memory follows ``--mem``: a whole number with an optional unit K, M, G or T
(binary, any case, optionally followed by B); no unit means megabytes.
"""

from __future__ import annotations

import re

from computenet.errors import SpecError

# Longer texts are never valid and would make int() slow or refuse.
_MAX_TEXT = 40

_UNLIMITED = frozenset({"unlimited", "infinite", "-1"})
_TIME_PLAIN = re.compile(r"(\d+)(?::(\d+))?(?::(\d+))?")
_TIME_DAYS = re.compile(r"(\d+)-(?:(\d+)(?::(\d+))?(?::(\d+))?)?")
_MEM = re.compile(r"(\d+)([KMGT]?)B?", re.IGNORECASE)
_MEM_FACTORS = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_COUNT = re.compile(r"\d+")


def parse_time_s(text: str) -> int | None:
    """Seconds in a Slurm duration; None for no limit.

    Raises SpecError for anything sbatch would call an invalid time.
    """
    if len(text) > _MAX_TEXT:
        raise SpecError(f"invalid time '{text[:_MAX_TEXT]}...': too long")
    if text.lower() in _UNLIMITED:
        return None
    if m := _TIME_DAYS.fullmatch(text):
        days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
        total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    elif m := _TIME_PLAIN.fullmatch(text):
        a, b, c = m.groups()
        if c is not None:  # H:M:S
            total = (int(a) * 60 + int(b)) * 60 + int(c)
        elif b is not None:  # M:S
            total = int(a) * 60 + int(b)
        else:  # M
            total = int(a) * 60
    else:
        raise SpecError(
            f"invalid time '{text}' (use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, "
            "D-HH:MM:SS or UNLIMITED)"
        )
    # A limit of zero asks for no limit (sbatch's documented meaning).
    return total or None


def format_time(seconds: int | None) -> str:
    """Slurm's display of a duration: ``D-HH:MM:SS`` or ``HH:MM:SS``.

    ``parse_time_s(format_time(s)) == s`` for every positive ``s``.
    """
    if seconds is None:
        return "UNLIMITED"
    if seconds < 0:
        raise ValueError(f"negative duration {seconds}")
    minutes, secs = divmod(seconds, 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{days}-{hrs:02d}:{mins:02d}:{secs:02d}"
    return f"{hrs:02d}:{mins:02d}:{secs:02d}"


def format_elapsed(seconds: float) -> str:
    """squeue's TIME column: ``M:SS``, ``H:MM:SS``, ``D-HH:MM:SS``."""
    s = max(0, int(seconds))
    days, s = divmod(s, 86400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}-{hours:02d}:{minutes:02d}:{s:02d}"
    if hours:
        return f"{hours}:{minutes:02d}:{s:02d}"
    return f"{minutes}:{s:02d}"


def parse_mem_bytes(text: str, default_unit: str = "M") -> int:
    """Bytes in a Slurm memory size (``0`` stays 0: "all of the node's memory").

    Raises SpecError for fractions, negative sizes and unknown units.
    """
    unit_default = default_unit.upper()
    if unit_default not in _MEM_FACTORS:
        raise ValueError(f"unknown default unit {default_unit!r}")
    m = _MEM.fullmatch(text) if len(text) <= _MAX_TEXT else None
    if m is None:
        raise SpecError(
            f"invalid memory size '{text[:_MAX_TEXT]}' (use a whole number with K, M, G or T)"
        )
    unit = m.group(2).upper() or unit_default
    return int(m.group(1)) * _MEM_FACTORS[unit]


def format_mem(mem_bytes: int) -> str:
    """The largest exact Slurm unit: 4294967296 -> ``4G``; 1536 KiB -> ``1536K``."""
    for unit in ("T", "G", "M", "K"):
        factor = _MEM_FACTORS[unit]
        if mem_bytes and mem_bytes % factor == 0:
            return f"{mem_bytes // factor}{unit}"
    if mem_bytes == 0:
        return "0"
    raise ValueError(f"{mem_bytes} bytes is not a whole number of KiB")


def parse_count(text: str, option: str, *, minimum: int = 1) -> int:
    """A whole number of at least ``minimum`` for ``--option``."""
    if len(text) > _MAX_TEXT or not _COUNT.fullmatch(text) or int(text) < minimum:
        raise SpecError(
            f"invalid value '{text[:_MAX_TEXT]}' for --{option}: expected a whole number "
            f">= {minimum}",
            option=option,
        )
    return int(text)


def parse_node_range(text: str) -> tuple[int, int | None]:
    """``--nodes`` as (minimum, maximum); maximum is None when not a range."""
    low, dash, high = text.partition("-")
    minimum = parse_count(low, "nodes")
    if not dash:
        return minimum, None
    maximum = parse_count(high, "nodes")
    if maximum < minimum:
        raise SpecError(
            f"invalid --nodes={text}: maximum node count {maximum} is less than "
            f"minimum node count {minimum}",
            option="nodes",
        )
    return minimum, maximum
