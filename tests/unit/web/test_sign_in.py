"""Signing in and out of the portal, its CSRF checks, and the dashboard."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import PASSWORD, Portal, csrf_of


def test_a_page_without_a_session_sends_the_browser_to_sign_in(portal: Portal) -> None:
    resp = portal.browser().get("/portal/")
    assert resp.status_code == 303
    assert resp.headers["location"] == "/portal/login?next=/portal/"


def test_sign_in_shows_the_dashboard_and_sign_out_ends_the_session(portal: Portal) -> None:
    b = portal.signed_in("alice")
    page = b.get("/portal/")
    assert page.status_code == 200
    assert "Dashboard" in page.text and "alpha" in page.text and "chem" in page.text
    cookie = b.jar.get("cn_session")
    assert cookie and cookie.startswith("cn_")
    out = b.post("/portal/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/portal/login"
    # the server revoked the session: the old cookie no longer opens a page
    again = portal.browser()
    again.jar.set("cn_session", cookie, path="/portal")
    assert again.get("/portal/").status_code == 303


def test_a_wrong_password_shows_the_form_again_with_the_servers_message(portal: Portal) -> None:
    b = portal.browser()
    form = b.get("/portal/login")
    resp = b.post(
        "/portal/login",
        data={"username": "alice", "password": "wrong one!", "csrf": csrf_of(form.text)},
    )
    assert resp.status_code == 401
    assert "wrong user name or password" in resp.text
    assert "cn_session" not in b.jar


def test_forms_without_their_csrf_token_are_refused(portal: Portal) -> None:
    b = portal.browser()
    b.get("/portal/login")
    login = b.post("/portal/login", data={"username": "alice", "password": PASSWORD})
    assert login.status_code == 403 and "security token" in login.text
    assert "cn_session" not in b.jar
    signed = portal.signed_in("alice")
    refused = signed.post("/portal/logout", data={"csrf": "0" * 40})
    assert refused.status_code == 403 and "security token" in refused.text
    assert signed.get("/portal/").status_code == 200  # still signed in: nothing happened


def test_sign_in_goes_back_only_to_a_portal_page(portal: Portal) -> None:
    b = portal.browser()
    form = b.get("/portal/login")
    resp = b.post(
        "/portal/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf": csrf_of(form.text),
            "next": "//evil.example.org/portal/",
        },
    )
    assert resp.headers["location"] == "/portal/"


def test_pages_say_so_when_the_browser_libraries_are_missing(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from computenet.web import render

    page = portal.signed_in("alice").get("/portal/")
    if render.missing_vendor_files():
        assert 'id="vendor-missing"' in page.text  # scripts/build-web has not run here
    else:
        assert 'id="vendor-missing"' not in page.text
        assert "/portal/static/vendor/htmx.min.js" in page.text
    monkeypatch.setattr(render, "STATIC", tmp_path)
    bare = portal.signed_in("alice").get("/portal/")
    assert 'id="vendor-missing"' in bare.text and "scripts/build-web" in bare.text
    assert "vendor/htmx.min.js" not in bare.text


def test_a_session_revoked_on_the_server_ends_in_the_browser(portal: Portal) -> None:
    b = portal.signed_in("alice")
    assert b.get("/portal/").status_code == 200
    sessions = [t for t in portal.admin.tokens(user="alice") if t["kind"] == "session"]
    assert len(sessions) == 1
    portal.admin.revoke_token(sessions[0]["id"])
    resp = b.get("/portal/jobs")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/portal/login")
    assert "cn_session" not in b.jar  # the page dropped the dead cookie
    rows = b.get("/portal/jobs?rows=1", headers={"HX-Request": "true"})
    assert rows.status_code == 204 and rows.headers["HX-Redirect"].startswith("/portal/login")


def test_too_many_failed_logins_are_refused_with_retry_after(portal: Portal) -> None:
    b = portal.browser()
    csrf = csrf_of(b.get("/portal/login").text)
    for _ in range(5):
        wrong = {"username": "alice", "password": "not it at all", "csrf": csrf}
        assert b.post("/portal/login", data=wrong).status_code == 401
    right = {"username": "alice", "password": PASSWORD, "csrf": csrf}
    refused = b.post("/portal/login", data=right)
    assert refused.status_code == 429 and "too many failed logins" in refused.text
    assert int(refused.headers["retry-after"]) > 0
    assert "cn_session" not in b.jar


def test_a_bad_query_is_a_page_not_json(portal: Portal) -> None:
    resp = portal.signed_in("alice").get("/portal/jobs?cursor=-1")
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("text/html") and "cursor" in resp.text


def test_pages_forbid_framing_and_foreign_scripts(portal: Portal) -> None:
    for page in (portal.browser().get("/portal/login"), portal.signed_in("alice").get("/portal/")):
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
