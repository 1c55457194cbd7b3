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


_GROUP = re.compile(r"\[([^\[\]]*)\]")


def expand(text: str, *, limit: int = 100_000) -> list[str]:
    """``n[1-3,7],gpu[01-02]`` -> the names, in order, as Slurm's hostlists
    read (zero padding kept, several bracket groups per name multiply).

    Raises ``SpecError`` for a malformed list or one of more than ``limit``
    names (a hostile ``n[1-999999999]`` is refused before anything is built).
    """
    from computenet.errors import SpecError

    names: list[str] = []
    for item in _split_top(text.strip(), text):
        parts = _GROUP.split(item)
        if "[" in "".join(parts[0::2]) or "]" in "".join(parts[0::2]):
            raise SpecError(f"malformed host list {text!r}: unbalanced brackets")
        choices: list[list[str]] = []
        total = 1
        for i, part in enumerate(parts):
            if i % 2 == 0:
                choices.append([part])
                continue
            numbers = _expand_ranges(part, text, limit)
            total *= len(numbers)
            if total + len(names) > limit:
                raise SpecError(f"host list {text[:60]!r} names more than {limit} hosts")
            choices.append(numbers)
        partial = [""]
        for options in choices:
            partial = [p + o for p in partial for o in options]
        names.extend(n for n in partial if n)
    if not names:
        raise SpecError(f"empty host list {text!r}")
    return names


def _split_top(text: str, original: str) -> list[str]:
    """Split on commas outside brackets."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
        if depth not in (0, 1):
            from computenet.errors import SpecError

            raise SpecError(f"malformed host list {original!r}: unbalanced brackets")
    items.append(text[start:])
    return [i.strip() for i in items if i.strip()]


def _expand_ranges(body: str, original: str, limit: int) -> list[str]:
    from computenet.errors import SpecError

    out: list[str] = []
    for span in body.split(","):
        lo, sep, hi = span.strip().partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise SpecError(f"malformed host list {original!r}: bad range {span!r}")
        width = len(lo) if lo.startswith("0") and len(lo) > 1 else 0
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise SpecError(f"malformed host list {original!r}: range {span!r} runs backwards")
        if b - a + 1 + len(out) > limit:
            raise SpecError(f"host list {original[:60]!r} names more than {limit} hosts")
        out.extend(f"{n:0{width}d}" for n in range(a, b + 1))
    return out
