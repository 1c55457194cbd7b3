"""Job service: what the API does for a user, independent of HTTP.

Submission parses and checks the request, then stores the job as PENDING;
the controller places and runs it. Nothing is stored when a check fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from computenet.errors import (
    ConflictError,
    ForbiddenError,
    InfeasibleError,
    LimitError,
    NotFoundError,
    UnsupportedOption,
)
from computenet.model import ClusterInfo, JobSpec, JobState, Placement
from computenet.store import jobs as repo
from computenet.store.tables import JobRow


@dataclass(frozen=True)
class Principal:
    name: str
    is_admin: bool = False
    project: str = "default"


@dataclass(frozen=True)
class SubmitInput:
    script: str | None
    options: Sequence[str] = ()
    args: Sequence[str] = ()
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    script_name: str | None = None


def parse(item: SubmitInput, *, max_script_bytes: int, max_array_size: int) -> JobSpec:
    from computenet.spec import parse_sbatch

    if item.script is not None and len(item.script.encode("utf-8", "replace")) > max_script_bytes:
        raise LimitError(
            f"script is {len(item.script.encode())} bytes; the limit is {max_script_bytes} bytes"
        )
    spec = parse_sbatch(
        list(item.options),
        item.script,
        environment=dict(item.env),
        cwd=item.cwd,
        script_name=item.script_name,
        args=list(item.args),
        max_script_bytes=max_script_bytes,
        max_array_size=max_array_size,
    )
    return spec


def embedded_fit(spec: JobSpec, info: ClusterInfo) -> tuple[JobSpec | None, str | None]:
    """The spec with notes for an embedded cluster, or the reason it cannot keep it."""
    if info.kind != "embedded":
        return spec, None
    from computenet.spec import check_embedded

    try:
        return check_embedded(spec, info), None
    except UnsupportedOption as exc:
        return None, exc.message


def check_feasible(spec: JobSpec, infos: Sequence[ClusterInfo], now: float) -> Placement:
    """Raise ``InfeasibleError`` (or ``UnsupportedOption``) if no cluster could ever run it."""
    from computenet.network import WAITING_PREFIX, ClusterView, place

    if not infos:  # no cluster has answered yet: keep the job, the controller decides later
        return Placement(None, None, spec.policy or "", "no cluster has answered yet", (), now)
    views = []
    refusals = []
    for info in infos:
        _, why = embedded_fit(spec, info)
        if why is None:
            views.append(ClusterView(info=info, snapshot=None))
        else:
            refusals.append(f"{info.name}: {why}")
    placement = place(spec, views, now=now, policy=spec.policy)
    if (
        not any(
            c.feasible or (c.why_not or "").startswith(WAITING_PREFIX) for c in placement.candidates
        )
        and placement.chosen is None
    ):
        if refusals and not views:
            raise UnsupportedOption("; ".join(refusals))
        reasons = [f"{c.cluster}: {c.why_not}" for c in placement.candidates] + refusals
        raise InfeasibleError(
            "no cluster can run this job: " + "; ".join(reasons), candidates=reasons
        )
    return placement


def visible(job: JobRow, who: Principal) -> None:
    if job.owner != who.name and not who.is_admin:
        # Not 404: the id exists; but say nothing about the job itself.
        raise ForbiddenError(f"job {job.id} belongs to another user")


def resolve_ids(session: Session, text: str) -> list[JobRow]:
    """'123' -> the job (or every element of array 123); '123_4' -> one element."""
    try:
        if "_" in text:
            array_id, task = (int(p) for p in text.split("_", 1))
            rows = [
                r
                for r in repo.list_jobs(session, array_job_id=array_id, limit=100_000)
                if r.array_task_id == task
            ]
            if not rows:
                raise NotFoundError(f"no job {text}")
            return rows
        job_id = int(text)
    except ValueError:
        raise NotFoundError(
            f"invalid job id {text!r}: expected a number like 123 or 123_4"
        ) from None
    job = repo.get_job(session, job_id)
    if job.array_job_id == job.id:
        return repo.list_jobs(session, array_job_id=job.id, limit=100_000)
    return [job]


def request_cancel(session: Session, who: Principal, text: str, now: float) -> list[dict[str, Any]]:
    """Cancel a job (or a whole array). A finished job is reported, not an error."""
    results = []
    for job in resolve_ids(session, text):
        visible(job, who)
        state = JobState(job.state)
        if state.terminal:
            results.append(
                {
                    "id": job.id,
                    "state": job.state,
                    "changed": False,
                    "message": f"job {repo.display_id(job)} already {job.state}",
                }
            )
            continue
        if job.cancel_requested:
            results.append(
                {
                    "id": job.id,
                    "state": job.state,
                    "changed": False,
                    "message": "cancel already requested",
                }
            )
            continue
        for _ in range(3):
            try:
                if state == JobState.PENDING and repo.latest_attempt(session, job) is None:
                    repo.transition(
                        session,
                        job,
                        JobState.CANCELLED,
                        now=now,
                        reason=f"cancelled by {who.name}",
                        end_time=now,
                        cancel_requested=True,
                    )
                else:
                    repo.update_fields(session, job, now=now, cancel_requested=True)
                break
            except ConflictError:
                session.refresh(job)
                state = JobState(job.state)
        results.append({"id": job.id, "state": job.state, "changed": True, "message": "ok"})
    return results


def accounting_guard() -> Any:
    """The accounting module's guard, if installed: budgets and quotas.

    It provides ``check_submission(session, who, specs, now)`` (raises
    ``QuotaError``), ``hold_reason(session, job, spec) -> str | None`` (a
    quota that keeps a job pending now) and ``budget_left(session, project)``.
    """
    import importlib

    try:
        return importlib.import_module("computenet.accounting.guard")
    except ModuleNotFoundError as exc:
        if exc.name in ("computenet.accounting", "computenet.accounting.guard"):
            return None
        raise
