"""The jobs list and a job's page: what each user sees, escaping, cancel, resubmit."""

from __future__ import annotations

import time

from .conftest import Portal, csrf_of

XSS = "<script>alert(1)</script>"
SCRIPT = "#!/bin/sh\necho hello from the job\n"


def _wait_state(portal: Portal, job_id: int, *states: str) -> dict:
    deadline = time.monotonic() + 20
    while True:
        job = portal.sdk["alice"].job(job_id)
        if job["state"] in states or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_the_list_shows_my_jobs_with_names_as_text(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script=SCRIPT, options=["-J", XSS, "--time=5", "-H"])
    b = portal.signed_in("alice")
    page = b.get("/portal/jobs")
    assert page.status_code == 200
    assert XSS not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert f'data-job="{job["id"]}"' in page.text
    rows = b.get("/portal/jobs?rows=1")  # what htmx polls: the table's rows alone
    assert rows.status_code == 200 and "<tr" in rows.text and "<html" not in rows.text
    other = portal.signed_in("bob").get("/portal/jobs?scope=all&finished=1")
    assert f'data-job="{job["id"]}"' not in other.text


def test_a_job_page_shows_timeline_placement_and_log(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script=SCRIPT, options=["-J", "hello", "--time=5"])
    _wait_state(portal, job["id"], "COMPLETED")
    page = portal.signed_in("alice").get(f"/portal/jobs/{job['id']}")
    assert page.status_code == 200
    text = page.text
    assert 'id="job-state">COMPLETED' in text
    assert "submitted" in text and "PENDING" in text  # the timeline's first event
    assert "the earliest finish" in text  # the broker's reason
    assert 'id="diagnosis"' in text
    assert 'hx-trigger="every 2s"' not in text  # an ended job is not polled


def test_another_user_cannot_see_or_cancel_the_job(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script=SCRIPT, options=["-J", "mine", "--time=5", "-H"])
    bob = portal.signed_in("bob")
    seen = bob.get(f"/portal/jobs/{job['id']}")
    assert seen.status_code == 404 and f"no job {job['id']}" in seen.text
    csrf = csrf_of(bob.get("/portal/").text)
    refused = bob.post(f"/portal/jobs/{job['id']}/cancel", data={"csrf": csrf})
    assert refused.status_code == 404
    assert portal.sdk["alice"].job(job["id"])["state"] == "PENDING"


def test_cancel_and_resubmit(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script=SCRIPT, options=["-J", "held", "--time=5", "-H"])
    b = portal.signed_in("alice")
    page = b.get(f"/portal/jobs/{job['id']}")
    assert 'hx-trigger="every 2s"' in page.text  # live while it has not ended
    csrf = csrf_of(page.text)
    assert b.post(f"/portal/jobs/{job['id']}/cancel").status_code == 403  # no CSRF token
    assert portal.sdk["alice"].job(job["id"])["state"] == "PENDING"
    done = b.post(f"/portal/jobs/{job['id']}/cancel", data={"csrf": csrf})
    assert done.status_code == 303
    assert _wait_state(portal, job["id"], "CANCELLED")["state"] == "CANCELLED"
    again = b.post(f"/portal/jobs/{job['id']}/resubmit", data={"csrf": csrf})
    assert again.status_code == 303
    new_id = int(again.headers["location"].rsplit("/", 1)[1])
    assert new_id != job["id"]
    new = portal.sdk["alice"].job(new_id)
    assert new["name"] == "held" and new["spec"]["script"] == SCRIPT
