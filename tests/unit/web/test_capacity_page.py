"""The capacity page: the network's size, callable scale as a chart and a
table, for any signed-in user; a bad shape shown as the API's message."""

from __future__ import annotations

import html
import json
import re

from .conftest import Portal


def _chart(text: str) -> dict:
    found = re.search(r'id="capacity-chart" data-chart="([^"]+)"', text)
    assert found, "no chart"
    return json.loads(html.unescape(found.group(1)))


def test_a_member_sees_the_networks_capacity(portal: Portal) -> None:
    expected = portal.sdk["alice"].capacity(curve=True)
    page = portal.signed_in("alice").get("/portal/capacity")
    assert page.status_code == 200
    scale = expected["network"]["scale"]
    assert f"The network: {scale['nodes']} nodes, {scale['cores']} cores" in page.text
    chart = _chart(page.text)
    assert chart["labels"][0] == "now" and chart["labels"][-1] == "24 h"
    assert [s["label"] for s in chart["series"]] == ["node nodes", "cpus=1 nodes"]
    at_day = {
        r["shape"]: (r["largest"] or {}).get("nodes", 0)
        for r in expected["network"]["callable"]
        if r["horizon_s"] == 86400
    }
    assert [s["values"][-1] for s in chart["series"]] == [at_day["node"], at_day["cpus=1"]]
    for c in expected["clusters"]:
        assert f'data-cluster="{c["name"]}"' in page.text
    assert "No benchmark runs yet." in page.text
    row = re.search(
        r'<tr data-shape="node" data-horizon="3600">.*?class="nodes">(\d+)', page.text, re.S
    )
    assert row, "no table row for whole nodes within 1 h"
    (at_hour,) = [
        r for r in expected["network"]["callable"] if (r["shape"], r["horizon_s"]) == ("node", 3600)
    ]
    assert int(row.group(1)) == (at_hour["largest"] or {}).get("nodes", 0)


def test_asked_shapes_are_shown_and_a_bad_one_is_explained(portal: Portal) -> None:
    b = portal.signed_in("bob")
    page = b.get("/portal/capacity?shape=cpus=2")
    assert page.status_code == 200
    assert [s["label"] for s in _chart(page.text)["series"]] == ["cpus=2 nodes"]
    two = b.get("/portal/capacity", params={"shape": "cpus=2,mem=1G  node"})
    assert [s["label"] for s in _chart(two.text)["series"]] == ["cpus=2,mem=1G nodes", "node nodes"]
    assert 'value="cpus=2,mem=1G node"' in two.text
    bad = b.get("/portal/capacity?shape=cores=2")
    assert bad.status_code == 422 and "cores" in bad.text and "<html" in bad.text


def test_signed_out_the_page_asks_to_sign_in(portal: Portal) -> None:
    got = portal.browser().get("/portal/capacity")
    assert got.status_code == 303 and "/portal/login" in got.headers["location"]


def test_times_carry_utc_for_the_browser_to_show_locally(portal: Portal) -> None:
    job = portal.sdk["alice"].submit(script="#!/bin/sh\ntrue\n", options=["-H", "--time=5"])
    page = portal.signed_in("alice").get(f"/portal/jobs/{job['id']}")
    stamp = re.search(
        r'<time datetime="([0-9T:-]+Z)" title="([0-9 :-]+) UTC">([0-9 :-]+)</time>', page.text
    )
    assert stamp, "the timeline's times are not <time> elements"
    assert stamp.group(1).replace("T", " ").rstrip("Z") == stamp.group(2) == stamp.group(3)
