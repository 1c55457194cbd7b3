"""Job array indices as sbatch ``--array`` writes them.

``0-15``, ``1,3,5``, ``0-99:3`` (step), a trailing ``%N`` (at most N tasks
run at once) and any comma list of these: ``1-5,10,20-30:2%4``. As with
Slurm's MaxArraySize, every index must be below ``max_size``.
"""

from __future__ import annotations

import itertools
import re

from computenet.errors import SpecError
from computenet.model.spec import ArraySpec

DEFAULT_MAX_ARRAY_SIZE = 10001

_ITEM = re.compile(r"(\d{1,12})(?:-(\d{1,12})(?::(\d{1,12}))?)?")


def parse_array(text: str, max_size: int = DEFAULT_MAX_ARRAY_SIZE) -> ArraySpec:
    """The sorted, distinct indices of ``text``; raises SpecError if invalid."""
    body, percent, limit_text = text.partition("%")
    max_running = None
    if percent:
        if not limit_text.isdecimal() or len(limit_text) > 12 or int(limit_text) < 1:
            raise _invalid(text, f"'%{limit_text}' must be a whole number >= 1")
        max_running = int(limit_text)
    if not body:
        raise _invalid(text, "no indices")
    chosen = bytearray(max_size)
    for item in body.split(","):
        m = _ITEM.fullmatch(item)
        if m is None:
            raise _invalid(text, f"'{item}' is not N, N-M or N-M:STEP")
        low = int(m.group(1))
        high = int(m.group(2)) if m.group(2) is not None else low
        step = int(m.group(3)) if m.group(3) is not None else 1
        if high < low:
            raise _invalid(text, f"range '{item}' ends before it starts")
        if step < 1:
            raise _invalid(text, f"step in '{item}' must be >= 1")
        if high >= max_size:
            raise SpecError(
                f"invalid --array={_short(text)}: index {high} is over the limit "
                f"(indices must be below {max_size})",
                option="array",
            )
        count = (high - low) // step + 1
        chosen[low : high + 1 : step] = b"\x01" * count
    indices = tuple(itertools.compress(range(max_size), chosen))
    return ArraySpec(indices=indices, max_running=max_running, text=text)


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:60] + "..."


def _invalid(text: str, why: str) -> SpecError:
    return SpecError(f"invalid --array={_short(text)}: {why}", option="array")
