"""Job service: what the API does for a user, independent of HTTP.

Submission parses and checks the request, then stores the job as PENDING;
the controller places and runs it. Nothing is stored when a check fails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
from computenet.model.tenancy import (
    ALL_SCOPES,
    PROJECT_WIDE_ROLES,
    SUBMITTING_ROLES,
    Role,
)
from computenet.store import job_dicts
from computenet.store import jobs as repo
from computenet.store.tables import JobRow

if TYPE_CHECKING:
    from computenet.network.access import ProjectAccess


@dataclass(frozen=True)
class Principal:
    """The caller of one request: who, their roles, and what their token allows.

    ``project`` is the user's default project (the account of a job submitted
    without ``--account``); ``roles`` maps each project the user belongs to
    to their role there. ``scopes`` and ``expires_at`` are the token's.
    """

    name: str
    is_admin: bool = False
    project: str = "default"
    roles: Mapping[str, str] = field(default_factory=dict, hash=False)
    scopes: frozenset[str] = ALL_SCOPES
    expires_at: float | None = None
    token_id: int | None = None
    token_kind: str = "personal"
    display_name: str | None = None

    @property
    def default_project(self) -> str:
        return self.project

    def role(self, project: str) -> str | None:
        return self.roles.get(project)

    def sees_project(self, project: str) -> bool:
        """Whether every job and usage record of ``project`` is visible."""
        return self.is_admin or self.roles.get(project) in PROJECT_WIDE_ROLES

    def manages(self, project: str) -> bool:
        return self.is_admin or self.roles.get(project) == Role.MANAGER.value

    def project_wide(self) -> list[str]:
        """Projects whose every job the caller sees (as manager or viewer)."""
        return sorted(p for p, r in self.roles.items() if r in PROJECT_WIDE_ROLES)

    def account_for(self, account: str | None) -> str:
        """The project a job is charged to: ``account`` if the caller may
        submit there, else ``ForbiddenError``; None means the default project."""
        project = account or self.project
        role = self.roles.get(project)
        if role in SUBMITTING_ROLES or self.is_admin:
            return project  # for an admin, the caller checks that the project exists
        if role == Role.VIEWER.value:
            raise ForbiddenError(
                f"you are a viewer in project {project}: submitting needs the member "
                "or manager role"
            )
        mine = ", ".join(sorted(p for p, r in self.roles.items() if r in SUBMITTING_ROLES))
        raise ForbiddenError(
            f"you are not a member of project {project} (--account); "
            f"you may submit to: {mine or 'no project'}"
        )


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


def check_feasible(
    spec: JobSpec,
    infos: Sequence[ClusterInfo],
    now: float,
    access: ProjectAccess | None = None,
) -> Placement:
    """Raise ``InfeasibleError`` (or ``UnsupportedOption``) if no cluster could
    ever run it (for the job's project, when ``access`` says what it may use)."""
    from computenet.network import WAITING_PREFIX, ClusterView, place
    from computenet.network.access import restrict

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
    views = restrict(views, access)
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


def no_such_job(text: str) -> NotFoundError:
    """The error of an unknown job id, word for word what a hidden one gets."""
    if text.isdigit():
        return NotFoundError(f"no job {int(text)}", job_id=int(text))
    return NotFoundError(f"no job {text}")


def visible(job: JobRow, who: Principal, asked: str | None = None) -> None:
    """Raise ``NotFoundError`` unless the caller may see the job: its owner,
    a manager or viewer of its project, or an administrator. The error is
    the one an unknown id (``asked``) gets, so a hidden job is not revealed."""
    if job.owner != who.name and not who.sees_project(job.project):
        raise no_such_job(asked or str(job.id))


def may_change(job: JobRow, who: Principal, asked: str | None = None) -> None:
    """Raise unless the caller may cancel or change the job: its owner, a
    manager of its project, or an administrator. A viewer gets
    ``ForbiddenError`` naming the role; anyone who cannot see the job,
    ``NotFoundError``."""
    visible(job, who, asked)
    if job.owner == who.name or who.manages(job.project):
        return
    role = who.role(job.project) or "no role"
    raise ForbiddenError(
        f"changing job {job_dicts.display_id(job)} needs the manager role in project "
        f"{job.project} (or to be its owner); you have {role}"
    )


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
                raise no_such_job(text)
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
        may_change(job, who, text)
        if JobState(job.state).terminal:
            results.append(_cancel_result(job, False, _ended(job)))
            continue
        if job.cancel_requested:
            results.append(_cancel_result(job, False, "cancel already requested"))
            continue
        changed = _ask_cancel(session, job, who, now)
        results.append(_cancel_result(job, changed, "ok" if changed else _ended(job)))
    return results


def _ask_cancel(session: Session, job: JobRow, who: Principal, now: float) -> bool:
    """Flag one job for the controller (or end it, if nothing was sent yet).
    A race with the controller is looked at again; False if the job ended."""
    for _ in range(3):
        state = JobState(job.state)
        if state.terminal:
            return False
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
            return True
        except ConflictError:  # the controller moved it meanwhile: look again
            session.refresh(job)
    raise ConflictError(f"job {job_dicts.display_id(job)} kept changing; try again", job_id=job.id)


def _ended(job: JobRow) -> str:
    return f"job {job_dicts.display_id(job)} already {job.state}"


def _cancel_result(job: JobRow, changed: bool, message: str) -> dict[str, Any]:
    return {"id": job.id, "state": job.state, "changed": changed, "message": message}


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
