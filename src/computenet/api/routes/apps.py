"""/apps: the application catalogue, its forms, runs, and /reports/apps.

A run renders the application's script and goes through the same path as
``POST /jobs``: the same parse, feasibility check, budget check and store
(``jobs.store_spec``), with the application's name, version and values
recorded on the job (``JobSpec.catalogue``). Bad values answer 422 with
``details.fields``: one ``{"field", "message"}`` per bad field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from computenet.api.deps import current_user, get_runtime
from computenet.api.routes import jobs
from computenet.api.schemas import MAX_ENV, MAX_OPTIONS, EnvName, Word
from computenet.apps import CatalogueSource, check_values, render_run, report
from computenet.apps.catalogue import App, Catalogue
from computenet.apps.forms import form_schema, summary
from computenet.apps.installs import entry_for, unusable_here
from computenet.core import service
from computenet.core.runtime import Runtime
from computenet.core.service import Principal, SubmitInput
from computenet.errors import SpecError
from computenet.model import JobSpec
from computenet.network.app_speed import units_of
from computenet.store import jobs as repo

router = APIRouter(tags=["apps"])
#: ``/reports/apps`` covers this many days unless told otherwise
REPORT_DAYS = 30

ParamValue = int | float | bool | Word | None


class AppRunRequest(BaseModel):
    """A catalogue run: parameter values (typed, or text to be read by each
    parameter's type), sbatch options over the application's defaults."""

    model_config = ConfigDict(strict=True, extra="forbid")
    params: dict[EnvName, ParamValue] = Field(default_factory=dict, max_length=200)
    options: list[Word] = Field(default_factory=list, max_length=MAX_OPTIONS)
    test_only: bool = False
    cwd: str | None = Field(default=None, max_length=4096)
    env: dict[EnvName, Word] = Field(default_factory=dict, max_length=MAX_ENV)


def catalogue(runtime: Runtime) -> Catalogue:
    """The runtime's catalogue (reloaded when the site folder changes)."""
    source = runtime.__dict__.get("_apps_source")
    if source is None:
        source = runtime.__dict__["_apps_source"] = CatalogueSource(runtime.settings.apps_dir)
    assert isinstance(source, CatalogueSource)
    return source.current()


def cluster_kinds(runtime: Runtime) -> dict[str, str]:
    return {name: config.kind for name, config in runtime.cluster_configs.items()}


def _where(app: App, runtime: Runtime) -> list[dict[str, Any]]:
    """Each configured cluster: can it run the application, how, or why not."""
    kinds = cluster_kinds(runtime)
    unusable = dict(unusable_here(app.spec, kinds))
    out = []
    for name in sorted(kinds):
        hit = entry_for(app.spec, name)
        why = unusable.get(name)
        if hit is None:
            why = f"{app.name} is not installed there"
        out.append(
            {
                "cluster": name,
                "available": why is None,
                "how": hit[1].describe() if hit else None,
                "why_not": why,
            }
        )
    return out


@router.get("/apps")
def list_apps(
    who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    cat = catalogue(runtime)
    body: dict[str, Any] = {"apps": [summary(a) for a in cat.apps.values()]}
    if who.is_admin:  # file paths and their faults are for whoever runs the server
        body["problems"] = [p.to_dict() for p in cat.problems]
    return body


@router.get("/apps/{name}")
def show_app(
    name: str, who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    app = catalogue(runtime).get(name)
    body = form_schema(app)
    if not who.is_admin:
        body.pop("path")
        body.pop("replaces")
    body["clusters"] = _where(app, runtime)
    return body


def app_spec(app: App, req: AppRunRequest, runtime: Runtime) -> tuple[JobSpec, str]:
    """The parsed spec of a run and its script; ``ParameterError`` (nothing
    rendered) when a value does not fit its parameter."""
    values = check_values(app.spec, req.params)
    rendered = render_run(app, values, cluster_kinds(runtime))
    settings = runtime.settings
    spec = service.parse(
        SubmitInput(
            script=rendered.script,
            options=[*rendered.options, *req.options],
            cwd=req.cwd,
            env=req.env,
        ),
        max_script_bytes=settings.max_script_bytes,
        max_array_size=settings.max_array_size,
    )
    if spec.app is not None:
        raise SpecError("--app is set by the catalogue for its runs; leave it out", option="app")
    return replace(spec, app=app.name, catalogue=rendered.ref), rendered.script


def _app_of(spec: JobSpec) -> dict[str, Any]:
    ref = spec.catalogue
    assert ref is not None
    return {"name": ref.name, "version": ref.version, "params": ref.params}


@router.post("/apps/{name}/runs", status_code=201)
async def run_app(
    name: str, req: AppRunRequest, request: Request, who: Principal = Depends(current_user)
) -> Any:
    runtime: Runtime = request.app.state.runtime
    app = catalogue(runtime).get(name)
    spec, script = app_spec(app, req, runtime)
    if req.test_only:
        body = await jobs.preview(spec, who, runtime)
        return {**body, "app": _app_of(spec), "script": script}
    body = jobs.store_spec(spec, who, runtime)
    if body.get("reason") != repo.HELD:  # a held job gives the controller nothing to do
        runtime.controller.wake()
    return JSONResponse({**body, "app": _app_of(spec)}, status_code=201)


@router.get("/reports/apps")
def apps_report(
    since: str | None = Query(None, description="UTC date/time, epoch, or -30d"),
    until: str | None = None,
    app: str | None = Query(None, description="only this application"),
    _: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    from computenet.telemetry.reports import parse_when

    now = runtime.clock.now()
    start = parse_when(since, now, now - REPORT_DAYS * 86400.0)
    end = parse_when(until, now, now)
    with runtime.store.session() as s:
        runs = _runs(s, runtime, start, end, app)
    return {"since": start, "until": end, "rows": report.rows(runs)}


def _runs(
    s: Session, runtime: Runtime, since: float, until: float, app: str | None
) -> list[report.RunFigure]:
    """The figures in the range, each with its run's accounted cost (the
    usage record) or, not yet accounted, price x allocation x elapsed."""
    from computenet.store import app_figures
    from computenet.store.tables_accounting import UsageRecordRow

    figures = app_figures.in_range(s, since, until, app)
    ids = [f.attempt_id for f in figures]
    accounted: dict[int, tuple[float, float, float]] = {}
    for chunk in range(0, len(ids), 500):
        for attempt_id, paid, core_h, gpu_h in s.execute(
            select(
                UsageRecordRow.attempt_id,
                UsageRecordRow.cost,
                UsageRecordRow.price_per_core_hour,
                UsageRecordRow.price_per_gpu_hour,
            ).where(UsageRecordRow.attempt_id.in_(ids[chunk : chunk + 500]))
        ):
            accounted[attempt_id] = (paid, core_h, gpu_h)
    prices = {
        (i.name, p.name): (p.price_per_core_hour, p.price_per_gpu_hour)
        for i in runtime.controller.clusters.infos()
        for p in i.partitions
    }
    out = []
    for f in figures:
        cost: float | None = None
        if f.attempt_id in accounted:
            cost, core_h, gpu_h = accounted[f.attempt_id]
        else:
            core_h, gpu_h = prices.get((f.cluster, f.partition), (0.0, 0.0))
        per_s = (core_h * f.cpus + gpu_h * f.gpus) / 3600.0
        if cost is None and f.elapsed_s is not None:
            cost = per_s * f.elapsed_s
        units = units_of(f.per, f.cpus, f.gpus, f.nodes)
        out.append(
            report.RunFigure(
                f.app,
                f.cluster,
                f.partition,
                f.value,
                f.unit,
                f.higher_is_better,
                f.per,
                float(units),
                cost,
                per_s,
                f.recorded_at,
            )
        )
    return out
