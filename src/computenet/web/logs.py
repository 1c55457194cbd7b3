"""A job's log on its page: the tail, earlier parts on request, and what the
job writes next while it runs.

The page shows the last ``TAIL_BYTES`` of the log from a line's start. Two
fragments, both addressed by byte offsets of the log, extend it in place:
``before=B`` gives the ``CHUNK_BYTES`` that end at B ("load earlier"), and
``after=A`` what the log holds from A on (polled every 2 s while the job has
not ended; it stops once the job has ended and its log is read to the end).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from computenet.client import Client
from computenet.client.files import from_line_start
from computenet.web import PREFIX
from computenet.web.render import page
from computenet.web.session import client_for

router = APIRouter()

TAIL_BYTES = 64 << 10
CHUNK_BYTES = 64 << 10
#: the most one poll of a running job's log brings (the next poll comes at once then)
FOLLOW_BYTES = 256 << 10
STREAM = "^(stdout|stderr)$"


def log_tail(client: Client, job_id: str, stream: str) -> dict[str, Any]:
    """The page's first view of the log: ``text``, ``start``, ``end``, ``stream``, ``done``."""
    tail = client.log_tail(job_id, stream, TAIL_BYTES)
    return {
        "text": tail["data"],
        "start": tail["start"],
        "end": tail["end"],
        "stream": stream,
        "done": bool(tail["eof"]),
    }


@router.get(f"{PREFIX}/jobs/{{job_id}}/log")
def log_part(
    request: Request,
    job_id: str,
    stream: str = Query("stdout", pattern=STREAM),
    before: int | None = Query(None, ge=0),
    after: int | None = Query(None, ge=0),
) -> HTMLResponse:
    """A part of the log for htmx: ``before`` (the lines ending there, and
    the button for the ones before them) or ``after`` (what came since, and
    the next poll unless the log has ended). A job the caller may not see
    answers 404, as its page does."""
    client = client_for(request)
    context: dict[str, Any] = {"job_id": job_id, "stream": stream}
    if before is not None:
        start = max(0, before - CHUNK_BYTES)
        body = client.log_range(job_id, stream, start, before - start) if before else None
        text, start = from_line_start(str(body["data"]), start) if body else ("", 0)
        context |= {"text": text, "start": start}
        return page(request, "_log_earlier.html", **context)
    offset = after or 0
    body = client.log_range(job_id, stream, offset, FOLLOW_BYTES)
    end = int(body["offset"])
    context |= {
        "text": str(body["data"]),
        "end": end,
        "done": bool(body["eof"]),
        "more": end - offset >= FOLLOW_BYTES,
    }
    return page(request, "_log_more.html", **context)
