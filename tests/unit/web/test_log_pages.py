"""A job's log in the portal: the tail of a log of any length, earlier lines
on request, what a running job writes next, and 404 for someone else's job."""

from __future__ import annotations

import html
import re
import time
from typing import Any

from computenet.store import jobs as repo
from computenet.web.logs import CHUNK_BYTES, TAIL_BYTES

from .conftest import Portal

RUNNING = "#!/bin/sh\nsleep infinity\n"


def _running(portal: Portal) -> tuple[int, Any, str]:
    """A running job of alice's: its id, its fake cluster and native id."""
    job = portal.sdk["alice"].submit(script=RUNNING, options=["-J", "long", "--time=60"])
    runtime = portal.tc.app.state.runtime  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while portal.sdk["alice"].job(job["id"])["state"] != "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with runtime.store.session() as s:
        attempt = repo.latest_attempt(s, repo.get_job(s, job["id"]))
        cluster, native = attempt.cluster, attempt.native_id
    return job["id"], runtime.adapters[cluster], native


def _lines(first: int, last: int) -> bytes:
    return b"".join(b"line %07d\n" % i for i in range(first, last))


def _pre(page: str) -> str:
    found = re.search(r'<pre id="log"[^>]*>(.*?)</pre>', page, re.S)
    assert found, "no log on the page"
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def test_the_page_shows_the_end_of_a_long_log_and_loads_earlier_lines(portal: Portal) -> None:
    job_id, cluster, native = _running(portal)
    cluster.write_output(native, _lines(0, 200_000))  # 2.4 MB: far past the first MiB
    b = portal.signed_in("alice")
    page = b.get(f"/portal/jobs/{job_id}").text
    shown = _pre(page)
    assert shown.endswith("line 0199999\n") and shown.startswith("line ")
    assert 0 < len(shown.encode()) <= TAIL_BYTES
    start = int(re.search(r'data-start="(\d+)"', page).group(1))  # type: ignore[union-attr]
    assert f"before={start}" in page and 'id="log-earlier"' in page
    earlier = b.get(f"/portal/jobs/{job_id}/log?before={start}")
    assert earlier.status_code == 200 and "<html" not in earlier.text
    text = _pre(f'<pre id="log">{earlier.text.split("<button")[0]}</pre>')
    assert text.startswith("line ") and len(text.encode()) <= CHUNK_BYTES
    assert (text + shown).endswith("line 0199999\n")  # the two pieces join line to line
    first_shown = int(shown.split()[1])
    assert text.endswith(f"line {first_shown - 1:07d}\n")
    again = re.search(r"before=(\d+)", earlier.text)
    assert again and int(again.group(1)) < start  # the button now loads what came before


def test_the_beginning_of_the_log_ends_the_earlier_button(portal: Portal) -> None:
    job_id, cluster, native = _running(portal)
    cluster.write_output(native, _lines(0, 10))
    b = portal.signed_in("alice")
    page = b.get(f"/portal/jobs/{job_id}").text
    assert _pre(page).startswith("line 0000000\n") and 'id="log-earlier"' not in page
    part = b.get(f"/portal/jobs/{job_id}/log?before=44").text
    assert "line 0000000" in part and "line 0000004" not in part
    assert '<span id="log-earlier" hx-swap-oob="true"></span>' in part


def test_following_brings_what_the_job_writes_next(portal: Portal) -> None:
    job_id, cluster, native = _running(portal)
    cluster.write_output(native, b"first\n")
    b = portal.signed_in("alice")
    page = b.get(f"/portal/jobs/{job_id}").text
    assert 'id="log-follow"' in page and "after=6" in page
    nothing = b.get(f"/portal/jobs/{job_id}/log?after=6").text
    assert "after=6" in nothing and "first" not in nothing  # polled again, from the same place
    cluster.write_output(native, b"second\n")
    more = b.get(f"/portal/jobs/{job_id}/log?after=6").text
    assert more.startswith("second\n") and "after=13" in more
    portal.sdk["alice"].cancel(job_id)
    deadline = time.monotonic() + 20
    while portal.sdk["alice"].job(job_id)["state"] != "CANCELLED":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    last = b.get(f"/portal/jobs/{job_id}/log?after=13").text
    assert 'id="log-follow"' not in last  # ended and read to its end: no more polls
    assert '<h2 id="log-title" hx-swap-oob="true">Log (stdout)</h2>' in last


def test_another_users_log_answers_404(portal: Portal) -> None:
    job_id, cluster, native = _running(portal)
    cluster.write_output(native, b"secret\n")
    bob = portal.signed_in("bob")
    for url in (f"/portal/jobs/{job_id}/log?after=0", f"/portal/jobs/{job_id}/log?before=7"):
        got = bob.get(url, headers={"HX-Request": "true"})
        assert got.status_code == 404 and "secret" not in got.text
