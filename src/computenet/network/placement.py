"""The broker's decision: filter, estimate, score, explain.

``place`` is a pure function of (job, cluster views, now). It never raises
for a job nobody can run; it returns ``chosen=None`` with a reason, and the
caller decides whether that is an error (nothing can ever run it) or a wait
(every cluster that could run it is down: the reason starts with
``"waiting: "``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from computenet.errors import SpecError
from computenet.model import Candidate, ClusterHealth, JobSpec, Placement
from computenet.network import bursting
from computenet.network.access import allowed_partitions
from computenet.network.estimates import Estimate, estimate, runtime
from computenet.network.feasibility import (
    Fit,
    candidate_partitions,
    cluster_why_not,
    fit,
)
from computenet.network.policies import (
    DEFAULT_POLICY,
    LOCAL_FIRST_WAIT_S,
    POLICIES,
    Context,
    Option,
)
from computenet.network.view import ClusterView

WAITING_PREFIX = "waiting: "


def _fits(spec: JobSpec, view: ClusterView) -> list[Fit] | str:
    why = cluster_why_not(spec, view.info, view.allowed, view.denied, view.containers)
    if why is not None:
        return why
    parts = candidate_partitions(spec, view.info)
    if isinstance(parts, str):
        return parts
    if view.partitions_allowed is not None:
        parts = allowed_partitions(spec, view, parts)
        if isinstance(parts, str):
            return parts
    fits: list[Fit] = []
    first_why: str | None = None
    for p in parts:
        f = fit(spec, view.info, p)
        if isinstance(f, str):
            first_why = first_why or f
        else:
            fits.append(f)
    return fits if fits else (first_why or f"{view.name} cannot run it")


def feasible(spec: JobSpec, clusters: Sequence[ClusterView]) -> list[Candidate]:
    """Every cluster (and partition) checked against the job's shape, sorted
    by name: ``feasible=True`` candidates could run it (now or once the
    cluster is up again); the others carry ``why_not``. No estimates."""
    out: list[Candidate] = []
    for view in sorted(clusters, key=lambda v: v.name):
        fits = _fits(spec, view)
        if isinstance(fits, str):
            out.append(Candidate(view.name, None, False, why_not=fits))
        else:
            out.extend(Candidate(view.name, f.partition.name, True) for f in fits)
    return out


def _resolve_policy(spec: JobSpec, policy: str | None) -> str:
    name = policy or spec.policy or DEFAULT_POLICY
    if name not in POLICIES:
        raise SpecError(f"unknown placement policy {name!r}; known: {', '.join(POLICIES)}")
    return name


def place(
    spec: JobSpec,
    clusters: Sequence[ClusterView],
    *,
    now: float,
    policy: str | None = None,
    input_bytes: int = 0,
    wait_threshold_s: float = LOCAL_FIRST_WAIT_S,
    pools: Mapping[tuple[str, str], bursting.PoolView] | None = None,
    caps: bursting.Caps | None = None,
    hysteresis: float = 1.0,
) -> Placement:
    """Choose where ``spec`` should run.

    Guarantees: ``candidates`` holds one entry per (cluster, partition) that
    fits, plus one per cluster that does not (with ``why_not``); the result
    does not depend on the order of ``clusters``. Raises ``SpecError`` only
    for an unknown policy name.

    ``pools`` maps (cluster, partition) to the pool behind that partition:
    its start and cost come from ``bursting.offer`` instead of the queue.
    A pool grows only for ``local-first`` jobs and for jobs that name its
    partition; any job may use its nodes that are already up. ``caps``
    bounds the growth by the network's spending per hour.
    """
    name = _resolve_policy(spec, policy)
    candidates: list[Candidate] = []
    options: list[Option] = []
    option_slot: list[int] = []  # options[i] -> index in candidates
    waiting: list[str] = []
    never: list[str] = []
    for view in sorted(clusters, key=lambda v: v.name):
        fits = _fits(spec, view)
        if isinstance(fits, str):
            candidates.append(Candidate(view.name, None, False, why_not=fits))
            never.append(fits)
            continue
        if view.health == ClusterHealth.DOWN or view.drained:
            why = f"{view.name} is down" if not view.drained else f"{view.name} is drained"
            candidates.append(Candidate(view.name, fits[0].partition.name, False, why_not=why))
            waiting.append(why)
            continue
        for f in fits:
            pool = pools.get((view.name, f.partition.name)) if pools else None
            if pool is not None:
                grows = name == "local-first" or spec.partition == f.partition.name
                got = _pool_option(spec, view, f, pool, now, input_bytes, caps, grows)
                if isinstance(got, str):
                    candidates.append(Candidate(view.name, f.partition.name, False, why_not=got))
                    waiting.append(got)
                    continue
                option, est = got
            else:
                est = estimate(spec, view, f, now=now, input_bytes=input_bytes)
                option = Option(view.name, f.partition.name, est, view.home)
            why_not = _why_not_now(spec, view, est.start, est.cost)
            if why_not is None:
                option_slot.append(len(candidates))
                options.append(option)
            elif why_not.endswith(_NO_NODES):
                waiting.append(why_not)
            else:
                never.append(why_not)
            candidates.append(_candidate(view.name, f.partition.name, est, why_not, None, option))
    if not options:
        if waiting:
            reason = WAITING_PREFIX + "; ".join(waiting)
        else:
            reason = "no cluster can run this job: " + ("; ".join(never) or "no clusters")
        return Placement(None, None, name, reason, tuple(candidates), now)
    ctx = Context(
        now=now, deadline=spec.deadline, wait_threshold_s=wait_threshold_s, hysteresis=hysteresis
    )
    choice = POLICIES[name](options, ctx)
    for i, slot in enumerate(option_slot):
        o = options[i]
        candidates[slot] = _candidate(o.cluster, o.partition, o.est, None, choice.scores[i], o)
    win = options[choice.winner]
    reason = choice.reason
    if win.pool is not None and win.note and win.note not in reason:
        reason += f"; pool {win.pool} {win.note}"
    return Placement(win.cluster, win.partition, name, reason, tuple(candidates), now)


_NO_NODES = "has too few nodes up to start it"


def _pool_option(
    spec: JobSpec,
    view: ClusterView,
    f: Fit,
    pool: bursting.PoolView,
    now: float,
    input_bytes: int,
    caps: bursting.Caps | None,
    grows: bool,
) -> tuple[Option, Estimate] | str:
    """The pool's offer as an option, or why it has none now."""
    runtime_s, speed_source = runtime(spec, view, f)
    staging_s = view.image_staging_s  # the container image, copied like an input
    if input_bytes > 0 and view.bandwidth_bytes_per_s:
        staging_s += input_bytes / view.bandwidth_bytes_per_s
    got = bursting.offer(pool, f.cpus, f.nodes, runtime_s, now + staging_s, caps or bursting.Caps())
    if isinstance(got, str):
        return got
    if got.grow and not grows:
        return (
            f"pool {pool.name} grows only for local-first jobs and jobs that ask for "
            f"partition {f.partition.name}; none of its nodes are free now"
        )
    est = Estimate(
        start=got.start,
        runtime_s=runtime_s,
        staging_s=staging_s,
        cost=got.cost,
        speed_source=speed_source,
    )
    note = got.reason + (f" (warning: {got.warning})" if got.warning else "")
    return Option(view.name, f.partition.name, est, view.home, pool.name, got.grow, note), est


def _why_not_now(spec: JobSpec, view: ClusterView, start: float, cost: float) -> str | None:
    if not math.isfinite(start):
        return f"{view.name} {_NO_NODES}"
    if view.budget_left is not None and cost > view.budget_left:
        return f"costs {cost:.2f} on {view.name}, budget left {view.budget_left:.2f}"
    if spec.max_cost is not None and cost > spec.max_cost:
        return f"costs {cost:.2f} on {view.name}, more than the job's max cost {spec.max_cost:.2f}"
    return None


def _candidate(
    cluster: str,
    partition: str,
    est: Estimate,
    why_not: str | None,
    score: float | None,
    option: Option | None = None,
) -> Candidate:
    finite = math.isfinite(est.start)
    pool = option.pool if option is not None else None
    return Candidate(
        cluster,
        partition,
        why_not is None,
        why_not,
        est.start if finite else None,
        est.end if finite else None,
        est.runtime_s,
        est.staging_s,
        est.cost,
        score,
        est.speed_source or None,
        pool,
        option.grow if option is not None else 0,
    )
