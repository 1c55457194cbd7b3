"""/jobs: submit, bulk submit, list, show, cancel, events, logs, placement."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime, get_session
from computenet.api.schemas import BulkSubmitRequest, CancelRequest, SubmitRequest
from computenet.api.stale import LastGood
from computenet.core import service
from computenet.core.runtime import Runtime
from computenet.core.service import Principal, SubmitInput
from computenet.errors import ForbiddenError, LimitError, NotFoundError, SpecError, StoreError
from computenet.model import JobSpec, JobState
from computenet.store import job_dicts, projects
from computenet.store import jobs as repo

router = APIRouter(tags=["jobs"])


def _input(req: SubmitRequest) -> SubmitInput:
    return SubmitInput(
        script=req.script,
        options=req.options,
        args=req.args,
        cwd=req.cwd,
        env=req.env,
        script_name=req.script_name,
    )


def spec_summary(spec: JobSpec) -> dict[str, Any]:
    """The ``--test-only`` view of a spec (field names are stable, see docs/cli.md)."""
    return {
        "name": spec.name,
        "nodes": spec.nodes,
        "ntasks": spec.ntasks,
        "ntasks_per_node": spec.ntasks_per_node,
        "cpus_per_task": spec.cpus_per_task,
        "mem_per_node_bytes": spec.mem_per_node_bytes,
        "mem_per_cpu_bytes": spec.mem_per_cpu_bytes,
        "time_limit_s": spec.time_limit_s,
        "partition": spec.partition,
        "account": spec.account,
        "qos": spec.qos,
        "array": spec.array.text if spec.array else None,
        "gpus": spec.gpus if spec.gpus is not None else (spec.total_gpus or None),
        "gres": spec.gres,
        "exclusive": spec.exclusive,
        "constraint": spec.constraint,
        "dependency": ",".join(
            f"{d.kind.value}:{':'.join(d.job_ids)}" if d.job_ids else d.kind.value
            for d in spec.dependency
        )
        or None,
        "output": spec.output,
        "error": spec.error,
        "cpu_mode": spec.cpu_mode.value if spec.cpu_mode else None,
        "clusters": list(spec.clusters) or None,
        "policy": spec.policy,
        "container_image": spec.container_image,
        "container_mounts": [m.text() for m in spec.container_mounts] or None,
        "container_workdir": spec.container_workdir,
        "ignored": list(spec.ignored),
    }


@router.post("/jobs", status_code=201)
async def submit(
    req: SubmitRequest,
    request: Request,
    who: Principal = Depends(current_user),
) -> Any:
    # The runtime straight from the app, not as a dependency: on the busiest
    # route each dependency FastAPI resolves is a measurable share of the time.
    runtime: Runtime = request.app.state.runtime
    if req.test_only:
        return await _test_only(req, who, runtime)
    # About a millisecond of blocking work, done inline: a hop to the thread
    # pool costs more than it saves here.
    body = _store_one(req, who, runtime)
    if body.get("reason") != repo.HELD:  # a held job gives the controller nothing to do
        runtime.controller.wake()
    return JSONResponse(body, status_code=201)


def _parse(req: SubmitRequest, runtime: Runtime) -> JobSpec:
    settings = runtime.settings
    return service.parse(
        _input(req),
        max_script_bytes=settings.max_script_bytes,
        max_array_size=settings.max_array_size,
    )


def _project(spec: JobSpec, who: Principal, runtime: Runtime) -> str:
    """The job's project: ``--account`` if the caller may submit there, else
    their default project (``ForbiddenError`` for another project's account)."""
    project = who.account_for(spec.account)
    if who.role(project) is None:  # an administrator outside it: it must exist
        with runtime.store.session() as session:
            projects.get_project(session, project)
    return project


def _store_one(req: SubmitRequest, who: Principal, runtime: Runtime) -> dict[str, Any]:
    return store_spec(_parse(req, runtime), who, runtime)


def store_spec(spec: JobSpec, who: Principal, runtime: Runtime) -> dict[str, Any]:
    """Check a parsed spec (project, feasibility, budget) and store it as
    PENDING: the one path every submission takes. Nothing is stored when a
    check fails."""
    project = _project(spec, who, runtime)
    now = runtime.clock.now()
    access = runtime.tenancy.access(project)
    service.check_feasible(spec, runtime.controller.clusters.infos(), now, access)
    guard = service.accounting_guard()
    with runtime.store.session() as session:
        if guard is not None:
            guard.check_submission(session, _charged(who, project), [spec], now)
        jobs = repo.insert_jobs(session, [repo.NewJob(spec, who.name, project)], now)
        body = jobs[0]
        if spec.array:
            body["array_ids"] = [j["id"] for j in jobs]
    return body


def _charged(who: Principal, project: str) -> Principal:
    """The caller as the accounting guard reads them: charging ``project``."""
    return who if who.project == project else replace(who, project=project)


async def _test_only(req: SubmitRequest, who: Principal, runtime: Runtime) -> JSONResponse:
    return JSONResponse(await preview(_parse(req, runtime), who, runtime))


async def preview(spec: JobSpec, who: Principal, runtime: Runtime) -> dict[str, Any]:
    """The parsed spec and the placement, whether or not any cluster fits,
    with the speeds the controller would use; nothing stored.

    Only a request that does not parse is an error here: a job no cluster
    can run (an account the caller may not charge included) answers with
    ``placement.chosen`` null and every cluster's reason (those the project
    may not use included), so the caller sees how the script was read and
    why nothing fits.
    """
    from computenet.core import bench, speeds
    from computenet.model import Candidate, Placement
    from computenet.network import WAITING_PREFIX, place
    from computenet.network.access import restrict

    now = runtime.clock.now()
    controller = runtime.controller
    views = await controller.clusters.views(with_snapshots=True)
    try:
        project = _project(spec, who, runtime)
    except (ForbiddenError, NotFoundError) as exc:
        # The script parsed; the account is why it cannot run anywhere.
        account = f"account {spec.account!r}: {exc.message}"
        refusals = tuple(Candidate(name, None, False, why_not=account) for name in sorted(views))
        nowhere = Placement(None, None, spec.policy or "", account, refusals, now)
        return {
            "spec": spec_summary(spec),
            "project": None,
            "placement": nowhere.to_dict(),
            "runnable": False,
        }
    access = runtime.tenancy.access(project)
    benched = bench.broker_speeds(controller.store, controller.clusters.infos(), now)
    views = speeds.with_speed(views, controller.speed, controller.app_speed, benched)
    usable = []
    refused = []
    for view in views.values():
        why = service.embedded_fit(spec, view.info)[1]
        if why is None:
            usable.append(view)
        else:
            refused.append(Candidate(view.name, None, False, why_not=why))
    usable = restrict(usable, access)
    policy = spec.policy or runtime.settings.default_policy
    placement = place(spec, usable, now=now, policy=policy)
    if refused:
        every = sorted((*placement.candidates, *refused), key=lambda c: c.cluster)
        placement = replace(placement, candidates=tuple(every))
    if not views:
        placement = replace(placement, reason="no cluster has answered yet")
    elif placement.chosen is None and not placement.reason.startswith(WAITING_PREFIX):
        whys = "; ".join(f"{c.cluster}: {c.why_not}" for c in placement.candidates if c.why_not)
        placement = replace(placement, reason=f"no cluster can run this job: {whys}")
    runnable = any(c.feasible for c in placement.candidates)
    return {
        "spec": spec_summary(spec),
        "project": project,
        "placement": placement.to_dict(),
        "runnable": runnable,
    }


@router.post("/jobs:bulk", status_code=201)
def bulk_submit(
    req: BulkSubmitRequest,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    settings = runtime.settings
    if len(req.jobs) > settings.max_bulk_jobs:
        raise LimitError(
            f"{len(req.jobs)} jobs in one request; the limit is {settings.max_bulk_jobs}"
        )
    now = runtime.clock.now()
    infos = runtime.controller.clusters.infos()
    new = []
    checked: dict[tuple[Any, ...], None] = {}
    for i, item in enumerate(req.jobs):
        try:
            spec = service.parse(
                _input(item),
                max_script_bytes=settings.max_script_bytes,
                max_array_size=settings.max_array_size,
            )
            project = _project(spec, who, runtime)
            key = (
                project,
                spec.cpus,
                spec.node_count,
                spec.total_gpus,
                spec.partition,
                spec.clusters,
                spec.time_limit_s,
                spec.mem_per_node_bytes,
                spec.mem_per_cpu_bytes,
                spec.constraint,
                spec.gpu_type,
                spec.reservation,
            )
            if key not in checked:  # identical shapes need one feasibility check
                service.check_feasible(spec, infos, now, runtime.tenancy.access(project))
                checked[key] = None
        except (SpecError, ForbiddenError, NotFoundError) as exc:
            raise type(exc)(f"job {i}: {exc.message}", index=i) from exc
        new.append(repo.NewJob(spec, who.name, project))
    guard = service.accounting_guard()
    with runtime.store.session() as session:
        if guard is not None:
            for project in dict.fromkeys(n.project for n in new):
                specs = [n.spec for n in new if n.project == project]
                guard.check_submission(session, _charged(who, project), specs, now)
        ids = [job["id"] for job in repo.insert_jobs(session, new, now)]
    runtime.controller.wake()
    return JSONResponse({"ids": ids, "count": len(ids)}, status_code=201)


@router.get("/jobs")
def list_jobs(
    who: Principal = Depends(current_user),
    session: Session = Depends(get_session),
    state: str | None = Query(None, description="comma-separated states"),
    cluster: str | None = None,
    name: str | None = None,
    user: str | None = Query(
        None, description="one user's jobs (of the projects whose jobs you may see)"
    ),
    project: str | None = Query(None, description="one project's jobs (that you may see)"),
    all_users: bool = Query(False, description="every job you may see, not only yours"),
    all: bool = Query(False, description="include finished jobs"),
    cursor: int = Query(0, ge=0, le=2**62),
    order: str = Query(
        "asc", pattern="^(asc|desc)$", description="asc: oldest first; desc: newest first"
    ),
    limit: int = Query(1000, ge=1, le=10_000),
    fields: str | None = Query(
        None, description="comma-separated job fields to return, e.g. id,state (default: all)"
    ),
) -> Any:
    wanted = _wanted_fields(fields)
    # Only what the caller may see: their own jobs, and every job of the
    # projects they manage or view (administrators: all), whatever they ask.
    visible = None if who.is_admin else (who.name, who.project_wide())
    owner: str | None = who.name
    if user is not None:
        owner = user
    elif project is not None or all_users:
        owner = None
    states = [s.strip().upper() for s in state.split(",")] if state else None
    if states:
        bad = [s for s in states if s not in JobState.__members__]
        if bad:
            raise SpecError(f"unknown state {bad[0]!r}; known: {', '.join(JobState)}")
    elif not all:
        states = [s.value for s in JobState if not s.terminal]
    ids, jobs = repo.list_job_dicts(
        session,
        wanted,
        owner=owner,
        project=project,
        visible_to=visible,
        states=states,
        cluster=cluster,
        name=name,
        after_id=0 if order == "desc" else cursor,
        before_id=(cursor or None) if order == "desc" else None,
        newest_first=order == "desc",
        limit=limit + 1,  # one more says whether another page exists
    )
    more = len(jobs) > limit
    jobs = jobs[:limit]
    body = {
        "jobs": jobs,
        "next_cursor": ids[limit - 1] if more else None,
    }
    # orjson: a page of 10,000 jobs is 4-5 MB, which json.dumps takes 40 ms to write.
    return Response(orjson.dumps(body), media_type="application/json")


def _wanted_fields(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    wanted = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    unknown = [f for f in wanted if f not in job_dicts.JOB_FIELDS]
    if unknown or not wanted:
        raise SpecError(
            f"unknown job field {unknown[0]!r}; known: {', '.join(job_dicts.JOB_FIELDS)}"
            if unknown
            else "fields names no field"
        )
    return wanted


@router.get("/jobs/{job_id}")
def show(
    job_id: str,
    request: Request,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    last_good: LastGood = request.app.state.last_good
    try:
        with runtime.store.session() as session:
            job = granted.job(session, job_id)
            body = job_dicts.job_to_dict(job, repo.attempts(session, [job.id])[job.id])
            body["spec"] = job.spec
            if job.spec.get("catalogue"):  # a catalogue run: its performance figures
                from computenet.store import app_figures

                figures = app_figures.for_job(session, job.id)
                body["figures"] = [app_figures.to_dict(r) for r in figures]
    except StoreError as exc:  # the database is away: this caller's last answer, if any
        return last_good.replay(granted.who.name, f"job {job_id}", exc)
    last_good.put(granted.who.name, f"job {job_id}", body)
    return JSONResponse(body)


@router.post("/jobs/{job_id}/cancel")
def cancel(
    job_id: str, who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as session:
        results = service.request_cancel(session, who, job_id, runtime.clock.now())
    runtime.controller.wake()
    return {"results": results}


@router.post("/jobs:cancel")
def cancel_many(
    req: CancelRequest,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    results = []
    with runtime.store.session() as session:
        for job_id in req.ids:
            results.extend(service.request_cancel(session, who, job_id, runtime.clock.now()))
    runtime.controller.wake()
    return {"results": results}


@router.get("/jobs/{job_id}/events")
def events(
    job_id: str, granted: Access = Depends(authorize), session: Session = Depends(get_session)
) -> Any:
    job = granted.job(session, job_id)
    return {
        "events": [
            {
                "time": e.time,
                "from": e.from_state,
                "to": e.to_state,
                "reason": e.reason,
                "attempt": e.attempt,
            }
            for e in repo.events(session, job.id)
        ]
    }


@router.get("/jobs/{job_id}/placement")
def placement(
    job_id: str, granted: Access = Depends(authorize), session: Session = Depends(get_session)
) -> Any:
    job = granted.job(session, job_id)
    if job.placement is None:
        raise NotFoundError(f"job {job_id} has not been placed yet ({job.reason or job.state})")
    return job.placement


@router.get("/jobs/{job_id}/logs")
async def logs(
    job_id: str,
    stream: str = Query("stdout", pattern="^(stdout|stderr)$"),
    offset: int = Query(0, ge=0),
    limit: int = Query(1 << 20, ge=1, le=1 << 24),
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    with runtime.store.session() as session:
        job = granted.job(session, job_id)
        attempt = repo.latest_attempt(session, job)
        done = JobState(job.state).terminal
        state = job.state
    if attempt is None or attempt.native_id is None:
        return {"data": "", "offset": offset, "eof": done, "state": state}
    adapter = runtime.adapters.get(attempt.cluster)
    if adapter is None:
        raise NotFoundError(f"cluster {attempt.cluster} is no longer configured")
    data = await adapter.output(attempt.native_id, stream, offset, limit)
    return {
        "data": data.decode("utf-8", "replace"),
        "offset": offset + len(data),
        "eof": done and len(data) < limit,
        "state": state,
    }
