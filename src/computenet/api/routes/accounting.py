"""/usage, /budgets, /quotas: statements, sacct export, budgets and quotas."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from computenet.accounting import budgets, quotas, sacct, statements
from computenet.api.deps import admin_user, current_user, get_runtime
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ForbiddenError, NotFoundError
from computenet.telemetry.reports import parse_when

router = APIRouter(tags=["accounting"])
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"


class BudgetSet(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    project: str = Field(pattern=NAME)
    amount: float = Field(ge=0, le=1e15)
    soft: bool = False
    period: str = Field("month", pattern="^(month|total)$")


class QuotaSet(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    scope: str = Field(pattern="^(project|user)$")
    name: str = Field(pattern=NAME)
    max_running_cpus: int | None = Field(None, ge=0, le=10**9)
    max_running_gpus: int | None = Field(None, ge=0, le=10**9)


def _project_for(who: Principal, project: str | None) -> str | None:
    if who.is_admin:
        return project
    if project is not None and project != who.project:
        raise ForbiddenError(f"only administrators can see project {project}'s usage")
    return who.project


@router.get("/usage")
def usage(
    project: str | None = None,
    month: str | None = Query(None, description="YYYY-MM (default: this month)"),
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    month = month or statements.current_month(runtime.clock.now())
    with runtime.store.session() as s:
        return statements.statement(s, month, _project_for(who, project), now=runtime.clock.now())


@router.get("/usage/sacct")
def usage_sacct(
    since: str | None = None,
    until: str | None = None,
    project: str | None = None,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    now = runtime.clock.now()
    start = parse_when(since, now, now - 31 * 86400)
    end = parse_when(until, now, now + 1)
    with runtime.store.session() as s:
        lines = list(
            sacct.export(
                s,
                since=start,
                until=end,
                project=_project_for(who, project),
                owner=None if who.is_admin else who.name,
            )
        )
    return {"fields": list(sacct.FIELDS), "lines": lines}


@router.get("/budgets")
def list_budgets(
    _: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        rows = budgets.list_budgets(s, runtime.clock.now())
        return {"budgets": [budgets.budget_to_dict(r) for r in rows]}


@router.post("/budgets")
def set_budget(
    req: BudgetSet, who: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        row = budgets.set_budget(
            s,
            req.project,
            req.amount,
            hard=not req.soft,
            period=req.period,
            now=runtime.clock.now(),
            by=who.name,
        )
        return budgets.budget_to_dict(row)


@router.delete("/budgets/{project}")
def delete_budget(
    project: str, _: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        if not budgets.delete_budget(s, project):
            raise NotFoundError(f"project {project} has no budget")
    return {"deleted": project}


@router.get("/quotas")
def list_quotas(_: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        return {"quotas": quotas.list_quotas(s)}


@router.post("/quotas")
def set_quota(
    req: QuotaSet, _: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        quotas.set_quota(
            s,
            req.scope,
            req.name,
            max_running_cpus=req.max_running_cpus,
            max_running_gpus=req.max_running_gpus,
            now=runtime.clock.now(),
        )
        return {"quotas": quotas.list_quotas(s)}


@router.delete("/quotas/{scope}/{name}")
def delete_quota(
    scope: str,
    name: str,
    _: Principal = Depends(admin_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    with runtime.store.session() as s:
        if not quotas.delete_quota(s, scope, name):
            raise NotFoundError(f"no {scope} quota for {name}")
    return {"deleted": f"{scope}/{name}"}
