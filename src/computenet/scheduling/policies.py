"""The stateless policies (``select``) as thin wrappers over the schedulers.

``select`` loads the running jobs and the pending queue into a fresh
incremental scheduler and asks it once, so the live cluster and the
simulator run the very same decision code.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from computenet.scheduling.base import (
    Fits,
    KeyFits,
    QueuedJob,
    QueuePolicy,
    RunningJob,
    Scheduler,
)
from computenet.scheduling.conservative_backfill import ConservativeBackfillScheduler
from computenet.scheduling.easy_backfill import EasyBackfillScheduler
from computenet.scheduling.fcfs import FcfsScheduler

# A running job past its estimate still holds its processors; nobody knows
# when it will end, so plan as if it ends just after now.
OVERRUN_GRACE_S = 1e-3


def expected_end(job: RunningJob, now: float) -> float:
    return job.end if job.end > now else now + OVERRUN_GRACE_S


def load(
    scheduler: Scheduler,
    pending: Sequence[QueuedJob],
    running: Sequence[RunningJob],
    now: float,
) -> Scheduler:
    """Fill a fresh scheduler with a cluster's current state."""
    for job in running:
        scheduler.add_running(job.id, job.procs, expected_end(job, now))
    for queued in pending:
        scheduler.submit(queued.id, queued.procs, queued.estimate_s, now)
    return scheduler


class _SchedulerPolicy:
    name = ""

    def _scheduler(self, capacity: int) -> Scheduler:
        return SCHEDULERS[self.name](capacity)

    def select(
        self,
        pending: Sequence[QueuedJob],
        running: Sequence[RunningJob],
        capacity: int,
        now: float,
        fits: Fits | None = None,
    ) -> list[Hashable]:
        scheduler = load(self._scheduler(capacity), pending, running, now)
        key_fits: KeyFits | None = None
        if fits is not None:
            by_id = {job.id: job for job in pending}
            match = fits

            def key_fits(key: Hashable) -> bool:
                return match(by_id[key])

        return scheduler.schedule(now, key_fits)


class Fcfs(_SchedulerPolicy):
    """Start jobs in order while the head fits; never skip the head."""

    name = "fcfs"


class EasyBackfill(_SchedulerPolicy):
    """EASY: FCFS plus backfill that never delays the head's reservation."""

    name = "easy"


class ConservativeBackfill(_SchedulerPolicy):
    """Every queued job holds a reservation; backfill delays none of them."""

    name = "conservative"


class EasySjfBackfill(_SchedulerPolicy):
    """EASY with backfill candidates tried shortest estimate first."""

    name = "easy-sjf"


SCHEDULERS: dict[str, Callable[[int], Scheduler]] = {
    "fcfs": FcfsScheduler,
    "easy": EasyBackfillScheduler,
    "conservative": ConservativeBackfillScheduler,
    "easy-sjf": lambda capacity: EasyBackfillScheduler(capacity, shortest_first=True),
}

POLICIES: dict[str, Callable[[], QueuePolicy]] = {
    "fcfs": Fcfs,
    "easy": EasyBackfill,
    "conservative": ConservativeBackfill,
    "easy-sjf": EasySjfBackfill,
}
