"""The network over real Slurm clusters and a real server: placement across
two Slurm clusters and an embedded one, failover when a slurmctld stops,
and a cluster reached over SSH added with ``cnet clusters add``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.network.health import HealthPolicy

from .conftest import SlurmPair, SshLogin

pytestmark = pytest.mark.integration

TOKEN = "cn_network_it_token"
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"}


def start_server(
    tmp_path: Path, make_live_server: Callable[[Any], Any], clusters: list[ClusterConfig]
) -> Any:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=clusters,
        token=TOKEN,
        user="admin",
        controller_interval_s=0.2,
    )
    server = make_live_server(settings)
    # The clusters outlive each test's database, and attempt tags are made of
    # job ids: start every test's ids apart so find(tag) never sees another's.
    from sqlalchemy import delete, update

    from computenet.model import JobSpec, JobState
    from computenet.store import jobs as repo
    from computenet.store.tables import JobEventRow, JobRow

    with server.runtime.store.session() as s:
        new = repo.NewJob(JobSpec(name="id-offset"), "admin", "default", JobState.CANCELLED)
        (row,) = repo.create_jobs(s, [new], time.time())
        s.execute(delete(JobEventRow).where(JobEventRow.job_id == row.id))
        s.execute(
            update(JobRow)
            .where(JobRow.id == row.id)
            .values(id=int(time.time() * 1000) % 10**9)
            .execution_options(synchronize_session=False)
        )
    server.runtime.controller.clusters.policy = HealthPolicy(base_s=1.0, max_s=3.0)
    with server.client(TOKEN) as client:

        def described() -> bool:
            return all(c["partitions"] for c in client.clusters())

        wait_until(described, 60, "every cluster to describe itself")
    return server


def slurm(name: str, pair: SlurmPair, price: float) -> ClusterConfig:
    return ClusterConfig(
        name=name, kind="slurm", slurm_conf=pair.confs[name], price_per_core_hour=price
    )


def submit(client: Client, workdir: Path, *options: str) -> int:
    job = client.submit(script=None, options=list(options), cwd=str(workdir), env={})
    return int(job["id"])


def wait_until(check: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {check.__doc__}"
        time.sleep(0.3)


def slurm_state(conf: str, native: str) -> str:
    out = subprocess.run(
        ["scontrol", "show", "job", "-o", native],
        env=dict(os.environ, SLURM_CONF=conf),
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    for word in out.split():
        if word.startswith("JobState="):
            return word.split("=", 1)[1]
    return "?"


def test_jobs_spread_over_two_slurm_clusters_and_an_embedded_one(
    slurm_pair: SlurmPair, tmp_path: Path, make_live_server: Callable[[Any], Any]
) -> None:
    emb = ClusterConfig(
        name="emb",
        kind="embedded",
        partitions=[
            PartitionConfig(
                name="compute", nodes=1, cores=2, default=True, price_per_core_hour=0.05
            )
        ],
    )
    clusters = [slurm("nw1", slurm_pair, 0.1), slurm("nw2", slurm_pair, 0.001), emb]
    server = start_server(tmp_path, make_live_server, clusters)
    with server.client(TOKEN) as client:
        ids = [
            submit(client, tmp_path, "--wrap", "sleep 4", "-c", "2", "-t", "1") for _ in range(15)
        ]
        jobs = [client.wait(i, timeout_s=120) for i in ids]
        assert [j["state"] for j in jobs] == ["COMPLETED"] * len(ids)
        used = {j["cluster"] for j in jobs}
        assert used == {"nw1", "nw2", "emb"}, used
        for j in jobs:
            attempt = j["attempts"][-1]
            assert attempt["native_id"] and attempt["predicted_start"] is not None
        rows = {c["name"]: c for c in client.clusters()}
        assert all(rows[n]["health"] == "UP" for n in ("nw1", "nw2", "emb"))
        assert rows["nw1"]["cpus_total"] == 12


def test_stopped_slurmctld_moves_queued_jobs_and_cancels_them_there_on_return(
    slurm_pair: SlurmPair, tmp_path: Path, make_live_server: Callable[[Any], Any]
) -> None:
    clusters = [slurm("nw1", slurm_pair, 0.1), slurm("nw2", slurm_pair, 0.001)]
    server = start_server(tmp_path, make_live_server, clusters)
    conf2 = slurm_pair.confs["nw2"]
    with server.client(TOKEN) as client:
        blocker = submit(
            client, tmp_path, "--wrap", "sleep 600", "-M", "nw2", "-N", "3", "-n", "12", "-t", "20"
        )
        state = {}

        def blocker_runs() -> bool:
            state.update(client.job(blocker))
            return state["state"] == "RUNNING"

        try:
            wait_until(blocker_runs, 60, "the blocker to run")
        except AssertionError:
            raise AssertionError(f"blocker: {state}") from None
        opts = ["--wrap", "sleep 2", "-c", "2", "-t", "1", "--policy=cheapest", "-M", "nw1,nw2"]
        queued = [submit(client, tmp_path, *opts) for _ in range(2)]

        def queued_on_nw2() -> bool:
            jobs = [client.job(i) for i in queued]
            return all(j["state"] == "QUEUED" and j["cluster"] == "nw2" for j in jobs)

        wait_until(queued_on_nw2, 60, "both jobs queued on nw2 behind the blocker")
        old = {i: client.job(i)["attempts"][0]["native_id"] for i in queued}
        slurm_pair.stop_slurmctld("nw2")
        try:
            done = [client.wait(i, timeout_s=120) for i in queued]
            assert [(j["state"], j["cluster"]) for j in done] == [("COMPLETED", "nw1")] * 2
            for j in done:
                first, second = j["attempts"][:2]
                assert first["cluster"] == "nw2" and second["cluster"] == "nw1", j
                assert (second["reason"] or "").startswith("REQUEUED_FAILOVER: cluster nw2"), j
                reasons = [e["reason"] or "" for e in client.events(j["id"])]
                assert any(r.startswith("REQUEUED_FAILOVER: cluster nw2 down") for r in reasons)
            health = {c["name"]: c for c in client.clusters()}["nw2"]
            assert health["health"] == "DOWN" and health["reason"]
        finally:
            slurm_pair.start_slurmctld("nw2")

        def old_copies_cancelled() -> bool:
            return all(client.job(i)["attempts"][0]["state"] == "CANCELLED" for i in queued)

        try:
            wait_until(old_copies_cancelled, 90, "the old copies to be cancelled on nw2")
            for native in old.values():
                assert slurm_state(conf2, native) == "CANCELLED"
            assert client.job(blocker)["state"] == "RUNNING", "the running job was left alone"
        finally:
            client.cancel(blocker)
        assert client.wait(blocker, timeout_s=60)["state"] == "CANCELLED"


def test_cluster_over_ssh_added_with_the_cli_runs_jobs(
    slurm_pair: SlurmPair,
    ssh_login: SshLogin,
    tmp_path: Path,
    make_live_server: Callable[[Any], Any],
) -> None:
    server = start_server(tmp_path, make_live_server, [slurm("nw1", slurm_pair, 0.1)])
    env = dict(os.environ, CN_SERVER_URL=server.url, CN_TOKEN=TOKEN)

    def cnet(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "computenet.cli.main", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    added = cnet(
        "clusters", "add", "remote", "--kind", "slurm", "--ssh", ssh_login.target,
        "--key", ssh_login.key_path, "--known-hosts", ssh_login.known_hosts,
        "--slurm-conf", slurm_pair.confs["nw1"], "--site", "remote-site",
        "--price-per-core-hour", "0.001",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert "added cluster remote (slurm), UP" in added.stdout
    listed = cnet("clusters")
    assert listed.returncode == 0 and "remote" in listed.stdout
    with server.client(TOKEN) as client:
        row = {c["name"]: c for c in client.clusters()}["remote"]
        assert (row["health"], row["source"], row["site"]) == ("UP", "api", "remote-site")
        assert row["where"] == f"ssh {ssh_login.target}"
        job_id = submit(client, tmp_path, "--wrap", "echo over-ssh", "-M", "remote", "-t", "1")
        job = client.wait(job_id, timeout_s=90)
        assert (job["state"], job["cluster"]) == ("COMPLETED", "remote")
    bad = cnet("clusters", "add", "bad name", "--kind", "slurm", "--slurm-conf", "/x")
    assert bad.returncode == 2 and bad.stderr.startswith("cnet: error: bad cluster name")
    gone = cnet("clusters", "rm", "remote")
    assert gone.returncode == 0 and "removed cluster remote" in gone.stdout
