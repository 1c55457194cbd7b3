"""What elastic pools buy against static capacity: two cost curves.

- ``threshold_curve``: the centres alone, each with its own pool, local-first
  bursting at a range of wait thresholds: (mean wait, pool cost) per
  threshold. A lower threshold bursts more: less wait, more money.
- ``static_curve``: the centres alone with processors added for the whole
  period, greedily: each step tries adding a share (``step_share``) of one
  centre's processors, or of every centre's at once, and keeps the step
  that lowers the network's mean wait most per processor added, until the
  wait reaches the target. Steps are whole nodes (``step_procs``). Cost:
  processors x price x the replay's span (static capacity is paid whether
  used or not).
- ``cost_at``: the money a curve needs to reach a mean wait, by linear
  interpolation between the two points that bracket it.

The greedy search is a heuristic, not a proof of the cheapest static
capacity; it beats adding the same share to every centre by a wide margin
(see docs/bursting.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from computenet.sim.network import NetworkConfig, NetworkResult, replay_network
from computenet.sim.network_trace import Centre


@dataclass(frozen=True)
class Point:
    label: str  # "threshold 3600 s" or "+96 processors (0,32,32,32)"
    mean_wait_s: float
    cost: float
    detail: tuple[int, ...] = ()  # static: processors added per centre


def threshold_curve(
    centres: Sequence[Centre],
    config: NetworkConfig,
    thresholds: Sequence[float],
    progress: Callable[[Point, NetworkResult], None] | None = None,
) -> list[Point]:
    """One replay per threshold; ``config`` must have pools and ``local-first``."""
    out = []
    for t in thresholds:
        r = replay_network(centres, replace(config, wait_threshold_s=t))
        point = Point(f"threshold {t:g} s", r.mean_wait_s, sum(p.cost for p in r.pools))
        out.append(point)
        if progress is not None:
            progress(point, r)
    return out


def static_curve(
    centres: Sequence[Centre],
    *,
    step_procs: int,
    price_per_proc_hour: float,
    target_wait_s: float,
    step_share: float = 0.05,
    max_steps: int = 100,
    queue_policy: str = "easy",
    progress: Callable[[Point], None] | None = None,
) -> list[Point]:
    """The greedy path from no extra capacity to the target wait."""
    k = len(centres)
    extra = [0] * k
    steps = [
        max(step_procs, round(c.capacity * step_share / step_procs) * step_procs) for c in centres
    ]

    def run(added: Sequence[int]) -> NetworkResult:
        return replay_network(
            centres,
            NetworkConfig(policy="home", queue_policy=queue_policy, extra_capacity=tuple(added)),
        )

    def cost(added: Sequence[int], r: NetworkResult) -> float:
        return sum(added) * price_per_proc_hour * r.makespan_s / 3600.0

    r = run(extra)
    points = [Point("+0 processors", r.mean_wait_s, 0.0, tuple(extra))]
    if progress is not None:
        progress(points[-1])
    for _ in range(max_steps):
        if points[-1].mean_wait_s <= target_wait_s:
            break
        best: tuple[float, list[int], NetworkResult] | None = None
        here = points[-1].mean_wait_s
        trials = [[x + (steps[i] if j == i else 0) for j, x in enumerate(extra)] for i in range(k)]
        trials.append([x + s for x, s in zip(extra, steps, strict=True)])
        for trial in trials:
            got = run(trial)
            gain = (here - got.mean_wait_s) / (sum(trial) - sum(extra))
            if best is None or gain > best[0]:
                best = (gain, trial, got)
        assert best is not None
        _, extra, r = best
        label = f"+{sum(extra)} processors ({','.join(map(str, extra))})"
        points.append(Point(label, r.mean_wait_s, cost(extra, r), tuple(extra)))
        if progress is not None:
            progress(points[-1])
    return points


def cost_at(points: Sequence[Point], target_wait_s: float) -> float | None:
    """The cost at which the curve reaches ``target_wait_s`` (None if it never does).

    Points are taken in order of cost; between the last point above the
    target and the first at or below it, the cost is interpolated linearly
    in the wait.
    """
    ordered = sorted(points, key=lambda p: p.cost)
    prev = None
    for p in ordered:
        if p.mean_wait_s <= target_wait_s:
            if prev is None or prev.mean_wait_s == p.mean_wait_s:
                return p.cost
            share = (prev.mean_wait_s - target_wait_s) / (prev.mean_wait_s - p.mean_wait_s)
            return prev.cost + share * (p.cost - prev.cost)
        prev = p
    return None
