"""Usage: a project's monthly statement by cluster and user, and its CSV."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from computenet.client import Client
from computenet.web import PREFIX
from computenet.web.render import hours, money, page
from computenet.web.session import client_for, viewer

router = APIRouter()

MONTH = r"^(\d{4}-\d{2})?$"
CSV_FIELDS = ("month", "project", "cluster", "user", "core_hours", "gpu_hours", "cost", "attempts")


def recent_months(now: float, count: int = 12) -> list[str]:
    year, month = time.gmtime(now)[:2]
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _statement(client: Client, project: str, month: str) -> dict[str, Any]:
    data: dict[str, Any] = client.usage(project=project or None, month=month or None)
    return data


@router.get(f"{PREFIX}/usage")
def usage_page(
    request: Request,
    project: str = "",
    month: str = Query("", pattern=MONTH),
) -> HTMLResponse:
    """Any role in a project sees the whole project's statement (as the API
    decides); an administrator with no project chosen sees every project."""
    client = client_for(request)
    me = viewer(request, client)
    if not project and not me.is_admin:
        project = str(me.me.get("default_project") or "")
    data = _statement(client, project, month)
    projects = (
        [p["name"] for p in client.projects()] if me.is_admin else [p["name"] for p in me.projects]
    )
    return page(
        request,
        "usage.html",
        viewer=me,
        data=data,
        lines=lines_by_project(data),
        project=project,
        month=data["month"],
        months=recent_months(time.time()),
        projects=projects,
    )


def lines_by_project(data: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Each project's lines, formatted here: a month of a busy network is
    thousands of lines, which the template renders four times faster as
    plain tuples than through its filters."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for line in data.get("by_cluster", []):
        out.setdefault(line["project"], []).append(
            (
                line["cluster"],
                line["user"],
                hours(line["core_seconds"]),
                hours(line["gpu_seconds"]),
                money(line["cost"]),
                line["attempts"],
            )
        )
    return out


def statement_csv(data: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for line in data.get("by_cluster", []):
        writer.writerow(
            [
                data["month"],
                line["project"],
                line["cluster"],
                line["user"],
                round(line["core_seconds"] / 3600, 6),
                round(line["gpu_seconds"] / 3600, 6),
                line["cost"],
                line["attempts"],
            ]
        )
    return out.getvalue()


@router.get(f"{PREFIX}/usage.csv")
def usage_csv(
    request: Request, project: str = "", month: str = Query("", pattern=MONTH)
) -> Response:
    client = client_for(request)
    me = viewer(request, client)
    if not project and not me.is_admin:
        project = str(me.me.get("default_project") or "")
    data = _statement(client, project, month)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"usage-{project or 'all'}-{data['month']}.csv")
    return Response(
        statement_csv(data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
