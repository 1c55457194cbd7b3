"""The portal in a real browser (Debian's chromium driven by playwright) over
a live server whose embedded cluster runs LAMMPS for real.

Set PORTAL_SCREENSHOTS=docs/img to keep the main pages' screenshots.
"""

from __future__ import annotations

import calendar
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from tests.support.clusters import embedded_here
from tests.support.live import LiveServer, live_settings

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "browser password 1"
XSS = "<script>alert(1)</script>"


def _needs(*paths: str) -> None:
    missing = [p for p in paths if shutil.which(p) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing in CI (scripts/test installs it)")
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    _needs(CHROMIUM, "lmp", "mpirun")
    from computenet.core.runtime import Runtime

    root = tmp_path_factory.mktemp("portal")
    live = LiveServer(Runtime(live_settings(root, [embedded_here()])))
    tokens: dict[str, str] = {}
    with live.client() as admin:
        for name, project in (("alice", "chem"), ("bob", "phys")):
            tokens[name] = admin.add_user(name, project=project)["token"]
            admin.set_password(name, PASSWORD)
    live.tokens = tokens  # type: ignore[attr-defined]
    yield live
    live.stop()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        yield p


def _browser(playwright: Any, tmp_path: Path, who: str) -> Any:
    """A fresh chromium profile for one user."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / f"profile-{who}"),
        executable_path=CHROMIUM,
        headless=True,
        args=ARGS,
        viewport={"width": 1280, "height": 860},
    )
    context.set_default_timeout(30_000)
    return context


def _sign_in(context: Any, url: str, who: str) -> Any:
    page = context.new_page()
    page.goto(url + "/portal/")
    assert "/portal/login" in page.url
    page.fill("input[name=username]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(url + "/portal/")
    return page


def _shot(page: Any, name: str) -> None:
    target = os.environ.get("PORTAL_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"portal-{name}.png"), full_page=True)


def _post(page: Any, path: str, csrf: str | None) -> int:
    """A crafted form post from the page's own origin (cookies sent)."""
    status: int = page.evaluate(
        """async ([path, csrf]) => {
            const body = new URLSearchParams();
            if (csrf !== null) body.set("csrf", csrf);
            const r = await fetch(path, {method: "POST", body, redirect: "manual"});
            return r.status;
        }""",
        [path, csrf],
    )
    return status


def test_run_lammps_from_its_form_and_see_it_through(
    server: LiveServer, playwright: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url = server.url
    alice = _browser(playwright, tmp_path, "alice")
    page = _sign_in(alice, url, "alice")
    expect(page.locator("#clusters")).to_contain_text("here")
    expect(page.locator("#vendor-missing")).to_have_count(0)
    expect(page.locator(".chart canvas").first).to_be_visible()  # uPlot drew the charts

    page.goto(url + "/portal/usage")
    expect(page.locator(".no-usage")).to_be_visible()

    page.goto(url + "/portal/apps/lammps")
    page.fill("#p_size", "3")
    page.fill("#p_steps", "5")  # below the minimum: the form says so at the field
    page.click("button[value=run]")
    expect(page.locator("#p_steps-error")).to_contain_text("must be between 10")
    page.fill("#p_steps", "200")
    page.fill("#r_time", "5")
    page.click("button[value=preview]")
    expect(page.locator("#preview-candidates")).to_contain_text("here")
    _shot(page, "catalogue")
    page.click("#run")
    page.wait_for_url("**/portal/jobs/*")
    # htmx refreshes the job while it runs
    expect(page.locator("#job-state")).to_have_text("COMPLETED", timeout=180_000)
    expect(page.locator("#cancel")).to_have_count(0)  # an ended job offers no cancel
    expect(page.locator("#log")).to_contain_text("Performance:")
    expect(page.locator("#log-title")).to_have_text("Log (stdout)")  # no longer following
    expect(page.locator("#figure")).to_contain_text("tau/day")
    expect(page.locator("#timeline")).to_contain_text("RUNNING")
    expect(page.locator("#placement-reason")).to_contain_text("here")
    _shot(page, "job")
    job_id = page.url.rsplit("/", 1)[1]

    row = page.locator("[data-project=chem] tbody tr").first
    deadline = time.monotonic() + 60
    while True:  # the usage is booked once the controller has read it from the cluster
        page.goto(url + "/portal/usage")
        if "here" in row.inner_text() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    expect(row).to_contain_text("here")
    expect(row).to_contain_text("alice")
    assert float(row.locator(".cost").inner_text()) > 0
    _shot(page, "usage")

    page.goto(url + "/portal/jobs?finished=1")
    expect(page.locator(f"tr[data-job='{job_id}']")).to_contain_text("COMPLETED")
    page.goto(url + "/portal/")
    _shot(page, "dashboard")
    alice.close()


def test_others_cannot_see_or_cancel_and_names_are_text(
    server: LiveServer, playwright: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url = server.url
    with Client(url, server.tokens["alice"]) as sdk:  # type: ignore[attr-defined]
        held = sdk.submit(script="#!/bin/sh\ntrue\n", options=["-J", XSS, "--time=1", "-H"])
        job_id = str(held["id"])

        alice = _browser(playwright, tmp_path, "alice")
        page = _sign_in(alice, url, "alice")
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url + "/portal/jobs")
        cell = page.locator(f"tr[data-job='{job_id}'] .job-name")
        expect(cell).to_have_text(XSS)  # shown as text, not run
        _shot(page, "jobs")
        page.goto(url + f"/portal/jobs/{job_id}")
        expect(page.locator("h1 .job-name")).to_have_text(XSS)
        page.wait_for_timeout(500)
        assert dialogs == []

        # a form posted without its CSRF token is refused, and changes nothing
        assert _post(page, f"/portal/jobs/{job_id}/cancel", None) == 403
        assert sdk.job(job_id)["state"] == "PENDING"

        bob = _browser(playwright, tmp_path, "bob")
        other = _sign_in(bob, url, "bob")
        other.goto(url + "/portal/jobs?scope=all&finished=1")
        expect(other.locator(f"tr[data-job='{job_id}']")).to_have_count(0)
        resp = other.goto(url + f"/portal/jobs/{job_id}")
        assert resp is not None and resp.status == 404
        expect(other.locator("#error-message")).to_have_text(f"no job {job_id}")
        # crafted: bob's own valid form token on a cancel of alice's job
        other.goto(url + "/portal/")
        bob_csrf = other.locator("input[name=csrf]").first.get_attribute("value")
        assert _post(other, f"/portal/jobs/{job_id}/cancel", bob_csrf) == 404
        assert sdk.job(job_id)["state"] == "PENDING"
        bob.close()

        # the owner cancels from the page
        page.goto(url + f"/portal/jobs/{job_id}")
        page.click("#cancel")
        expect(page.locator("#job-state")).to_have_text("CANCELLED", timeout=30_000)
        assert sdk.job(job_id)["state"] == "CANCELLED"
        alice.close()


LONG_LOG = """#!/bin/sh
i=0
while [ $i -lt 6000 ]; do
  echo "line $i of the long log, padded to be a little longer"
  i=$((i + 1))
done
sleep 4
echo "a late line"
sleep 120
"""


def test_log_tail_local_times_capacity_and_a_streamed_upload(
    server: LiveServer, playwright: Any, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    url = server.url
    root = tmp_path / "site-root"
    root.mkdir()
    with server.client() as admin:
        admin.post("/sites", {"name": "store", "kind": "path", "config": {"root": str(root)}})
    with Client(url, server.tokens["alice"]) as sdk:  # type: ignore[attr-defined]
        job = sdk.submit(script=LONG_LOG, options=["-J", "long-log", "--time=5"])
        job_id = str(job["id"])
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile-tokyo"),
            executable_path=CHROMIUM,
            headless=True,
            args=ARGS,
            viewport={"width": 1280, "height": 860},
            timezone_id="Asia/Tokyo",  # UTC+9, no daylight saving
        )
        context.set_default_timeout(30_000)
        page = _sign_in(context, url, "alice")
        deadline = time.monotonic() + 60
        while "line 5999 " not in sdk.log_range(job_id, limit=1 << 20, offset=300_000)["data"]:
            assert time.monotonic() < deadline, "the job did not write its log"
            time.sleep(0.2)
        page.goto(url + f"/portal/jobs/{job_id}")
        log = page.locator("#log")
        expect(log).to_contain_text("line 5999 of the long log")
        assert "line 0 of" not in log.inner_text()  # 330 kB: only the tail is shown
        before = len(log.inner_text())
        page.click("#log-earlier")
        page.wait_for_function(
            "n => document.getElementById('log').textContent.length > n", arg=before
        )
        expect(log).to_contain_text("a late line", timeout=60_000)  # followed, no reload
        at_end = "e => e.scrollTop + e.clientHeight >= e.scrollHeight - 4"
        page.wait_for_function(f"({at_end})(document.getElementById('log'))")

        stamp = page.locator("#timeline time").first
        utc = stamp.get_attribute("datetime")
        assert utc is not None and stamp.get_attribute("title") == (
            utc.replace("T", " ").rstrip("Z") + " UTC"
        )
        epoch = calendar.timegm(time.strptime(utc, "%Y-%m-%dT%H:%M:%SZ"))
        tokyo = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch + 9 * 3600))
        expect(stamp).to_have_text(tokyo)

        page.goto(url + "/portal/capacity")
        expect(page.locator("#capacity-chart canvas")).to_be_visible()
        expect(page.locator("#callable")).to_contain_text("here/cpu")
        _shot(page, "capacity")

        data = os.urandom(3 << 20)  # over one chunk of the SDK's stream
        upload = tmp_path / "input.bin"
        upload.write_bytes(data)
        page.goto(url + "/portal/files?site=store")
        page.set_input_files("#upload input[type=file]", str(upload))
        page.click("#upload button[type=submit]")
        expect(page.locator(".banner.notice")).to_contain_text("uploaded input.bin")
        assert (root / "input.bin").read_bytes() == data
        sdk.cancel(job_id)
        context.close()
