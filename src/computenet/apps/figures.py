"""Reading a run's performance figure from its output (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from computenet.model import AppFigure

#: How much of a stream's end is searched: figures are printed at the end.
TAIL_BYTES = 1 << 20


@dataclass(frozen=True)
class Reading:
    """The figure of one run, or ``value=None`` with why there is none."""

    value: float | None
    line: str | None = None  # the output line it was read from
    note: str | None = None


def read_figure(figure: AppFigure, text: str) -> Reading:
    """The last match of the figure's regex in ``text``. Never invents a
    number: no match, or a match that is not a finite positive number, gives
    ``value=None`` and a note saying so."""
    try:
        pattern = re.compile(figure.regex, re.MULTILINE)
    except re.error as exc:
        return Reading(None, None, f"the figure's regex does not compile: {exc}")
    last = None
    for found in pattern.finditer(text):
        last = found
    if last is None:
        return Reading(
            None,
            None,
            f"no {figure.unit} figure in the job's {figure.stream} (regex {figure.regex})",
        )
    raw = last.group("value") if "value" in pattern.groupindex else last.group(1)
    start = text.rfind("\n", 0, last.start()) + 1
    end = text.find("\n", last.end())
    line = text[start : end if end >= 0 else len(text)].strip()[:500]
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return Reading(None, line, f"the matched text {str(raw)[:40]!r} is not a number")
    if not math.isfinite(value) or value <= 0:
        return Reading(None, line, f"the matched figure {raw} is not a positive number")
    return Reading(value, line, None)
