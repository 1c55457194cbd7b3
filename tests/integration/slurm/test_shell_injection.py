"""No user value reaches a shell unquoted, on any kind of cluster.

Hypothesis builds hostile values (a shell payload wrapped in quotes,
backslashes, newlines and metacharacters) and puts them where a user can put
text: the job name (as an ``#SBATCH`` line), the comment, the working
directory's name, an environment value and the script's arguments; array
and dependency strings go through the option parser. Each job is submitted
to an embedded cluster, a local Slurm cluster and a Slurm cluster behind an
SSH login node. Every payload would create a file in a canary directory if
any shell ever ran it; the job's own script writes one file there itself
(``own-*``). The test passes only if the canary directory then holds exactly
the jobs' own files, each with the values the job was given, unchanged.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from computenet.clusters.base import ClusterAdapter
from computenet.config import ClusterConfig, PartitionConfig
from computenet.errors import SpecError
from computenet.model import AttemptRequest, JobSpec, JobState
from computenet.spec import parse_submit

from .conftest import SlurmDev, SshLogin

pytestmark = pytest.mark.integration

#: the characters a shell gives meaning to, and a few that trip up quoting
SHELLY = " '\"$`;&|\\<>(){}[]*?!#~%=,:\t\n"
_n = itertools.count()


def payloads(canary: Path) -> list[str]:
    """Ways to make a shell run ``touch CANARY/pwned-N``."""
    c = shlex.quote(str(canary))
    return [
        f"$(touch {c}/pwned-1)",
        f"`touch {c}/pwned-2`",
        f"; touch {c}/pwned-3 ;",
        f"\ntouch {c}/pwned-4\n",
        f"' ; touch {c}/pwned-5 ; '",
        f'" ; touch {c}/pwned-6 ; "',
        f"| touch {c}/pwned-7",
        f"&& touch {c}/pwned-8",
        f"${{IFS}}$(touch${{IFS}}{c}/pwned-9)",
        f"\\'$(touch {c}/pwned-10)\\'",
    ]


def hostile(canary: Path) -> st.SearchStrategy[str]:
    noise = st.text(alphabet=SHELLY + "ab-_.", max_size=6)
    return st.builds(
        lambda pre, payload, post: pre + payload + post,
        noise,
        st.sampled_from(payloads(canary)),
        noise,
    )


@dataclass(frozen=True)
class HostileJob:
    name: str
    comment: str
    dirname: str
    env_value: str
    arg: str
    array: str
    dependency: str


def hostile_jobs(canary: Path) -> st.SearchStrategy[HostileJob]:
    h = hostile(canary)
    return st.builds(
        HostileJob,
        name=h.map(lambda s: s.replace("\n", " ")),  # an #SBATCH line is one line
        comment=h,
        # a directory name holds neither "/" nor NUL; Slurm refuses a newline in --chdir
        dirname=h.map(lambda s: s.replace("/", "_").replace("\n", "_")),
        env_value=h,
        arg=h,
        array=h,
        dependency=h.map(lambda s: "afterok:" + s),
    )


def own_script(canary: Path, token: str) -> str:
    """The job's own script: it records what it was given in its own canary file."""
    return (
        "#!/bin/bash\n"
        "#SBATCH --job-name={name}\n"
        f'printf \'%s\\0\' "$HOSTILE" "$PWD" "$@" > {shlex.quote(str(canary))}/own-{token}\n'
    )


def directive_quote(value: str) -> str:
    """A value as one word of an ``#SBATCH`` line, the way sbatch reads it:
    double quotes, with backslash escaping ``"`` and ``\\`` (sbatch knows no
    single quotes in directives)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def spec_for(job: HostileJob, root: Path, canary: Path, token: str) -> JobSpec:
    """The job as ``cnet sbatch`` would build it, through the real option parser."""
    workdir = root / f"w{token}" / job.dirname
    workdir.mkdir(parents=True)
    script = own_script(canary, token).replace("{name}", directive_quote(job.name))
    spec, _ = parse_submit(
        ["--comment", job.comment, "--chdir", str(workdir), "--time=5"],
        script,
        cwd=str(root),
        args=[job.arg, "--flag"],
    )
    assert spec.name == job.name  # the #SBATCH line reached the parser intact
    return replace(spec, environment={"HOSTILE": job.env_value})


def check_refused(job: HostileJob) -> None:
    """A hostile array or dependency string is a clear error at parse time."""
    for option in (f"--array={job.array}", f"--dependency={job.dependency}"):
        with pytest.raises(SpecError) as err:
            parse_submit([option, "--wrap", "true"], None)
        assert "Traceback" not in str(err.value)


async def run_jobs(adapter: ClusterAdapter, specs: dict[str, JobSpec]) -> None:
    ids = {}
    for token, spec in specs.items():
        tag = f"inj-{token}.1"
        req = AttemptRequest(tag=tag, job_id=tag, attempt=1, spec=spec, partition=None, owner="it")
        ids[token] = await adapter.submit(req)
    deadline = time.monotonic() + 90
    while True:
        got = await adapter.status(list(ids.values()))
        states = {t: got[n].state for t, n in ids.items() if n in got}
        if len(states) == len(ids) and all(s.terminal for s in states.values()):
            break
        assert time.monotonic() < deadline, f"jobs did not end: {states}"
        await asyncio.sleep(0.3)
    assert all(s is JobState.COMPLETED for s in states.values()), states


def check_canary(canary: Path, jobs: dict[str, tuple[HostileJob, JobSpec]]) -> None:
    found = sorted(p.name for p in canary.iterdir())
    assert found == sorted(f"own-{t}" for t in jobs), f"something else ran: {found}"
    for token, (job, spec) in jobs.items():
        fields = (canary / f"own-{token}").read_bytes().split(b"\0")[:-1]
        want = [job.env_value, spec.workdir, job.arg, "--flag"]
        assert [f.decode() for f in fields] == want


@dataclass
class Target:
    kind: str
    root: Path
    make: object  # () -> ClusterAdapter, fresh per example (SSH connections bind to a loop)


@pytest.fixture(params=["embedded", "slurm-local", "slurm-ssh"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    root = tmp_path_factory.mktemp("inj")
    root.chmod(0o755)
    kind: str = request.param
    if kind == "embedded":
        from computenet.clusters.embedded import EmbeddedCluster

        config = ClusterConfig(
            name="emb",
            kind="embedded",
            partitions=[PartitionConfig(name="compute", nodes=1, cores=2, default=True)],
        )
        state = root / "state"

        def make() -> ClusterAdapter:
            return EmbeddedCluster(config, state / uuid.uuid4().hex[:8])

        yield Target(kind, root, make)
        return
    from computenet.clusters.slurm import SlurmCluster

    dev: SlurmDev = request.getfixturevalue("slurm_dev")
    if kind == "slurm-local":
        local = ClusterConfig(name=dev.name, kind="slurm", slurm_conf=dev.slurm_conf)
        yield Target(kind, root, lambda: SlurmCluster(local, command_timeout_s=30))
        return
    login: SshLogin = request.getfixturevalue("ssh_login")
    remote = ClusterConfig(
        name=dev.name,
        kind="slurm",
        ssh=login.target,
        ssh_key=login.key_path,
        ssh_known_hosts=login.known_hosts,
        slurm_conf=dev.slurm_conf,
    )
    yield Target(kind, root, lambda: SlurmCluster(remote, command_timeout_s=30))


def test_hostile_values_run_nothing_but_the_jobs_own_script(target: Target) -> None:
    canary_root = target.root / "canaries"
    canary_root.mkdir()
    # a per-example canary directory, so one example's files never count for another
    canary = canary_root / "c"

    @settings(
        max_examples=25 if target.kind == "embedded" else 3,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],  # each example runs real jobs: report, do not shrink
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(hostile_jobs(canary), min_size=4, max_size=4))
    def example(batch: list[HostileJob]) -> None:
        if canary.exists():
            for leftover in canary.iterdir():
                leftover.unlink()
        canary.mkdir(exist_ok=True)
        jobs = {}
        for job in batch:
            check_refused(job)
            token = f"{next(_n)}"
            jobs[token] = (job, spec_for(job, target.root, canary, token))

        async def go() -> None:
            adapter = target.make()  # type: ignore[operator]
            await adapter.start()
            try:
                await run_jobs(adapter, {t: s for t, (_, s) in jobs.items()})
            finally:
                await adapter.close()

        asyncio.run(go())
        check_canary(canary, jobs)

    example()
