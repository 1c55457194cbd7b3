"""The four centres' workload traces the network benchmarks replay."""

from __future__ import annotations

import json
from pathlib import Path

TRACES = Path(__file__).resolve().parents[1].parent / "shared" / "traces"
CENTRES = (
    "SDSC-SP2-1998-4.2-cln.swf.gz",
    "KTH-SP2-1996-2.1-cln.swf.gz",
    "HPC2N-2002-2.2-cln.swf.gz",
    "LANL-CM5-1994-4.1-cln.swf.gz",
)


def centre_paths(folder: Path) -> list[Path] | None:
    """The four traces under ``folder``, or None when any is missing."""
    paths = [folder / name for name in CENTRES]
    return paths if all(p.exists() for p in paths) else None


def print_skipped(figure: str, unit: str, baseline: str, why: str) -> None:
    """Say why, then the last line of a benchmark that measured nothing."""
    print(why)
    print(
        json.dumps(
            {
                "figure": figure,
                "value": None,
                "unit": unit,
                "baseline": baseline,
                "baseline_value": None,
                "ratio": None,
                "goal": "skipped",
            }
        )
    )
