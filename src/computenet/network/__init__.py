"""The broker: where should a job run, and why.

Pure functions of (job, cluster views, now): no clocks, no I/O. The live
controller and the network simulator call the same ``place``.
"""

from __future__ import annotations

from computenet.network.placement import WAITING_PREFIX, feasible, place
from computenet.network.policies import DEFAULT_POLICY, LOCAL_FIRST_WAIT_S, POLICIES
from computenet.network.view import ClusterView, StartModel

__all__ = [
    "DEFAULT_POLICY",
    "LOCAL_FIRST_WAIT_S",
    "POLICIES",
    "WAITING_PREFIX",
    "ClusterView",
    "StartModel",
    "feasible",
    "place",
]
