"""The network's capacity: its size, peak and measured speed, and what a job
of a shape could get within a horizon, as a curve (docs/capacity.md).

The page reads ``Client.capacity(shapes, curve=True)`` as ``cnet capacity``
does; any signed-in user may (the API's ``GET /capacity`` rule)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import client_for, viewer

router = APIRouter()

#: the horizons the table shows (the chart has every point of the curve)
TABLE_HORIZONS_S = (600.0, 3600.0, 86400.0)


def curve(rows: list[dict[str, Any]], shapes: list[str]) -> str:
    """The chart's data for static/portal.js: one point per horizon of the
    curve, evenly spaced and labelled (now, 5 min ... 24 h), one series per
    shape: the most nodes one job of it could start by then."""
    xs = sorted({float(r["horizon_s"]) for r in rows})
    series = []
    for shape in shapes:
        by_h = {float(r["horizon_s"]): r for r in rows if r["shape"] == shape}
        values = [(by_h[x]["largest"] or {}).get("nodes", 0) if x in by_h else None for x in xs]
        series.append({"label": f"{shape} nodes", "values": values})
    labels = [horizon(x) for x in xs]
    return json.dumps({"x": list(range(len(xs))), "labels": labels, "series": series})


def horizon(seconds: float) -> str:
    s = round(seconds)
    if s == 0:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if s % size == 0 and (unit != "d" or s > 86400):
            return f"{s // size} {unit}"
    return f"{s} s"


@router.get(f"{PREFIX}/capacity")
def capacity_page(request: Request, shape: list[str] = Query([], max_length=8)) -> HTMLResponse:
    """Scale and peak per cluster and partition, sustained figures of
    benchmark runs, and callable scale: a chart over the curve's horizons
    and a table at 10 min, 1 h and 24 h. ``shape``: the shapes asked
    (``cpus=4,mem=8G``; several in one field apart by spaces; default whole
    nodes and one CPU); a bad one is shown as the API's message."""
    client = client_for(request)
    me = viewer(request, client)
    shapes = [part for text in shape for part in re.split(r"[\s;]+", text) if part]
    data = client.capacity(shapes, curve=True)
    rows = data["network"]["callable"]
    table = [r for r in rows if float(r["horizon_s"]) in TABLE_HORIZONS_S]
    return page(
        request,
        "capacity.html",
        viewer=me,
        data=data,
        shapes=data["shapes"],
        asked=" ".join(shapes),
        table=table,
        chart=curve(rows, data["shapes"]),
        horizon=horizon,
    )
