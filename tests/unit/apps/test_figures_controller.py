"""The controller records catalogue runs' figures as they complete, the
broker's placements follow them, and both survive a restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import delete

from computenet.api.routes import jobs
from computenet.api.routes.apps import AppRunRequest, app_spec, catalogue
from computenet.clock import FakeClock
from computenet.config import Settings
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.store import app_figures
from computenet.store import jobs as repo
from computenet.store.tables_apps import AppFigureRow
from tests.support.runtime import fake
from tests.unit.api.test_apps_api import RATER

ALICE = Principal("alice", project="proj", roles={"proj": "member"})


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    script = "sleep {{ seconds }}\necho on $CN_CLUSTER\necho rate: {{ rate }} it/s\n"
    (folder / "rater.yaml").write_text(yaml.safe_dump({**RATER, "script": script}))
    return folder


@asynccontextmanager
async def started(
    root: Path, clock: FakeClock, site: Path, configs: list[Any]
) -> AsyncIterator[Runtime]:
    """A runtime over fake clusters with the site's applications, described."""
    rt = make_runtime(root, clock, site, configs)
    await rt.controller.clusters.refresh()
    try:
        yield rt
    finally:
        rt.store.close()


def make_runtime(root: Path, clock: FakeClock, site: Path, configs: list[Any]) -> Runtime:
    from computenet.clusters.fake import FakeCluster

    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=configs,
        token="cn_test_token",
        apps_dir=site,
    )
    adapters = {c.name: FakeCluster(c.to_info(), clock) for c in settings.clusters}
    return Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]


def run(rt: Runtime, options: list[str] | None = None, **params: Any) -> int:
    request = AppRunRequest(params=params, options=options or [])
    spec, _ = app_spec(catalogue(rt).get("rater"), request, rt)
    return int(jobs.store_spec(spec, ALICE, rt)["id"])


async def finish(rt: Runtime, clock: FakeClock, job_id: int, seconds: float = 61) -> None:
    await rt.controller.step()
    clock.advance(seconds)
    await rt.controller.step()
    with rt.store.session() as s:
        assert repo.get_job(s, job_id).state == "COMPLETED"


async def preview(rt: Runtime) -> dict[str, Any]:
    request = AppRunRequest(params={"seconds": 60})
    spec, _ = app_spec(catalogue(rt).get("rater"), request, rt)
    placement = (await jobs.preview(spec, ALICE, rt))["placement"]
    return {
        "chosen": placement["chosen"],
        **{c["cluster"]: c["speed_source"] for c in placement["candidates"]},
    }


async def test_figures_are_recorded_and_move_the_next_placement(
    tmp_path: Path, clock: FakeClock, site: Path, fake_cluster_configs: list[Any]
) -> None:
    async with started(tmp_path, clock, site, fake_cluster_configs) as rt:
        assert await preview(rt) == {
            "chosen": "alpha",  # beta is configured at half speed
            "alpha": "configured speed 1",
            "beta": "configured speed 0.5",
        }
        slow = run(rt, ["-M", "alpha"], rate=100.0, seconds=60)
        await finish(rt, clock, slow)
        quick = run(rt, ["-M", "beta"], rate=400.0, seconds=60)
        await finish(rt, clock, quick)
        with rt.store.session() as s:
            (row,) = app_figures.for_job(s, quick)
            assert (row.value, row.cluster, row.cpus, row.unit) == (400.0, "beta", 2, "it/s")
            assert row.elapsed_s == pytest.approx(60.0) and row.requested_s == 600.0
            native = repo.latest_attempt(s, repo.get_job(s, quick)).native_id  # type: ignore[union-attr]
        out = await fake(rt, "beta").output(str(native))
        assert b"on beta\n" in out  # the controller told the job its cluster
        assert await preview(rt) == {
            "chosen": "beta",
            "alpha": "measured: rater 100 it/s on 2 CPUs (1 run)",
            "beta": "measured: rater 400 it/s on 2 CPUs (1 run)",
        }
    # A restarted server warms the same speeds from the store.
    async with started(tmp_path, clock, site, fake_cluster_configs) as again:
        assert (await preview(again))["chosen"] == "beta"


async def test_a_figure_missed_by_a_stop_is_caught_up_once(
    tmp_path: Path, clock: FakeClock, site: Path, fake_cluster_configs: list[Any]
) -> None:
    async with started(tmp_path, clock, site, fake_cluster_configs) as rt:
        job = run(rt, rate=321.0, seconds=5)
        await finish(rt, clock, job, seconds=6)
        with rt.store.session() as s:
            s.execute(delete(AppFigureRow))  # as if the server stopped before reading it
        rt.controller._figures_caught_up = False
        await rt.controller.step()
        with rt.store.session() as s:
            assert [r.value for r in app_figures.for_job(s, job)] == [321.0]
        await rt.controller.step()  # once: no second row
        with rt.store.session() as s:
            assert len(app_figures.for_job(s, job)) == 1


async def test_plain_jobs_record_no_figures(runtime: Runtime, clock: FakeClock) -> None:
    from computenet.model import JobSpec
    from tests.support.runtime import submit

    (job,) = submit(runtime, JobSpec(name="plain", command="echo rate: 5 it/s", time_limit_s=60))
    await runtime.controller.step()
    clock.advance(1)
    await runtime.controller.step()
    with runtime.store.session() as s:
        assert repo.get_job(s, job).state == "COMPLETED"
        assert app_figures.for_job(s, job) == []
