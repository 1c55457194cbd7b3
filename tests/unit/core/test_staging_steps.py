"""The controller stages a job's inputs before it is queued and its outputs after it ends."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from computenet.clock import FakeClock
from computenet.clusters.fake import FakeCluster
from computenet.core.runtime import Runtime
from computenet.core.staging_steps import views_for
from computenet.model import JobSpec, Staging
from computenet.network import ClusterView
from computenet.store import jobs as repo


def submit(rt: Runtime, spec: JobSpec) -> int:
    with rt.store.session() as s:
        (row,) = repo.create_jobs(s, [repo.NewJob(spec, "alice", "proj")], rt.clock.now())
        return row.id


def local(path: str, dest: str) -> Staging:
    """``path`` on the local site, as ``dest`` in the job's working directory."""
    return Staging(site="local", path=path, dest=dest)


def staged_job(
    rt: Runtime,
    workdir: Path,
    command: str,
    *,
    name: str,
    inputs: tuple[Staging, ...] = (),
    outputs: tuple[Staging, ...] = (),
) -> int:
    """Submit a job of a minute at most in ``workdir`` that stages these files."""
    spec = JobSpec(
        name=name,
        command=command,
        time_limit_s=60,
        workdir=str(workdir),
        inputs=inputs,
        outputs=outputs,
    )
    return submit(rt, spec)


def job_row(rt: Runtime, job_id: int) -> tuple[str, str | None, str | None]:
    with rt.store.session() as s:
        job = repo.get_job(s, job_id)
        return job.state, job.reason, job.exit_code


def path(rt: Runtime, job_id: int) -> list[str]:
    with rt.store.session() as s:
        return [e.to_state for e in repo.events(s, job_id)]


def submitted(rt: Runtime) -> int:
    return sum(len(a.submitted) for a in rt.adapters.values() if isinstance(a, FakeCluster))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path / "work"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "inputs" / "input.dat"
    src.parent.mkdir(parents=True)
    src.write_bytes(b"x" * 100_000)
    return src


async def test_input_arrives_before_the_job_is_queued(
    runtime: Runtime, workdir: Path, source: Path
) -> None:
    job_id = staged_job(
        runtime, workdir, "sleep 10", name="in", inputs=(local(str(source), "in.dat"),)
    )
    await runtime.controller.step()
    state, reason, _ = job_row(runtime, job_id)
    assert (state, reason) == ("STAGING_IN", "staging 1 input to local")
    assert submitted(runtime) == 0
    await runtime.controller.staging.wait()
    assert (workdir / "in.dat").read_bytes() == source.read_bytes()
    assert submitted(runtime) == 1
    assert path(runtime, job_id) == ["PENDING", "STAGING_IN", "QUEUED"]


@pytest.mark.parametrize(
    ("command", "end", "code"), [("true", "COMPLETED", "0:0"), ("exit 3", "FAILED", "3:0")]
)
async def test_output_comes_back_after_the_job_ends(
    runtime: Runtime,
    clock: FakeClock,
    tmp_path: Path,
    workdir: Path,
    command: str,
    end: str,
    code: str,
) -> None:
    dest = tmp_path / "results" / "out.dat"
    job_id = staged_job(
        runtime, workdir, f"sleep 10; {command}", name="out", outputs=(local(str(dest), "out.dat"),)
    )
    await runtime.controller.step()
    await runtime.controller.step()
    assert job_row(runtime, job_id)[0] == "RUNNING"
    workdir.mkdir(parents=True)
    (workdir / "out.dat").write_text("result\n")
    clock.advance(11)
    await runtime.controller.step()
    assert job_row(runtime, job_id)[0] == "STAGING_OUT"
    await runtime.controller.staging.wait()
    state, _, exit_code = job_row(runtime, job_id)
    assert (state, exit_code) == (end, code)
    assert dest.read_text() == "result\n"
    assert path(runtime, job_id)[-2:] == ["STAGING_OUT", end]
    with runtime.store.session() as s:
        job = repo.get_job(s, job_id)
        assert job.end_time is not None and job.start_time is not None
        assert job.end_time - job.start_time == 10


async def test_missing_output_keeps_the_end_state_and_says_why(
    runtime: Runtime, clock: FakeClock, tmp_path: Path, workdir: Path
) -> None:
    job_id = staged_job(
        runtime,
        workdir,
        "sleep 5",
        name="out",
        outputs=(local(str(tmp_path / "o.dat"), "never.dat"),),
    )
    await runtime.controller.step()
    await runtime.controller.step()
    clock.advance(6)
    await runtime.controller.step()
    await runtime.controller.staging.wait()
    state, reason, exit_code = job_row(runtime, job_id)
    assert (state, exit_code) == ("COMPLETED", "0:0")
    assert reason is not None and reason.startswith("stage-out failed: ")


async def test_missing_input_fails_the_job_and_never_submits(
    runtime: Runtime, tmp_path: Path, workdir: Path
) -> None:
    job_id = staged_job(
        runtime, workdir, "true", name="in", inputs=(local(str(tmp_path / "absent.dat"), "in.dat"),)
    )
    await runtime.controller.step()
    await runtime.controller.staging.wait()
    state, reason, _ = job_row(runtime, job_id)
    assert state == "FAILED"
    assert reason is not None and reason.startswith("stage-in failed: ")
    assert "absent.dat" in reason
    assert submitted(runtime) == 0
    with runtime.store.session() as s:
        attempt = repo.latest_attempt(s, repo.get_job(s, job_id))
        assert attempt is not None and attempt.state == "FAILED"


async def test_a_restart_during_stage_in_resumes(
    runtime: Runtime, clock: FakeClock, workdir: Path, source: Path
) -> None:
    job_id = staged_job(
        runtime, workdir, "sleep 10", name="in", inputs=(local(str(source), "in.dat"),)
    )
    await runtime.controller.step()
    await runtime.controller.staging.stop()  # the server goes down mid-copy
    assert job_row(runtime, job_id)[0] == "STAGING_IN"
    again = Runtime(runtime.settings, clock=clock, adapters=runtime.adapters)
    try:
        await again.controller.clusters.refresh()
        await again.controller.step()
        await again.controller.staging.wait()
        assert (workdir / "in.dat").read_bytes() == source.read_bytes()
        assert job_row(again, job_id)[0] == "QUEUED"
        assert submitted(again) == 1
    finally:
        again.store.close()


def test_broker_sees_a_link_only_where_the_data_is_elsewhere(
    runtime: Runtime, source: Path
) -> None:
    status = runtime.controller.clusters.status
    alpha, beta = (status[n].info for n in ("alpha", "beta"))
    assert alpha is not None and beta is not None
    views = [
        ClusterView(info=alpha, snapshot=None),
        ClusterView(info=replace(beta, site="hpc"), snapshot=None),
    ]
    spec = JobSpec(inputs=(local(str(source), "in.dat"),))
    out, size = views_for(runtime.controller, spec, views)
    assert size == 100_000
    links = {v.name: v.bandwidth_bytes_per_s for v in out}
    assert links == {"alpha": None, "beta": runtime.settings.staging_bandwidth_bytes_per_s}


async def test_staging_options_from_the_command_line_move_both_ways(
    runtime: Runtime, clock: FakeClock, tmp_path: Path, workdir: Path, source: Path
) -> None:
    """--input-stage SITE:PATH:DEST brings PATH in as DEST; --output-stage
    PATH:SITE:DEST takes the job's PATH back to DEST: as a user writes them."""
    from computenet.spec import parse_sbatch

    result = tmp_path / "results" / "out.dat"
    spec = parse_sbatch(
        [
            f"--input-stage=local:{source}:in.dat",
            f"--output-stage=out.dat:local:{result}",
            "--time=1",
            "--wrap",
            "sleep 10",
        ],
        None,
        cwd=str(workdir),
    )
    job_id = submit(runtime, replace(spec, workdir=str(workdir)))
    await runtime.controller.step()
    await runtime.controller.staging.wait()
    assert (workdir / "in.dat").read_bytes() == source.read_bytes()
    await runtime.controller.step()
    (workdir / "out.dat").write_text("answer\n")
    clock.advance(11)
    await runtime.controller.step()
    await runtime.controller.staging.wait()
    assert job_row(runtime, job_id)[0] == "COMPLETED"
    assert result.read_text() == "answer\n"
