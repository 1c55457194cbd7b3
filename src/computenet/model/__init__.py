"""Plain data: specs, states, cluster descriptions. No I/O here."""

from __future__ import annotations

from computenet.model.cluster import (
    AttemptRequest,
    AttemptStatus,
    ClusterInfo,
    NodeSnapshot,
    NodeType,
    PartitionInfo,
    Snapshot,
    SnapshotJob,
    Usage,
)
from computenet.model.placement import Candidate, Placement
from computenet.model.spec import (
    AppFigure,
    AppRef,
    ArraySpec,
    CpuMode,
    Dependency,
    DependencyType,
    JobSpec,
    Mount,
    Signal,
    Staging,
)
from computenet.model.state import TERMINAL_STATES, ClusterHealth, JobState

__all__ = [
    "TERMINAL_STATES",
    "AppFigure",
    "AppRef",
    "ArraySpec",
    "AttemptRequest",
    "AttemptStatus",
    "Candidate",
    "ClusterHealth",
    "ClusterInfo",
    "CpuMode",
    "Dependency",
    "DependencyType",
    "JobSpec",
    "JobState",
    "Mount",
    "NodeSnapshot",
    "NodeType",
    "PartitionInfo",
    "Placement",
    "Signal",
    "Snapshot",
    "SnapshotJob",
    "Staging",
    "Usage",
]
