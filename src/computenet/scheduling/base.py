"""Queue-policy interface: the job records, the two call shapes, the registry.

A policy sees the pending queue in priority order, the running jobs with
their expected ends, and the capacity; it decides which jobs start now.
Policies are pure: no clock, no I/O, time is a number the caller passes.

Two call shapes run the same logic:

- ``QueuePolicy.select(pending, running, capacity, now, fits=None)``: a
  stateless call for the live embedded cluster. It returns the ids to start
  now, in start order. ``fits`` (the match policy) may refuse a job that fits
  by count but not by shape (fragmented nodes, GPUs); such a job is treated
  as not fitting now.
- ``Scheduler``: the incremental form the simulator and the planner drive
  event by event (``submit``, ``finish``, ``schedule``). ``select`` builds a
  fresh ``Scheduler`` from its arguments and calls ``schedule`` once, so both
  shapes agree by construction (and tests check it).

Policy names (stable): ``fcfs``, ``easy``, ``conservative``, ``easy-sjf``.
A job wider than the capacity can never run: every policy leaves it queued
and lets it block nobody.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from computenet.scheduling.policies import EasyBackfill, Fcfs

POLICY_NAMES: tuple[str, ...] = ("fcfs", "easy", "conservative", "easy-sjf")


@dataclass(slots=True, frozen=True)
class QueuedJob:
    id: Hashable
    procs: int
    estimate_s: float  # requested wall time, the scheduler's only knowledge of length
    submit: float = 0.0


@dataclass(slots=True, frozen=True)
class RunningJob:
    id: Hashable
    procs: int
    end: float  # start + estimate


Fits = Callable[[QueuedJob], bool]
KeyFits = Callable[[Hashable], bool]


class QueuePolicy(Protocol):
    name: str

    def select(
        self,
        pending: Sequence[QueuedJob],
        running: Sequence[RunningJob],
        capacity: int,
        now: float,
        fits: Fits | None = None,
    ) -> list[Hashable]: ...


class Scheduler(Protocol):
    """Incremental queue state of one cluster, driven by events.

    The caller reports every change in time order: ``submit`` appends a job
    at the tail of the priority order, ``finish`` says a started job ended
    (possibly before its estimate), ``add_running`` loads a job that was
    already running. ``schedule(now)`` then starts what the policy allows and
    returns those keys; the scheduler counts them as running until their
    ``finish``. Keys are any hashable, unique among live jobs.
    """

    name: str
    capacity: int

    def add_running(self, key: Hashable, procs: int, end_estimate: float) -> None: ...

    def submit(self, key: Hashable, procs: int, estimate_s: float, now: float) -> None: ...

    def finish(self, key: Hashable, now: float) -> None: ...

    def schedule(self, now: float, fits: KeyFits | None = None) -> list[Hashable]: ...


def make_scheduler(name: str, capacity: int) -> Scheduler:
    """A fresh incremental scheduler for policy ``name`` on ``capacity`` processors."""
    from computenet.scheduling.policies import SCHEDULERS

    try:
        factory = SCHEDULERS[name]
    except KeyError:
        raise ValueError(
            f"unknown queue policy {name!r}; known: {', '.join(POLICY_NAMES)}"
        ) from None
    return factory(capacity)


def get_policy(name: str) -> QueuePolicy:
    """The stateless policy ``name`` (one of ``POLICY_NAMES``)."""
    from computenet.scheduling.policies import POLICIES

    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(
            f"unknown queue policy {name!r}; known: {', '.join(POLICY_NAMES)}"
        ) from None


def __getattr__(name: str) -> Any:
    # The policy classes live in policies.py (which imports this module);
    # keep ``from computenet.scheduling.base import Fcfs`` working.
    if name in ("Fcfs", "EasyBackfill", "ConservativeBackfill", "EasySjfBackfill"):
        from computenet.scheduling import policies

        return getattr(policies, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "POLICY_NAMES",
    "EasyBackfill",
    "Fcfs",
    "Fits",
    "KeyFits",
    "QueuePolicy",
    "QueuedJob",
    "RunningJob",
    "Scheduler",
    "get_policy",
    "make_scheduler",
]
