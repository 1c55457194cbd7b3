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
    pool: str | None = None  # the partition is this pool's (network.bursting)
    grow: int = 0  # nodes the pool grows for the job
    note: str = ""  # what the pool does: "grows 1 node (boot 2 min)"


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
    #: local-first sends work to pool nodes already up while home's wait is
    #: above ``hysteresis * wait_threshold_s`` (1.0: only above the threshold)
    hysteresis: float = 1.0


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


def _pool_phrase(o: Option) -> str:
    return f"pool {o.pool} {o.note}" if o.note else f"pool {o.pool}"


def _burst_reason(win: Option, home: Option, options: Sequence[Option], ctx: Context) -> str:
    """Why ``win`` beats staying home, and how the other kind of burst compared."""
    wait = fmt_duration(home.est.start - ctx.now)
    limit = fmt_duration(ctx.wait_threshold_s)
    sooner = fmt_duration(home.est.end - win.est.end)
    text = (
        f"{_summary(win, options, ctx.now)}; bursts from {home.cluster}: its predicted "
        f"wait {wait} passes {limit}"
    )
    text += f"; {_pool_phrase(win)}, and" if win.pool is not None else ", and this"
    text += f" finishes {sooner} sooner"
    other_kind = [
        o
        for o in options
        if (o.pool is not None or o.cluster != home.cluster)
        and (o.pool is None) != (win.pool is None)
    ]
    if other_kind:
        alt = min(other_kind, key=lambda o: (o.est.end, o.est.cost, _tiebreak(o)))
        what = _pool_phrase(alt) if alt.pool is not None else f"remote {alt.cluster}"
        text += f"; {what} {_later(win, alt)}, cost {_fmt_cost(alt.est.cost)}"
    return text


def local_first(options: Sequence[Option], ctx: Context) -> Choice:
    # Pool partitions are never "home", even on the home cluster: growing one is a burst.
    homes = [i for i, o in enumerate(options) if o.home and o.pool is None]
    best = fastest(options, ctx)
    if not homes:
        return Choice(best.winner, best.scores, "no home cluster can run it; " + best.reason)
    home_i = min(homes, key=lambda i: (options[i].est.end, _tiebreak(options[i])))
    home = options[home_i]
    wait = home.est.start - ctx.now
    limit = fmt_duration(ctx.wait_threshold_s)

    def key(i: int) -> tuple[float, float, tuple[bool, str, str]]:
        return (options[i].est.end, options[i].est.cost, _tiebreak(options[i]))

    away = [
        i
        for i, o in enumerate(options)
        if (o.pool is not None or o.cluster != home.cluster) and o.est.end < home.est.end
    ]
    if wait <= ctx.wait_threshold_s:
        keep = ctx.wait_threshold_s * ctx.hysteresis
        warm = [i for i in away if options[i].pool is not None and options[i].grow == 0]
        if warm and wait > keep:
            win_i = min(warm, key=key)
            win = options[win_i]
            return Choice(
                win_i,
                best.scores,
                f"{_summary(win, options, ctx.now)}; {_pool_phrase(win)}: home's predicted "
                f"wait {fmt_duration(wait)} is within {limit} but above "
                f"{fmt_duration(keep)}, so nodes already up keep taking work",
            )
        return Choice(
            home_i,
            best.scores,
            f"{_summary(home, options, ctx.now)}; stays on the home cluster: "
            f"predicted wait {fmt_duration(wait)} is within {limit}",
        )
    if not away:
        return Choice(
            home_i,
            best.scores,
            f"{_summary(home, options, ctx.now)}; predicted wait "
            f"{fmt_duration(wait)} passes {limit} but no other cluster "
            f"finishes sooner",
        )
    win_i = min(away, key=key)
    return Choice(win_i, best.scores, _burst_reason(options[win_i], home, options, ctx))


POLICIES: dict[str, Callable[[Sequence[Option], Context], Choice]] = {
    "fastest": fastest,
    "cheapest": cheapest,
    "balanced": balanced,
    "local-first": local_first,
}
DEFAULT_POLICY = "fastest"
