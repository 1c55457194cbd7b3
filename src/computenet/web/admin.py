"""Administration: users, projects and roles, budgets, quotas, clusters
(add, drain, resume, remove).

Administrators see every section; a project's managers see their projects'
members, budgets and quotas. Each form is one SDK call, so the API's rules
decide (a manager adding a user gets the API's 403 on the page).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from computenet.client import Client
from computenet.errors import AuthError, ComputeNetError, ForbiddenError, SpecError
from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import Viewer, check_csrf, client_for, viewer

router = APIRouter()

ROLES = ("member", "manager", "viewer")


def _managed(me: Viewer) -> list[str]:
    return [p["name"] for p in me.projects if p["role"] == "manager"]


def _admin_page(
    request: Request,
    client: Client,
    me: Viewer,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
) -> HTMLResponse:
    projects = client.projects()
    managed = [p["name"] for p in projects] if me.is_admin else _managed(me)
    if not me.is_admin and not managed:
        raise ForbiddenError("administration needs a network administrator or a project's manager")
    return page(
        request,
        "admin.html",
        status_code=status_code,
        viewer=me,
        users=client.users() if me.is_admin else [],
        projects=[p for p in projects if p["name"] in managed],
        members={name: client.members(name) for name in managed},
        budgets={b["project"]: b for b in client.budgets()},
        quotas=client.quotas(),
        clusters=client.clusters() if me.is_admin else [],
        roles=ROLES,
        error=error,
        notice=notice,
    )


@router.get(f"{PREFIX}/admin")
def admin_page(request: Request, done: str = "") -> HTMLResponse:
    client = client_for(request)
    me = viewer(request, client)
    return _admin_page(request, client, me, notice=done or None)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SpecError(f"{what} must be a number (got {text!r})") from None


def _limit(text: str, what: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        raise SpecError(f"{what} must be a whole number or empty (got {text!r})")
    return int(text)


def act(client: Client, action: str, f: dict[str, str]) -> str:
    """Do one form's change; returns what to tell the user."""
    if action == "add-user":
        fields: dict[str, Any] = {"role": f.get("role", "member")}
        if f.get("password"):
            fields["password"] = f["password"]
        if f.get("is_admin") == "true":
            fields["is_admin"] = True
        client.add_user(f.get("name", ""), project=f.get("project") or "default", **fields)
        return f"user {f.get('name')} added"
    if action == "disable-user":
        client.set_user(f.get("name", ""), disabled=f.get("disabled") == "true")
        return f"user {f.get('name')} {'disabled' if f.get('disabled') == 'true' else 'enabled'}"
    if action == "add-project":
        client.add_project(f.get("name", ""), description=f.get("description") or None)
        return f"project {f.get('name')} added"
    if action == "set-member":
        client.add_member(f.get("project", ""), f.get("user", ""), f.get("role", "member"))
        return f"{f.get('user')} is {f.get('role')} of {f.get('project')}"
    if action == "remove-member":
        client.remove_member(f.get("project", ""), f.get("user", ""))
        return f"{f.get('user')} left {f.get('project')}"
    if action == "set-budget":
        amount = _number(f.get("amount", ""), "the budget")
        client.set_budget(f.get("project", ""), amount, period=f.get("period") or "month")
        return f"budget of {f.get('project')} set"
    if action == "set-quota":
        client.set_quota(
            f.get("scope", "project"),
            f.get("name", ""),
            max_running_cpus=_limit(f.get("max_running_cpus", ""), "running CPUs"),
            max_running_gpus=_limit(f.get("max_running_gpus", ""), "running GPUs"),
        )
        return f"quota of {f.get('name')} set"
    if action == "add-cluster":
        config: dict[str, Any] = {"name": f.get("name", ""), "kind": f.get("kind", "slurm")}
        for key in ("slurm_conf", "ssh", "ssh_key"):
            if f.get(key):
                config[key] = f[key]
        client.add_cluster(config)
        return f"cluster {f.get('name')} added"
    if action in ("drain-cluster", "resume-cluster"):
        if action == "drain-cluster":
            client.drain_cluster(f.get("name", ""))
            return f"cluster {f.get('name')} drained: no new jobs go there"
        client.resume_cluster(f.get("name", ""))
        return f"cluster {f.get('name')} takes jobs again"
    if action == "remove-cluster":
        client.remove_cluster(f.get("name", ""))
        return f"cluster {f.get('name')} removed"
    raise SpecError(f"unknown action {action!r}")


def _post(request: Request, action: str, values: dict[str, str]) -> Response:
    client = client_for(request)
    me = viewer(request, client)
    check_csrf(request, values.get("csrf"))
    try:
        message = act(client, action, values)
    except AuthError:
        raise
    except ComputeNetError as exc:
        return _admin_page(request, client, me, exc.http_status, error=exc.message)
    return RedirectResponse(f"{PREFIX}/admin?{urlencode({'done': message})}", status_code=303)


@router.post(f"{PREFIX}/admin/{{action}}")
async def admin_post(request: Request, action: str) -> Response:
    posted = await request.form()
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    return await run_in_threadpool(_post, request, action, values)
