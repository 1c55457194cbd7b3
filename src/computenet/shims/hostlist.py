"""Slurm's compressed host lists: ``n1,n2,n3,n7`` -> ``n[1-3,7]``."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NUMBERED = re.compile(r"(.*?)(\d+)")


def compress(names: Iterable[str]) -> str:
    """Group names by prefix and number width, ranges in brackets, in the
    order prefixes first appear; names without a number stay as they are."""
    groups: dict[tuple[str, int], list[int]] = {}
    plain: list[str] = []
    order: list[tuple[str, int] | str] = []
    for name in names:
        m = _NUMBERED.fullmatch(name)
        if m is None:
            if name not in plain:
                plain.append(name)
                order.append(name)
            continue
        digits = m.group(2)
        width = len(digits) if digits.startswith("0") else 0
        if not width and (m.group(1), len(digits)) in groups:
            width = len(digits)  # c10 after c01, c02: one zero-padded range
        key = (m.group(1), width)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(int(digits))
    out = []
    for item in order:
        if isinstance(item, str):
            out.append(item)
            continue
        prefix, width = item
        numbers = sorted(set(groups[item]))
        if len(numbers) == 1:
            out.append(f"{prefix}{numbers[0]:0{width}d}")
            continue
        out.append(f"{prefix}[{_ranges(numbers, width)}]")
    return ",".join(out)


def _ranges(numbers: list[int], width: int) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        a, b = f"{start:0{width}d}", f"{prev:0{width}d}"
        spans.append(a if start == prev else f"{a}-{b}")
        if n is not None:
            start = prev = n
    return ",".join(spans)
