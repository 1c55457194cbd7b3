"""Pure queue policies: who goes next. No clocks, no I/O.

The live embedded cluster, the broker's planner and the simulator all call
these same functions with a real or a virtual time.
"""

from __future__ import annotations

from computenet.scheduling.base import QueuedJob, RunningJob, get_policy

__all__ = ["QueuedJob", "RunningJob", "get_policy"]
