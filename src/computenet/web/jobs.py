"""Jobs: the list with filters and live updates, a job's page, cancel and resubmit."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from computenet.client import Client
from computenet.client.api import TERMINAL
from computenet.errors import ComputeNetError
from computenet.web import PREFIX
from computenet.web.logs import log_tail
from computenet.web.render import page, when
from computenet.web.session import check_csrf, client_for, viewer

router = APIRouter()

PAGE_SIZE = 100
STATES = (
    "PENDING",
    "STAGING_IN",
    "QUEUED",
    "RUNNING",
    "STAGING_OUT",
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "OUT_OF_MEMORY",
    "NODE_FAIL",
)
LIST_FIELDS = (
    "id",
    "display_id",
    "name",
    "owner",
    "project",
    "state",
    "reason",
    "cluster",
    "partition",
    "submit_time",
    "start_time",
    "end_time",
    "cpus",
    "gpus",
)


def _filters(
    state: str, name: str, cluster: str, scope: str, finished: bool, cursor: int
) -> dict[str, Any]:
    return {
        "state": state,
        "name": name,
        "cluster": cluster,
        "scope": scope if scope in ("mine", "all") else "mine",
        "finished": finished,
        "cursor": cursor,
    }


def _list(client: Client, f: dict[str, Any]) -> tuple[list[dict[str, Any]], int | None]:
    """One page of jobs, newest first, and the cursor of the next page."""
    params: dict[str, Any] = {
        "all": f["finished"] or f["state"] in STATES[5:],
        "limit": PAGE_SIZE,
        "order": "desc",
        "cursor": f["cursor"],
        "fields": ",".join(LIST_FIELDS),
    }
    if f["scope"] == "all":
        params["all_users"] = True
    for key in ("state", "name", "cluster"):
        if f[key]:
            params[key] = f[key]
    body = client.get("/jobs", params)
    return list(body["jobs"]), body.get("next_cursor")


def rows_of(jobs: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The table's cells, formatted here: the rows are re-rendered every few
    seconds for every open list, and tuples render several times faster
    than the template's filters."""
    rows = []
    for j in jobs:
        reason = j.get("reason")
        rows.append(
            (
                j["display_id"],
                quote(str(j["display_id"]), safe=""),
                j["name"],
                j["owner"],
                j["project"],
                j["state"],
                j["state"].lower(),
                reason if reason and reason != "None" else "",
                j.get("cluster") or "-",
                when(j.get("submit_time")),
                when(j.get("start_time")),
                when(j.get("end_time")),
                j.get("cpus"),
            )
        )
    return rows


def _query(f: dict[str, Any], **changes: Any) -> str:
    merged = {**f, **changes}
    return urlencode(
        {k: ("1" if v is True else v) for k, v in merged.items() if v not in ("", 0, False)}
    )


@router.get(f"{PREFIX}/jobs")
def jobs_page(
    request: Request,
    state: str = "",
    name: str = "",
    cluster: str = "",
    scope: str = "mine",
    finished: bool = False,
    cursor: int = Query(0, ge=0),
    rows: bool = False,
) -> HTMLResponse:
    """The jobs the caller may see, newest first; ``rows``: only the table's
    body (what htmx polls every few seconds)."""
    client = client_for(request)
    me = viewer(request, client)
    f = _filters(state.upper(), name, cluster, scope, finished, cursor)
    jobs, next_cursor = _list(client, f)
    context: dict[str, Any] = {
        "viewer": me,
        "rows": rows_of(jobs),
        "f": f,
        "query": _query(f),
        "next_query": _query(f, cursor=next_cursor) if next_cursor else None,
        "states": STATES,
    }
    if rows:
        return page(request, "_jobs_rows.html", **context)
    context["clusters"] = [c["name"] for c in client.clusters()]
    return page(request, "jobs.html", **context)


def job_context(client: Client, job_id: str) -> dict[str, Any]:
    job = client.job(job_id)
    done = job["state"] in TERMINAL
    key = str(job["display_id"])
    placement = None
    try:
        placement = client.placement(key)
    except ComputeNetError:
        placement = None  # not placed yet
    return {
        "job": job,
        "done": done,
        "events": client.events(key),
        "placement": placement,
        "diagnosis": client.diagnosis(key) if done else None,
        "figures": job.get("figures") or [],
    }


@router.get(f"{PREFIX}/jobs/{{job_id}}")
def job_page(
    request: Request,
    job_id: str,
    stream: str = Query("stdout", pattern="^(stdout|stderr)$"),
    live: bool = False,
) -> HTMLResponse:
    """A job: facts, state timeline, placement reasons, diagnosis, the log's
    tail (``web/logs.py`` extends it); ``live``: only the part htmx refreshes
    while the job has not ended. A job the caller may not see answers 404,
    as the API does."""
    client = client_for(request)
    me = viewer(request, client)
    context = job_context(client, job_id)
    if live:
        return page(request, "_job.html", viewer=me, **context)
    log = log_tail(client, str(context["job"]["display_id"]), stream)
    return page(request, "job.html", viewer=me, log=log, **context)


@router.post(f"{PREFIX}/jobs/{{job_id}}/cancel")
def cancel(request: Request, job_id: str, csrf: str = Form("")) -> RedirectResponse:
    check_csrf(request, csrf)
    client_for(request).cancel(job_id)
    return RedirectResponse(f"{PREFIX}/jobs/{quote(job_id, safe='')}", status_code=303)


@router.post(f"{PREFIX}/jobs/{{job_id}}/resubmit")
def resubmit(request: Request, job_id: str, csrf: str = Form("")) -> RedirectResponse:
    """Submit the job again as it was submitted: a catalogue run with the same
    application and values, any other job with the same script and options."""
    check_csrf(request, csrf)
    client = client_for(request)
    spec = client.job(job_id)["spec"]
    ref = spec.get("catalogue")
    options = [a for a in spec.get("sbatch_args") or [] if not a.startswith("--input-stage=")]
    if ref:
        new = client.run_app(
            ref["name"], ref.get("params") or {}, options=options, cwd=spec.get("workdir")
        )
    else:
        new = client.submit(
            script=spec.get("script"),
            options=list(spec.get("sbatch_args") or []),
            args=list(spec.get("args") or []),
            cwd=spec.get("workdir"),
            env=dict(spec.get("environment") or {}),
        )
    return RedirectResponse(f"{PREFIX}/jobs/{new['id']}", status_code=303)
