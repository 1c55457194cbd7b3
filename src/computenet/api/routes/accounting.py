"""/usage, /budgets, /quotas: statements, sacct export, budgets and quotas.

Who may do what is in api/authz.py: managers set their project's budget and
quotas, everyone in a project reads its usage, administrators everything.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from computenet.accounting import budgets, quotas, sacct, statements
from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import NotFoundError
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


@router.get("/usage")
def usage(
    project: str | None = Query(None, description="one project (default: yours; admins: all)"),
    month: str | None = Query(None, description="YYYY-MM (default: this month)"),
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """A project's statement: any role in it sees the whole project's usage."""
    month = month or statements.current_month(runtime.clock.now())
    with runtime.store.session() as s:
        return statements.statement(s, month, granted.project, now=runtime.clock.now())


@router.get("/usage/sacct")
def usage_sacct(
    since: str | None = None,
    until: str | None = None,
    project: str | None = None,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """Per-job lines: a member's own jobs; a manager's or viewer's, the project's."""
    now = runtime.clock.now()
    start = parse_when(since, now, now - 31 * 86400)
    end = parse_when(until, now, now + 1)
    who, chosen = granted.who, granted.project
    whole = chosen is None or who.sees_project(chosen)
    with runtime.store.session() as s:
        lines = list(
            sacct.export(
                s,
                since=start,
                until=end,
                project=chosen,
                owner=None if whole else who.name,
            )
        )
    return {"fields": list(sacct.FIELDS), "lines": lines}


@router.get("/budgets")
def list_budgets(
    who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    """Every budget for an administrator; else those of the caller's projects."""
    with runtime.store.session() as s:
        rows = budgets.list_budgets(s, runtime.clock.now())
        return {
            "budgets": [
                budgets.budget_to_dict(r)
                for r in rows
                if who.is_admin or who.role(r.project) is not None
            ]
        }


@router.post("/budgets")
def set_budget(
    req: BudgetSet, who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
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
def delete_budget(project: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        if not budgets.delete_budget(s, project):
            raise NotFoundError(f"project {project} has no budget")
    return {"deleted": project}


def _sees_quota(who: Principal, quota: dict[str, Any]) -> bool:
    if who.is_admin:
        return True
    if quota["scope"] == "user":
        return bool(quota["name"] == who.name)
    return who.role(quota["name"]) is not None


@router.get("/quotas")
def list_quotas(
    who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    """Every quota for an administrator; else the caller's own and their projects'."""
    with runtime.store.session() as s:
        return {"quotas": [q for q in quotas.list_quotas(s) if _sees_quota(who, q)]}


@router.post("/quotas")
def set_quota(
    req: QuotaSet, who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
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
        return {"quotas": [q for q in quotas.list_quotas(s) if _sees_quota(who, q)]}


@router.delete("/quotas/{scope}/{name}")
def delete_quota(scope: str, name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        if not quotas.delete_quota(s, scope, name):
            raise NotFoundError(f"no {scope} quota for {name}")
    return {"deleted": f"{scope}/{name}"}
