"""The usage page: a project's month by cluster and user, its CSV, who may see it."""

from __future__ import annotations

import csv
import io
import time

from .conftest import Portal


def _finished_job(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script="#!/bin/sh\nsleep 1\n", options=["-n", "2", "--time=5"])
    deadline = time.monotonic() + 30
    while portal.sdk["alice"].usage(project="chem")["by_cluster"] == []:
        assert time.monotonic() < deadline, portal.sdk["alice"].job(job["id"])
        time.sleep(0.1)


def test_the_statement_shows_the_projects_usage_by_cluster_and_user(portal: Portal) -> None:
    b = portal.signed_in("alice")
    assert 'class="no-usage"' in b.get("/portal/usage").text
    _finished_job(portal)
    page = b.get("/portal/usage")
    assert page.status_code == 200
    assert 'data-project="chem"' in page.text
    assert "<td>alpha</td><td>alice</td>" in page.text
    download = b.get("/portal/usage.csv")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["project"], r["cluster"], r["user"]) for r in rows] == [("chem", "alpha", "alice")]
    assert float(rows[0]["core_hours"]) > 0 and rows[0]["attempts"] == "1"


def test_another_projects_statement_is_refused(portal: Portal) -> None:
    bob = portal.signed_in("bob")
    resp = bob.get("/portal/usage?project=chem")
    assert resp.status_code == 403 and "not in project chem" in resp.text
    assert bob.get("/portal/usage.csv?project=chem").status_code == 403


def test_a_tiny_cost_is_shown_with_its_digits_not_as_zero() -> None:
    from computenet.web.render import money

    assert money(2.8e-5) == "0.000028"
    assert money(0.0067) == "0.0067"
    assert money(0.0) == "0.0000"
    assert money(12.345) == "12.35"
    assert money(None) == "-"
