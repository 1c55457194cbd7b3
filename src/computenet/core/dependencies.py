"""Dependency and array-throttle checks for pending jobs (pure over rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from computenet.model import Dependency, DependencyType, JobState
from computenet.store.tables import JobRow

STARTED = frozenset({JobState.RUNNING, JobState.STAGING_OUT}) | {s for s in JobState if s.terminal}


def dependency_status(
    deps: Sequence[Dependency], jobs: Mapping[str, Sequence[JobRow]], same_name_active: bool = False
) -> tuple[bool, str | None]:
    """(ready, never_reason). ``jobs`` maps each dependency id to its rows (an array id
    maps to all its elements). ``never_reason`` is set when it can never be satisfied."""
    for dep in deps:
        if dep.kind == DependencyType.SINGLETON:
            if same_name_active:
                return False, None
            continue
        for job_id in dep.job_ids:
            rows = jobs.get(job_id)
            if not rows:
                return False, f"DependencyNeverSatisfied: no job {job_id}"
            states = [JobState(r.state) for r in rows]
            if dep.kind == DependencyType.AFTER:
                if not all(s in STARTED for s in states):
                    return False, None
            elif not all(s.terminal for s in states):
                return False, None
            elif dep.kind == DependencyType.AFTEROK and any(
                s != JobState.COMPLETED for s in states
            ):
                return False, f"DependencyNeverSatisfied: job {job_id} did not complete"
            elif dep.kind == DependencyType.AFTERNOTOK and all(
                s == JobState.COMPLETED for s in states
            ):
                return False, f"DependencyNeverSatisfied: job {job_id} completed"
    return True, None
