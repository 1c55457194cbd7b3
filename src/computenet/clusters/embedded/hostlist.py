"""Slurm's compressed notations: host lists ("a-n[1-3,5]") and counts ("2(x3),1")."""

from __future__ import annotations

import re
from collections.abc import Sequence

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _ranges(numbers: list[int]) -> str:
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ",".join(parts)


def compress_hostlist(names: Sequence[str]) -> str:
    """``["a-n1", "a-n2", "b"]`` -> ``"a-n[1-2],b"``, grouping names by prefix in order."""
    groups: dict[str, list[int]] = {}
    plain: list[str] = []
    order: list[str] = []
    for name in names:
        match = _NUMBERED.match(name)
        if match is None or (len(match.group(2)) > 1 and match.group(2).startswith("0")):
            plain.append(name)
            order.append("\0" + name)
            continue
        prefix = match.group(1)
        if prefix not in groups:
            groups[prefix] = []
            order.append(prefix)
        groups[prefix].append(int(match.group(2)))
    out: list[str] = []
    for key in order:
        if key.startswith("\0"):
            out.append(key[1:])
            continue
        numbers = sorted(set(groups[key]))
        if len(numbers) == 1:
            out.append(f"{key}{numbers[0]}")
        else:
            out.append(f"{key}[{_ranges(numbers)}]")
    return ",".join(out)


def expand_hostlist(text: str) -> list[str]:
    """The inverse of ``compress_hostlist`` for the forms it writes."""
    names: list[str] = []
    for match in re.finditer(r"([^,\[]+)(?:\[([^\]]*)\])?", text):
        prefix, ranges = match.group(1), match.group(2)
        if ranges is None:
            names.append(prefix)
            continue
        for part in ranges.split(","):
            lo, _, hi = part.partition("-")
            names.extend(f"{prefix}{n}" for n in range(int(lo), int(hi or lo) + 1))
    return names


def compress_counts(counts: Sequence[int]) -> str:
    """``[2, 2, 1]`` -> ``"2(x2),1"`` as in SLURM_TASKS_PER_NODE."""
    out: list[str] = []
    i = 0
    while i < len(counts):
        j = i
        while j + 1 < len(counts) and counts[j + 1] == counts[i]:
            j += 1
        run = j - i + 1
        out.append(str(counts[i]) if run == 1 else f"{counts[i]}(x{run})")
        i = j + 1
    return ",".join(out)
