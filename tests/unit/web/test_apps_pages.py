"""The catalogue in the portal: forms from parameters, field errors, preview, run."""

from __future__ import annotations

import re

from .conftest import Portal, csrf_of


def _form(b, name: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    page = b.get(f"/portal/apps/{name}")
    assert page.status_code == 200, page.text
    values = dict(re.findall(r'<input id="([pr]_\w+)" name="\1" value="([^"]*)"', page.text))
    return {**values, "csrf": csrf_of(page.text), "account": "chem"}


def test_each_parameter_becomes_a_field_with_its_default(portal: Portal) -> None:
    b = portal.signed_in("alice")
    listing = b.get("/portal/apps")
    assert "LAMMPS Lennard-Jones melt" in listing.text
    form = _form(b, "lammps")
    assert form["p_steps"] == "200" and form["p_size"] == "10" and form["r_ntasks"] == "2"
    assert "Cells per side" in b.get("/portal/apps/lammps").text


def test_a_bad_value_is_shown_at_its_field_and_nothing_is_submitted(portal: Portal) -> None:
    b = portal.signed_in("alice")
    form = {**_form(b, "lammps"), "p_steps": "5", "p_size": "$(rm -rf ~)", "action": "run"}
    resp = b.post("/portal/apps/lammps", data=form)
    assert resp.status_code == 422
    assert re.search(r'id="p_steps-error">must be between 10 and', resp.text)
    assert 'id="p_size-error"' in resp.text
    assert 'value="$(rm -rf ~)"' in resp.text  # the form keeps what was typed
    assert list(portal.sdk["alice"].jobs(all=True)) == []


def test_preview_shows_candidates_then_run_submits(portal: Portal) -> None:
    b = portal.signed_in("alice")
    form = {**_form(b, "lammps"), "p_steps": "100", "r_time": "5"}
    preview = b.post("/portal/apps/lammps", data={**form, "action": "preview"})
    assert preview.status_code == 200, preview.text
    assert 'id="preview-candidates"' in preview.text
    assert "alpha" in preview.text and "beta" in preview.text
    assert list(portal.sdk["alice"].jobs(all=True)) == []  # a preview submits nothing
    run = b.post("/portal/apps/lammps", data={**form, "action": "run"})
    assert run.status_code == 303
    job_id = run.headers["location"].rsplit("/", 1)[1]
    job = portal.sdk["alice"].job(job_id)
    assert job["spec"]["catalogue"]["name"] == "lammps" and job["project"] == "chem"
    assert job["spec"]["catalogue"]["params"]["steps"] == 100


def test_another_projects_account_is_refused(portal: Portal) -> None:
    b = portal.signed_in("alice")
    form = {**_form(b, "lammps"), "account": "phys", "action": "run"}
    resp = b.post("/portal/apps/lammps", data=form)
    assert resp.status_code == 403 and "phys" in resp.text
    assert list(portal.sdk["alice"].jobs(all=True)) == []


def test_a_run_without_the_csrf_token_is_refused(portal: Portal) -> None:
    b = portal.signed_in("alice")
    form = {**_form(b, "lammps"), "action": "run"}
    del form["csrf"]
    assert b.post("/portal/apps/lammps", data=form).status_code == 403
    assert list(portal.sdk["alice"].jobs(all=True)) == []
