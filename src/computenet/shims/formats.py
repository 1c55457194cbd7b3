"""Output format strings of squeue (``-o``, ``-O``), sinfo (``-o``) and sacct
(``-o``): parsing them into columns and padding values into place."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from computenet.shims.common import UsageError

_PERCENT = re.compile(r"%(\.)?-?(#|\d*)([A-Za-z%])")
FIT = -1  # the "#" width: as wide as the widest value of the column
_LONG_WIDTH = re.compile(r"(\.)?(\d*)(.*)")
_SACCT_FIELD = re.compile(r"([A-Za-z]+)(?:%(-?\d+))?")
LONG_DEFAULT_WIDTH = 20


@dataclass(frozen=True)
class Column:
    """One field of a format: ``key`` names it; width 0 means as wide as the
    value (never truncated); ``right`` is right justification."""

    key: str
    width: int = 0
    right: bool = False
    suffix: str = ""  # text printed after the field (``-O`` suffixes)


Part = Column | str  # a field, or literal text between fields


def parse_percent(fmt: str, known: Mapping[str, object]) -> list[Part]:
    """``%[.][size]letter`` fields with literal text between (squeue/sinfo -o).

    ``known`` holds the accepted letters; an unknown one is a UsageError.
    """
    parts: list[Part] = []
    pos = 0
    for m in _PERCENT.finditer(fmt):
        if m.start() > pos:
            parts.append(fmt[pos : m.start()])
        dot, size, letter = m.groups()
        pos = m.end()
        if letter == "%":
            parts.append("%")
            continue
        if letter not in known:
            raise UsageError(f"Invalid job format specification: {letter}")
        width = FIT if size == "#" else int(size or 0)
        parts.append(Column(letter, width, bool(dot)))
    if pos < len(fmt):
        parts.append(fmt[pos:])
    return parts


def parse_long(fmt: str, known: Mapping[str, object]) -> list[Part]:
    """``name[:[.][size][suffix]],...`` fields (squeue/sinfo -O), names
    matched case-insensitively; a field without a size is 20 wide."""
    by_lower = {k.lower(): k for k in known}
    parts: list[Part] = []
    for item in fmt.split(","):
        if not item.strip():
            continue
        name, colon, spec = item.strip().partition(":")
        key = by_lower.get(name.lower())
        if key is None:
            raise UsageError(f"Invalid job format specification: {name}")
        width, right, suffix = LONG_DEFAULT_WIDTH, False, ""
        if colon:
            m = _LONG_WIDTH.fullmatch(spec)
            assert m is not None  # the pattern matches any text
            dot, size, suffix = m.groups()
            right = bool(dot)
            width = int(size) if size else LONG_DEFAULT_WIDTH
        parts.append(Column(key, width, right, suffix))
    if not parts:
        raise UsageError("no fields in the format")
    return parts


def fit(parts: list[Part], rows: list[Mapping[str, str]]) -> list[Part]:
    """Replace "#" widths by the widest value of the column in ``rows``."""
    out: list[Part] = []
    for part in parts:
        if isinstance(part, Column) and part.width == FIT:
            widest = max((len(r[part.key]) for r in rows), default=1)
            part = Column(part.key, max(1, widest), part.right, part.suffix)
        out.append(part)
    return out


def pad(value: str, width: int, right: bool) -> str:
    """squeue's ``%[-]*.*s``: pad to ``width`` and cut what is longer."""
    if width <= 0:
        return value
    value = value[:width]
    return value.rjust(width) if right else value.ljust(width)


def render(parts: list[Part], values: Mapping[str, str]) -> str:
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        else:
            out.append(pad(values[part.key], part.width, part.right) + part.suffix)
    return "".join(out)


@dataclass(frozen=True)
class SacctField:
    """A sacct column: positive widths are right-justified, negative left."""

    name: str
    width: int


def parse_sacct(fmt: str, defaults: Mapping[str, int]) -> list[SacctField]:
    """``Field[%width],...`` with names matched case-insensitively."""
    by_lower = {k.lower(): k for k in defaults}
    fields: list[SacctField] = []
    for item in fmt.split(","):
        item = item.strip()
        if not item:
            continue
        m = _SACCT_FIELD.fullmatch(item)
        name = by_lower.get(m.group(1).lower()) if m else None
        if m is None or name is None:
            raise UsageError(f'Invalid field requested: "{item.partition("%")[0]}"')
        width = int(m.group(2)) if m.group(2) is not None else defaults[name]
        fields.append(SacctField(name, width))
    if not fields:
        raise UsageError("no fields in the format")
    return fields


def sacct_cell(value: str, width: int) -> str:
    """One fixed-width sacct cell: too long ends in ``+``, then padded."""
    size = abs(width)
    if len(value) > size:
        value = value[: size - 1] + "+" if size > 1 else value[:size]
    return value.rjust(size) if width > 0 else value.ljust(size)
