"""Learned speed factors shape the controller's placements."""

from __future__ import annotations

from pathlib import Path

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.config import Settings
from computenet.core.runtime import Runtime
from computenet.model import JobSpec
from computenet.store import jobs as repo
from tests.support.clusters import fake_configs

LIMIT_S = 600


def make_runtime(root: Path, clock: FakeClock) -> Runtime:
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        clusters=fake_configs(),
        token="cn_test_token",
    )
    adapters = {c.name: FakeCluster(c.to_info(), clock) for c in settings.clusters}
    return Runtime(settings, clock=clock, adapters=adapters)  # type: ignore[arg-type]


def submit(rt: Runtime, spec: JobSpec) -> int:
    with rt.store.session() as s:
        (row,) = repo.create_jobs(s, [repo.NewJob(spec, "alice", "proj")], rt.clock.now())
        return row.id


def prediction(rt: Runtime, job_id: int) -> tuple[float, float]:
    with rt.store.session() as s:
        attempt = repo.latest_attempt(s, repo.get_job(s, job_id))
        assert attempt is not None
        assert attempt.predicted_start is not None and attempt.predicted_end is not None
        return attempt.predicted_start, attempt.predicted_end


async def learn(rt: Runtime, clock: FakeClock, jobs: int = 3) -> None:
    """Jobs on alpha that finish in a tenth of their limit."""
    for i in range(jobs):
        spec = JobSpec(
            name=f"quick{i}", command="sleep 60", time_limit_s=LIMIT_S, clusters=("alpha",)
        )
        job_id = submit(rt, spec)
        await rt.controller.step()
        clock.advance(61)
        await rt.controller.step()
        with rt.store.session() as s:
            assert repo.get_job(s, job_id).state == "COMPLETED"


def probe() -> JobSpec:
    return JobSpec(name="probe", command="sleep 1", time_limit_s=LIMIT_S, clusters=("alpha",))


async def test_learned_factor_shortens_predicted_run_time(
    runtime: Runtime, clock: FakeClock
) -> None:
    before = submit(runtime, probe())
    await runtime.controller.step()
    start, end = prediction(runtime, before)
    assert end - start == LIMIT_S
    clock.advance(2)
    await runtime.controller.step()
    await learn(runtime, clock)
    assert runtime.controller.speed.factor(None, "alpha") == 10.0
    after = submit(runtime, probe())
    await runtime.controller.step()
    start, end = prediction(runtime, after)
    assert abs((end - start) - LIMIT_S / 10) < 1


async def test_predicted_start_behind_a_running_job_is_earlier(
    tmp_path: Path, clock: FakeClock
) -> None:
    """alpha has 8 CPUs; an 8-CPU job runs there, and a second one waits for it."""
    starts = {}
    for learned in (False, True):
        rt = make_runtime(tmp_path / str(learned), clock)
        try:
            await rt.controller.clusters.refresh()
            if learned:
                await learn(rt, clock)
            wide = JobSpec(
                name="wide",
                command="sleep 5000",
                time_limit_s=LIMIT_S,
                nodes=2,
                ntasks=8,
                clusters=("alpha",),
            )
            blocker = submit(rt, wide)
            await rt.controller.step()
            await rt.controller.step()
            with rt.store.session() as s:
                job = repo.get_job(s, blocker)
                assert job.state == "RUNNING" and job.start_time is not None
                began = job.start_time
            waiting = submit(rt, wide)
            await rt.controller.step()
            starts[learned] = prediction(rt, waiting)[0] - began
        finally:
            rt.store.close()
    assert starts[False] == LIMIT_S
    assert starts[True] == LIMIT_S / 10


async def test_a_restarted_controller_remembers_the_factors(
    runtime: Runtime, clock: FakeClock
) -> None:
    await learn(runtime, clock, jobs=4)
    again = Runtime(runtime.settings, clock=clock, adapters=runtime.adapters)
    try:
        assert again.controller.speed.factors("alpha") == {"*": 10.0}
    finally:
        again.store.close()
