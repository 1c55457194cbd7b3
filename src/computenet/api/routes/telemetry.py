"""/alerts, /jobs/{id}/diagnosis, /telemetry/export, and the public /metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import or_, select

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.store.tables import JobRow
from computenet.store.tables_telemetry import AlertRow
from computenet.telemetry import anomalies, export
from computenet.telemetry.diagnosis import diagnose
from computenet.telemetry.facts import job_facts
from computenet.telemetry.reports import parse_when

router = APIRouter(tags=["telemetry"])
public_router = APIRouter(tags=["metrics"])
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@router.get("/alerts")
def alerts(
    all: bool = Query(False, description="include resolved alerts"),
    limit: int = Query(500, ge=1, le=10_000),
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    query = select(AlertRow).order_by(AlertRow.id.desc()).limit(limit)
    if not all:
        query = query.where(AlertRow.resolved_at.is_(None))
    if not who.is_admin:
        seen = select(JobRow.id).where(
            or_(JobRow.owner == who.name, JobRow.project.in_(who.project_wide()))
        )
        query = query.where(
            or_(
                AlertRow.job_id.in_(seen),
                AlertRow.project.in_(list(who.roles)) & AlertRow.job_id.is_(None),
                AlertRow.job_id.is_(None) & AlertRow.project.is_(None),
            )
        )
    with runtime.store.session() as s:
        return {"alerts": [anomalies.alert_to_dict(a) for a in s.scalars(query)]}


@router.get("/jobs/{job_id}/diagnosis")
async def diagnosis(
    job_id: str, granted: Access = Depends(authorize), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        job = granted.job(s, job_id)
    facts = await job_facts(runtime, job)
    found = diagnose(facts).to_dict()
    if job.spec.get("catalogue"):  # whether the application reported its figure
        from computenet.core.app_figures import evidence
        from computenet.store.app_figures import for_job

        with runtime.store.session() as s:
            found["evidence"] += evidence(for_job(s, job.id))
    return {"job": job_id, **found}


@router.get("/telemetry/export/{table}")
def export_page(
    table: str,
    since: str | None = None,
    until: str | None = None,
    cursor: int = Query(-1, ge=-1, le=2**62),
    limit: int = Query(10_000, ge=1, le=100_000),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    now = runtime.clock.now()
    start, end = parse_when(since, now, 0.0), parse_when(until, now, now + 1)
    with runtime.store.session() as s:
        rows, next_cursor = export.page(s, table, since=start, until=end, after=cursor, limit=limit)
    return {"table": table, "rows": rows, "next_cursor": next_cursor}


@public_router.get("/metrics", include_in_schema=False)
def metrics(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    """Prometheus metrics: open to loopback clients unless settings say otherwise,
    else they need a token like any API call."""
    host = request.client.host if request.client else ""
    if not (runtime.settings.metrics_public_loopback and host in LOOPBACK):
        from fastapi.security.utils import get_authorization_scheme_param

        from computenet.errors import AuthError

        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if scheme.lower() != "bearer":
            raise AuthError("missing bearer token (Authorization: Bearer ...)")
        runtime.tenancy.principal(token)
    from prometheus_client import CONTENT_TYPE_LATEST

    from computenet.telemetry.metrics import render

    return Response(render(runtime), media_type=CONTENT_TYPE_LATEST)
