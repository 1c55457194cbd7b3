"""PNG figures of a replay: utilisation over time and the wait distribution.

matplotlib is imported here only (the ``sim`` extra), with the Agg backend
so no display is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from computenet.sim.errors import SimError
from computenet.sim.metrics import MetricsRecorder

_HOUR_S = 3600.0


def utilization_series(
    recorder: MetricsRecorder, capacity: int, bin_s: float = _HOUR_S
) -> tuple[np.ndarray, np.ndarray]:
    """(bin start in hours from the first submit, busy fraction in the bin)."""
    starts = np.frombuffer(recorder.starts)
    ends = np.frombuffer(recorder.ends)
    procs = np.frombuffer(recorder.procs, dtype=np.int64).astype(np.float64)
    origin = float(np.frombuffer(recorder.submits).min())
    horizon = float(ends.max()) - origin
    bins = max(1, int(np.ceil(horizon / bin_s)))
    busy = np.zeros(bins + 1)
    # processor-seconds per bin: each job adds procs over [start, end); a
    # cumulative sum of per-bin rates handles the partial first and last bins.
    first = (starts - origin) / bin_s
    last = (ends - origin) / bin_s
    lo = np.floor(first).astype(np.int64)
    hi = np.floor(last).astype(np.int64)
    # every bin a job touches gets its procs, then the parts of the first
    # and last bins outside [start, end) are taken off again
    rate = np.zeros(bins + 2)
    np.add.at(rate, lo, procs)
    np.add.at(rate, hi + 1, -procs)
    busy += np.cumsum(rate)[: bins + 1]
    np.add.at(busy, lo, -procs * (first - lo))
    np.add.at(busy, hi, -procs * (hi + 1 - last))
    fraction = busy[:bins] / capacity
    return np.arange(bins) * (bin_s / _HOUR_S), fraction


def write_plots(
    recorder: MetricsRecorder, capacity: int, directory: str | Path, title: str = ""
) -> list[Path]:
    """Write ``utilization.png`` and ``waits.png`` into ``directory``."""
    if len(recorder) == 0:
        raise SimError("no job started: nothing to plot")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(directory)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SimError(f"cannot create plot directory {out}: {exc.strerror}") from exc
    hours, fraction = utilization_series(recorder, capacity)
    day = 24
    days = hours[::day] / day if len(hours) > day else hours / day
    daily = (
        fraction[: len(fraction) // day * day].reshape(-1, day).mean(axis=1)
        if len(fraction) >= day
        else fraction
    )
    fig, ax = plt.subplots(figsize=(9, 3.5))
    ax.plot(hours / day, fraction, linewidth=0.3, alpha=0.5, label="hourly")
    ax.plot(days[: len(daily)], daily, linewidth=1.0, label="daily mean")
    ax.set_xlabel("days since first submit")
    ax.set_ylabel("utilisation")
    ax.set_ylim(0, 1.05)
    ax.set_title(f"{title} utilisation".strip())
    ax.legend(loc="lower right")
    fig.tight_layout()
    utilization_png = out / "utilization.png"
    fig.savefig(utilization_png, dpi=110)
    plt.close(fig)

    waits = np.sort(recorder.waits())
    fig, ax = plt.subplots(figsize=(6, 4))
    shown = np.maximum(waits, 1.0)  # log axis: zero waits drawn at 1 s
    ax.plot(shown, np.arange(1, len(waits) + 1) / len(waits))
    ax.set_xscale("log")
    ax.set_xlabel("wait (s, zero shown at 1 s)")
    ax.set_ylabel("fraction of jobs")
    ax.set_title(f"{title} wait distribution".strip())
    ax.grid(True, which="both", linewidth=0.3)
    fig.tight_layout()
    waits_png = out / "waits.png"
    fig.savefig(waits_png, dpi=110)
    plt.close(fig)
    return [utilization_png, waits_png]
