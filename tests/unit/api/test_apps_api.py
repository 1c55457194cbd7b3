"""The catalogue through the REST API and the SDK, on a real server over
fake clusters: forms, runs through the submission path, bad values, figures."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from computenet.client import Client
from computenet.config import Settings
from computenet.errors import (
    InfeasibleError,
    NotFoundError,
    ParameterError,
    SpecError,
)
from tests.unit.api.conftest import TOKEN

RATER = {
    "version": 1,
    "name": "rater",
    "title": "Rater",
    "app_version": "2.0",
    "description": "Prints a rate.\nSecond line.",
    "parameters": [
        {"name": "rate", "type": "float", "min": 1, "max": 1e6, "default": 250.0},
        {"name": "seconds", "type": "int", "min": 0, "max": 3600, "default": 0},
        {"name": "label", "type": "str", "pattern": "(?s).*", "default": "x"},
    ],
    "resources": {"ntasks": 2, "time": "00:10:00"},
    "install": {"*": {"path": "/usr/bin"}},
    "figure": {
        "regex": r"rate: (?P<value>[0-9.]+) it/s",
        "unit": "it/s",
        "higher_is_better": True,
    },
    "script": "sleep {{ seconds }}\necho rate: {{ rate }} it/s\n",
}


def _write(folder: Path, data: dict[str, Any]) -> None:
    (folder / f"{data['name']}.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site-apps"
    folder.mkdir()
    _write(folder, RATER)
    _write(folder, {**RATER, "name": "silent", "script": "echo nothing to see\n"})
    _write(folder, {**RATER, "name": "alphaonly", "install": {"alpha": {"path": "/usr/bin"}}})
    (folder / "broken.yaml").write_text("version: 1\nname: broken\n")
    return folder


@pytest.fixture
def live(
    tmp_path: Path,
    site: Path,
    make_live_server: Callable[[Any], Any],
    fake_cluster_configs: list[Any],
) -> Any:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_cluster_configs,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.05,
        apps_dir=site,
    )
    return make_live_server(settings)


def wait_figures(client: Client, job_id: int, timeout_s: float = 10) -> dict[str, Any]:
    """The job once its figures are recorded (or as it is at the timeout)."""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.job(job_id)
        if job.get("figures") or time.monotonic() > deadline:
            return dict(job)
        time.sleep(0.05)


def test_listing_shows_shipped_and_site_apps_and_problems_to_admins(
    admin: Client, alice: Client, site: Path
) -> None:
    names = [a["name"] for a in alice.apps()]
    assert {"lammps", "gromacs", "openfoam", "rater", "silent", "alphaonly"} <= set(names)
    assert "broken" not in names
    rater = next(a for a in alice.apps() if a["name"] == "rater")
    assert rater == {
        "name": "rater",
        "title": "Rater",
        "version": "2.0",
        "summary": "Prints a rate.",
        "source": "site",
        "figure_unit": "it/s",
        "installed": ["*"],
    }
    assert "problems" not in alice.get("/apps")
    problems = admin.get("/apps")["problems"]
    assert {p["path"] for p in problems} == {str(site / "broken.yaml")}
    assert [p["field"] for p in problems] == ["title", "app_version", "install", "script"]


def test_an_app_shows_a_form_a_portal_can_draw(alice: Client) -> None:
    form = alice.app("lammps")
    steps = next(f for f in form["fields"] if f["name"] == "steps")
    assert steps == {
        "name": "steps",
        "type": "int",
        "label": "Time steps",
        "help": "Number of velocity-Verlet steps of 0.005 tau.",
        "default": 200,
        "required": False,
        "min": 10,
        "max": 10000000,
    }
    device = next(f for f in alice.app("pytorch")["fields"] if f["name"] == "device")
    assert device["choices"] == ["auto", "cpu", "cuda"] and device["default"] == "auto"
    ntasks = next(r for r in form["resources"] if r["name"] == "ntasks")
    assert ntasks == {
        "name": "ntasks",
        "option": "--ntasks",
        "type": "int",
        "label": "Tasks",
        "default": 2,
    }
    assert form["figure"]["unit"] == "tau/day" and form["figure"]["higher_is_better"] is True
    assert [c["cluster"] for c in form["clusters"]] == ["alpha", "beta"]
    assert all(c["available"] for c in form["clusters"])
    assert "path" not in form  # the server's file layout is for administrators
    only = alice.app("alphaonly")["clusters"]
    assert only[1] == {
        "cluster": "beta",
        "available": False,
        "how": None,
        "why_not": "alphaonly is not installed there",
    }
    with pytest.raises(NotFoundError, match="no application 'nope'"):
        alice.app("nope")
    with pytest.raises(NotFoundError, match="its file is broken"):
        alice.app("broken")


def test_bad_values_name_every_field_and_store_nothing(live: Any, alice: Client) -> None:
    with pytest.raises(ParameterError) as exc:
        alice.run_app("lammps", {"steps": 1, "size": "big", "typo": 3})
    fields = {f["field"]: f["message"] for f in exc.value.details["fields"]}
    assert fields == {
        "steps": "must be between 10 and 1e+07 (got 1)",
        "size": "must be a whole number (got 'big')",
        "typo": "unknown parameter (known: cutoff, seed, size, steps, temperature)",
    }
    # The raw HTTP answer a form reads: 422 with every field in details.
    resp = httpx2.post(
        live.url + "/api/v1/apps/lammps/runs",
        headers={"Authorization": alice._http.headers["Authorization"]},
        json={"params": {"steps": 1, "temperature": "hot"}},
    )
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "invalid_parameters"
    assert [f["field"] for f in error["details"]["fields"]] == ["steps", "temperature"]
    for body, code in (
        ({"params": {"steps": [1]}}, 422),  # not a scalar
        ({"params": {}, "surprise": 1}, 422),
        ({"params": {f"p{i}": 1 for i in range(201)}}, 422),
    ):
        resp = httpx2.post(
            live.url + "/api/v1/apps/lammps/runs",
            headers={"Authorization": alice._http.headers["Authorization"]},
            json=body,
        )
        assert resp.status_code == code, resp.text
    with pytest.raises(SpecError, match="--app is set by the catalogue"):
        alice.run_app("rater", options=["--app=other"])
    with pytest.raises(InfeasibleError, match="needs 100 CPUs"):
        alice.run_app("rater", options=["--ntasks=100"])
    assert list(alice.jobs(all=True)) == []


def test_test_only_gives_estimates_and_the_script_and_stores_nothing(alice: Client) -> None:
    result = alice.run_app("lammps", {"steps": 500}, options=["--ntasks=4"], test_only=True)
    assert result["spec"]["ntasks"] == 4 and result["spec"]["time_limit_s"] == 600
    assert result["app"] == {
        "name": "lammps",
        "version": "29Sep2021",
        "params": {"size": 10, "steps": 500, "temperature": 1.44, "cutoff": 2.5, "seed": 87287},
    }
    cands = {c["cluster"]: c for c in result["placement"]["candidates"]}
    assert set(cands) == {"alpha", "beta"}
    assert cands["alpha"]["predicted_end"] is not None and cands["alpha"]["cost"] > 0
    assert cands["beta"]["speed_source"] == "configured speed 0.5"
    assert "-var steps 500" in result["script"]
    assert list(alice.jobs(all=True)) == []


def test_a_run_is_a_job_with_its_app_and_its_figure_is_recorded(alice: Client) -> None:
    job = alice.run_app("rater", {"rate": 1234.5, "label": "; rm -rf ~ $(id)"})
    assert job["state"] == "PENDING" and job["name"] == "rater" and job["owner"] == "alice"
    assert job["app"]["name"] == "rater" and job["app"]["version"] == "2.0"
    final = alice.wait(job["id"], timeout_s=10)
    assert final["state"] == "COMPLETED"
    spec = final["spec"]
    assert spec["app"] == "rater" and spec["catalogue"]["params"]["label"] == "; rm -rf ~ $(id)"
    shown = wait_figures(alice, job["id"])
    (figure,) = shown["figures"]
    assert figure["value"] == 1234.5 and figure["unit"] == "it/s" and figure["note"] is None
    assert figure["cluster"] == final["cluster"] and figure["cpus"] == 2
    assert figure["line"] == "rate: 1234.5 it/s"


def test_a_run_without_a_figure_records_none_and_says_so(alice: Client) -> None:
    job = alice.run_app("silent")
    assert alice.wait(job["id"], timeout_s=10)["state"] == "COMPLETED"
    (figure,) = wait_figures(alice, job["id"])["figures"]
    assert figure["value"] is None
    assert "no it/s figure in the job's stdout" in figure["note"]
    diagnosis = alice.get(f"/jobs/{job['id']}/diagnosis")
    assert any("no performance figure was recorded" in e for e in diagnosis["evidence"])


def test_an_app_runs_only_where_it_is_installed(alice: Client) -> None:
    job = alice.run_app("alphaonly", options=["--policy=cheapest"])  # beta is cheaper
    placement = alice.placement(alice.wait(job["id"], timeout_s=10)["id"])
    assert placement["chosen"] == "alpha"
    beta = next(c for c in placement["candidates"] if c["cluster"] == "beta")
    assert beta["why_not"] == "alphaonly is not installed on beta (installed on: alpha)"
    with pytest.raises(InfeasibleError, match="alphaonly is not installed on beta"):
        alice.run_app("alphaonly", options=["--clusters=beta"])


def test_the_report_gives_runs_figures_and_costs(alice: Client) -> None:
    ids = [alice.run_app("rater", {"rate": r}, options=["-M", "alpha"])["id"] for r in (100, 300)]
    for i in ids:
        wait_figures(alice, i)
    rows = alice.app_report(app="rater")["rows"]
    (row,) = rows
    assert row["cluster"] == "alpha" and row["runs"] == 2 and row["runs_with_figure"] == 2
    assert row["median_figure"] == 200.0 and row["unit"] == "it/s"
    assert row["work_unit"] == "it"
    # 2 CPUs at 0.04 per core-hour: 0.08/3600 per second; 1/rate seconds per it
    expected = [0.08 / 3600 / 100, 0.08 / 3600 / 300]
    assert row["cost_per_work"] == pytest.approx(sum(expected) / 2)
    assert row["cost_per_run"] is not None and row["cost_per_run"] >= 0
    assert alice.app_report(app="lammps")["rows"] == []


def test_catalogue_routes_need_a_token(live: Any) -> None:
    for method, path in (
        ("GET", "/apps"),
        ("GET", "/apps/lammps"),
        ("POST", "/apps/lammps/runs"),
        ("GET", "/reports/apps"),
    ):
        resp = httpx2.request(
            method, live.url + "/api/v1" + path, json={} if method == "POST" else None
        )
        assert resp.status_code == 401, (method, path)
