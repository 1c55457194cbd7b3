"""The catalogue: each application's form, field-level errors, a placement
preview and the run."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from computenet.client import Client
from computenet.errors import AuthError, ComputeNetError, ParameterError
from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import Viewer, check_csrf, client_for, viewer

router = APIRouter()

PARAM, RESOURCE = "p_", "r_"


@router.get(f"{PREFIX}/apps")
def apps_page(request: Request) -> HTMLResponse:
    client = client_for(request)
    me = viewer(request, client)
    return page(request, "apps.html", viewer=me, apps=client.apps())


def _defaults(form: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for f in form["fields"]:
        if f.get("default") is not None:
            values[PARAM + f["name"]] = _text(f["default"])
    for r in form["resources"]:
        if r.get("default") is not None:
            values[RESOURCE + r["name"]] = _text(r["default"])
    return values


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _form_page(
    request: Request,
    client: Client,
    me: Viewer,
    name: str,
    values: dict[str, str] | None = None,
    status_code: int = 200,
    form: dict[str, Any] | None = None,
    **context: Any,
) -> HTMLResponse:
    form = form if form is not None else client.app(name)
    values = _defaults(form) if values is None else values
    errors = context.pop("errors", {})
    context.setdefault("preview", None)
    return page(
        request,
        "app.html",
        status_code=status_code,
        viewer=me,
        app=form,
        params=[_field(PARAM, f, values, errors) for f in form["fields"]],
        resources=[_field(RESOURCE, r, values, {}) for r in form["resources"]],
        account=values.get("account"),
        projects=[p for p in me.projects if p["role"] in ("member", "manager")],
        **context,
    )


def _field(
    prefix: str, f: dict[str, Any], values: dict[str, str], errors: dict[str, str]
) -> dict[str, Any]:
    """One form field, resolved here (the template only prints it)."""
    low, high = f.get("min"), f.get("max")
    bounds = None
    if low is not None or high is not None:
        bounds = f"From {'-' if low is None else low} to {'-' if high is None else high}."
    return {
        "key": prefix + f["name"],
        "label": f.get("label") or f["name"],
        "type": f.get("type"),
        "required": bool(f.get("required")),
        "choices": f.get("choices") or [],
        "value": values.get(prefix + f["name"], ""),
        "error": errors.get(f["name"]),
        "bounds": bounds,
        "help": f.get("help") or "",
    }


@router.get(f"{PREFIX}/apps/{{name}}")
def app_page(request: Request, name: str) -> HTMLResponse:
    """The form with its defaults; ``?p_NAME=VALUE`` fills a field (the files
    page sends a chosen input back this way)."""
    client = client_for(request)
    me = viewer(request, client)
    form = client.app(name)
    values = _defaults(form)
    values.update({k: v for k, v in request.query_params.items() if k.startswith(PARAM)})
    return _form_page(request, client, me, name, values, form=form)


def run_request(form: dict[str, Any], values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The run's parameters and sbatch options from the posted form: text as
    typed (the server checks and converts it), empty fields left out."""
    params: dict[str, Any] = {}
    for f in form["fields"]:
        raw = values.get(PARAM + f["name"])
        if f["type"] == "bool":
            params[f["name"]] = "true" if raw in ("true", "on", "1") else "false"
        elif raw is not None and raw.strip() != "":
            params[f["name"]] = raw.strip()
    options = []
    for r in form["resources"]:
        raw = (values.get(RESOURCE + r["name"]) or "").strip()
        if raw:
            options.append(f"{r['option']}={raw}")
    account = (values.get("account") or "").strip()
    if account:
        options.append(f"--account={account}")
    return params, options


def _submit(request: Request, name: str, values: dict[str, str]) -> Response:
    client = client_for(request)
    me = viewer(request, client)
    check_csrf(request, values.get("csrf"))
    form = client.app(name)
    params, options = run_request(form, values)
    preview = values.get("action") == "preview"
    try:
        body = client.run_app(name, params, options=options, test_only=preview)
    except ParameterError as exc:
        errors = {e["field"]: e["message"] for e in exc.details.get("fields", [])}
        return _form_page(request, client, me, name, values, 422, errors=errors, error=exc.message)
    except AuthError:
        raise
    except ComputeNetError as exc:  # a bad option, an account refused, nowhere to run
        return _form_page(request, client, me, name, values, exc.http_status, error=exc.message)
    if preview:
        return _form_page(request, client, me, name, values, preview=body)
    return RedirectResponse(f"{PREFIX}/jobs/{quote(str(body['id']), safe='')}", status_code=303)


@router.post(f"{PREFIX}/apps/{{name}}")
async def app_run(request: Request, name: str) -> Response:
    """``action=preview``: the placement preview (candidates, predicted start
    and finish, cost) with the form kept; otherwise submit and go to the job."""
    posted = await request.form()
    values = {k: v for k, v in posted.items() if isinstance(v, str)}
    return await run_in_threadpool(_submit, request, name, values)
