"""Placement policies: which feasible option wins, and why, in one sentence.

Each policy returns the index of the winner among the options, a score per
option (lower is better) and the reason. Ties are broken deterministically,
so a decision never depends on the order the clusters were given in:
``fastest`` prefers home, then the lower cost; ``cheapest`` the earlier
finish, then home; ``balanced`` the earlier finish, then home; last of all
the cluster and partition name. (Home before cost for ``fastest``: when
several clusters would start a job at once, moving it buys nothing.)

``balanced`` scores ``0.5 * f + 0.5 * c`` where ``f`` and ``c`` are the
option's predicted turnaround (finish - now) and cost, min-max normalised over
the feasible options (0 = the best option on that axis, 1 = the worst; 0
for everyone when all are equal).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from computenet.network.estimates import Estimate
from computenet.network.feasibility import fmt_duration

LOCAL_FIRST_WAIT_S = 300.0  # leave home only when its predicted wait passes this


@dataclass(frozen=True)
class Option:
    cluster: str
    partition: str
    est: Estimate
    home: bool


@dataclass(frozen=True)
class Choice:
    winner: int
    scores: tuple[float, ...]
    reason: str


@dataclass(frozen=True)
class Context:
    now: float
    deadline: float | None
    wait_threshold_s: float


def _fmt_cost(cost: float) -> str:
    return f"{cost:.2f}" if cost >= 0.01 or cost == 0 else f"{cost:.4f}"


def _tiebreak(o: Option) -> tuple[bool, str, str]:
    return (not o.home, o.cluster, o.partition)


def _label(o: Option, options: Sequence[Option]) -> str:
    same = sum(1 for x in options if x.cluster == o.cluster) > 1
    return f"{o.cluster}/{o.partition}" if same else o.cluster


def _summary(o: Option, options: Sequence[Option], now: float) -> str:
    e = o.est
    return (
        f"{_label(o, options)}: predicted start in {fmt_duration(e.start - now)}, "
        f"finish in {fmt_duration(e.end - now)}, cost {_fmt_cost(e.cost)}"
    )


def _later(a: Option, b: Option) -> str:
    """How ``b`` compares with the winner ``a`` on finish time."""
    diff = b.est.end - a.est.end
    if abs(diff) < 0.5:
        return "finishes at the same time"
    return f"finishes {fmt_duration(abs(diff))} {'later' if diff > 0 else 'earlier'}"


def _runner_up(order: list[int], options: Sequence[Option]) -> Option | None:
    return options[order[1]] if len(order) > 1 else None


def fastest(options: Sequence[Option], ctx: Context) -> Choice:
    scores = tuple(o.est.end - ctx.now for o in options)
    order = sorted(
        range(len(options)),
        key=lambda i: (
            options[i].est.end,
            not options[i].home,
            options[i].est.cost,
            _tiebreak(options[i]),
        ),
    )
    win = options[order[0]]
    reason = _summary(win, options, ctx.now) + ", the earliest finish"
    nxt = _runner_up(order, options)
    if nxt is not None:
        reason += f"; next best {_label(nxt, options)} {_later(win, nxt)}"
    return Choice(order[0], scores, reason)


def cheapest(options: Sequence[Option], ctx: Context) -> Choice:
    scores = tuple(o.est.cost for o in options)
    idx = range(len(options))
    if ctx.deadline is not None:
        meeting = [i for i in idx if options[i].est.end <= ctx.deadline]
        if not meeting:
            order = sorted(
                idx, key=lambda i: (options[i].est.end, options[i].est.cost, _tiebreak(options[i]))
            )
            win = options[order[0]]
            late = fmt_duration(win.est.end - ctx.deadline)
            return Choice(
                order[0],
                scores,
                f"{_summary(win, options, ctx.now)}; no cluster meets the deadline, "
                f"this one finishes earliest ({late} after it)",
            )
        idx = meeting  # type: ignore[assignment]
    order = sorted(
        idx, key=lambda i: (options[i].est.cost, options[i].est.end, _tiebreak(options[i]))
    )
    win = options[order[0]]
    reason = _summary(win, options, ctx.now) + ", the lowest cost"
    if ctx.deadline is not None:
        reason += f" meeting the deadline (in {fmt_duration(ctx.deadline - ctx.now)})"
    nxt = _runner_up(order, options)
    if nxt is not None:
        extra = nxt.est.cost - win.est.cost
        reason += (
            f"; next best {_label(nxt, options)} costs {_fmt_cost(extra)} more and "
            f"{_later(win, nxt)}"
        )
    return Choice(order[0], scores, reason)


def _norm(values: Sequence[float]) -> list[float]:
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-12 or hi == float("inf"):
        return [0.0 if v == lo else 1.0 for v in values]
    return [(v - lo) / (hi - lo) for v in values]


def balanced(options: Sequence[Option], ctx: Context) -> Choice:
    f = _norm([o.est.end - ctx.now for o in options])
    c = _norm([o.est.cost for o in options])
    scores = tuple(0.5 * fi + 0.5 * ci for fi, ci in zip(f, c, strict=True))
    order = sorted(
        range(len(options)), key=lambda i: (scores[i], options[i].est.end, _tiebreak(options[i]))
    )
    win = options[order[0]]
    reason = (
        f"{_summary(win, options, ctx.now)}, the best mix of finish time and cost "
        f"(score {scores[order[0]]:.2f}, 0 = best)"
    )
    nxt = _runner_up(order, options)
    if nxt is not None:
        reason += (
            f"; next best {_label(nxt, options)} scores {scores[order[1]]:.2f} and "
            f"{_later(win, nxt)}"
        )
    return Choice(order[0], scores, reason)


def local_first(options: Sequence[Option], ctx: Context) -> Choice:
    homes = [i for i, o in enumerate(options) if o.home]
    best = fastest(options, ctx)
    if not homes:
        return Choice(best.winner, best.scores, "no home cluster can run it; " + best.reason)
    home_i = min(homes, key=lambda i: (options[i].est.end, _tiebreak(options[i])))
    home = options[home_i]
    wait = home.est.start - ctx.now
    limit = fmt_duration(ctx.wait_threshold_s)
    if wait <= ctx.wait_threshold_s:
        return Choice(
            home_i,
            best.scores,
            f"{_summary(home, options, ctx.now)}; stays on the home cluster: "
            f"predicted wait {fmt_duration(wait)} is within {limit}",
        )
    win = options[best.winner]
    if win.cluster == home.cluster or win.est.end >= home.est.end:
        return Choice(
            home_i,
            best.scores,
            f"{_summary(home, options, ctx.now)}; predicted wait "
            f"{fmt_duration(wait)} passes {limit} but no other cluster "
            f"finishes sooner",
        )
    return Choice(
        best.winner,
        best.scores,
        f"{_summary(win, options, ctx.now)}; bursts from {home.cluster}: its "
        f"predicted wait {fmt_duration(wait)} passes {limit}, and this "
        f"finishes {fmt_duration(home.est.end - win.est.end)} sooner",
    )


POLICIES: dict[str, Callable[[Sequence[Option], Context], Choice]] = {
    "fastest": fastest,
    "cheapest": cheapest,
    "balanced": balanced,
    "local-first": local_first,
}
DEFAULT_POLICY = "fastest"
