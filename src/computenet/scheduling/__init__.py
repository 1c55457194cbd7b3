"""Pure queue policies: who goes next. No clocks, no I/O.

The live embedded cluster, the broker's planner and the simulator all call
these same functions with a real or a virtual time.

- ``get_policy(name).select(pending, running, capacity, now, fits=None)``:
  the ids to start now (stateless; the embedded cluster calls this).
- ``make_scheduler(name, capacity)``: the incremental form of the same
  policy, driven event by event (the simulator, ``engine.run``).
- ``predict_start(policy_name, pending, running, capacity, now, job)``:
  the planner's predicted start of a job appended to the queue.

Policy names: ``fcfs``, ``easy``, ``conservative``, ``easy-sjf``.
"""

from __future__ import annotations

from computenet.scheduling.base import (
    POLICY_NAMES,
    QueuedJob,
    QueuePolicy,
    RunningJob,
    Scheduler,
    get_policy,
    make_scheduler,
)
from computenet.scheduling.planner import predict_start

__all__ = [
    "POLICY_NAMES",
    "QueuePolicy",
    "QueuedJob",
    "RunningJob",
    "Scheduler",
    "get_policy",
    "make_scheduler",
    "predict_start",
]
