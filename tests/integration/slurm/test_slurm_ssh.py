"""SlurmCluster through a real sshd login node, and the faults a user would meet."""

from __future__ import annotations

import signal
import time
import uuid
from pathlib import Path

import anyio
import psutil
import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.clusters.slurm.ssh_transport import SshTransport
from computenet.config import ClusterConfig
from computenet.errors import ClusterError, ClusterUnavailable
from computenet.model import AttemptRequest, AttemptStatus, JobSpec, JobState

from .conftest import SlurmDev, SshLogin

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def _transport(login: SshLogin, dev: SlurmDev, **kw: object) -> SshTransport:
    return SshTransport(
        login.target,
        key_path=login.key_path,
        known_hosts=login.known_hosts,
        base_env={"SLURM_CONF": dev.slurm_conf},
        backoff_s=0.2,
        **kw,
    )  # type: ignore[arg-type]


def _cluster(login: SshLogin, dev: SlurmDev) -> SlurmCluster:
    config = ClusterConfig(
        name=dev.name,
        kind="slurm",
        ssh=login.target,
        ssh_key=login.key_path,
        ssh_known_hosts=login.known_hosts,
        slurm_conf=dev.slurm_conf,
    )
    return SlurmCluster(config, command_timeout_s=30)


def _request(workdir: Path, command: str | None = None, **spec: object) -> AttemptRequest:
    tag = f"job-{uuid.uuid4().hex[:10]}.1"
    return AttemptRequest(
        tag=tag,
        job_id=tag,
        attempt=1,
        partition=None,
        owner="it",
        spec=JobSpec(command=command, workdir=str(workdir), **spec),
    )  # type: ignore[arg-type]


async def _wait_done(sc: SlurmCluster, nid: str, timeout_s: float = 60) -> AttemptStatus:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        st = (await sc.status([nid])).get(nid)
        if st is not None and st.state.terminal:
            return st
        await anyio.sleep(0.3)
    raise AssertionError(f"job {nid} did not end within {timeout_s} s")


def _kill_ssh_sessions(login: SshLogin) -> int:
    """End every connection's sshd process (children of the sshd we started)."""
    children = psutil.Process(login.sshd_pid).children()
    for child in children:
        child.send_signal(signal.SIGKILL)
    return len(children)


async def test_submit_status_output_over_ssh(
    ssh_login: SshLogin, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    sc = _cluster(ssh_login, slurm_dev)
    try:
        nid = await sc.submit(_request(tmp_path, "echo over-ssh; exit 4"))
        st = await _wait_done(sc, nid)
        assert (st.state, st.exit_code) == (JobState.FAILED, "4:0")
        assert await sc.output(nid) == b"over-ssh\n"  # read back through SFTP
    finally:
        await sc.close()


async def test_awkward_names_paths_env_and_args_pass_unmangled(
    ssh_login: SshLogin, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    awkward = "a 'b' \"c\" $(touch /tmp/pwned) `id` ; & | \\ x\nline2"
    workdir = tmp_path / "dir with 'quotes' $(x) and spaces"
    workdir.mkdir()
    script = '#!/bin/bash\nprintf "%s\\n" "$SLURM_JOB_NAME" "$AWK" "$PWD" "$@"\n'
    req = _request(
        workdir, script=script, name=awkward, environment={"AWK": awkward}, args=(awkward, "--flag")
    )
    sc = _cluster(ssh_login, slurm_dev)
    try:
        nid = await sc.submit(req)
        assert (await _wait_done(sc, nid)).state is JobState.COMPLETED
        out = (await sc.output(nid)).decode()
    finally:
        await sc.close()
    assert out == "\n".join([awkward, awkward, str(workdir), awkward, "--flag"]) + "\n"
    assert not Path("/tmp/pwned").exists()


async def test_connection_killed_between_commands_reconnects(
    ssh_login: SshLogin, slurm_dev: SlurmDev
) -> None:
    transport = _transport(ssh_login, slurm_dev)
    try:
        first = await transport.run(["sinfo", "-h", "-o", "%P"])
        assert first.returncode == 0 and b"debug" in first.stdout
        assert _kill_ssh_sessions(ssh_login) >= 1
        again = await transport.run(["sinfo", "-h", "-o", "%P"])
        assert again.returncode == 0 and b"debug" in again.stdout
        assert transport.connects == 2
    finally:
        await transport.close()


async def test_connection_killed_mid_command(ssh_login: SshLogin, slurm_dev: SlurmDev) -> None:
    transport = _transport(ssh_login, slurm_dev)
    try:
        await transport.run(["true"])
        async with anyio.create_task_group() as tg:

            async def killer() -> None:
                await anyio.sleep(0.7)
                _kill_ssh_sessions(ssh_login)

            tg.start_soon(killer)
            # Idempotent: the transport reconnects and runs it again.
            done = await transport.run(["sh", "-c", "sleep 1.5; echo done"])
        assert done.stdout == b"done\n" and transport.connects >= 2
        async with anyio.create_task_group() as tg:
            tg.start_soon(killer)
            # Not idempotent (sbatch): the caller must be told, not retried blindly.
            with pytest.raises(ClusterUnavailable, match="may or may not have run"):
                await transport.run(["sh", "-c", "sleep 1.5"], idempotent=False)
    finally:
        await transport.close()


async def test_untrusted_host_key_is_refused(
    ssh_login: SshLogin, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    other = tmp_path / "known_hosts"
    port = ssh_login.target.rsplit(":", 1)[1]
    other.write_text(
        f"[127.0.0.1]:{port} ssh-ed25519 "
        "AAAAC3NzaC1lZDI1NTE5AAAAIGr1kT3kG2VQ8n0aZb3j3m3bQ0fP3xvXo3m1Jp1k2Q7a\n"
    )
    transport = SshTransport(
        ssh_login.target, key_path=ssh_login.key_path, known_hosts=str(other), retries=0
    )
    with pytest.raises(ClusterError, match="host key") as info:
        await transport.run(["true"])
    assert not info.value.transient


async def test_sbatch_refusals_show_slurms_reason(slurm_dev: SlurmDev, tmp_path: Path) -> None:
    sc = SlurmCluster(
        ClusterConfig(name=slurm_dev.name, kind="slurm", slurm_conf=slurm_dev.slurm_conf)
    )
    with pytest.raises(ClusterError, match="Invalid partition name specified") as info:
        await sc.submit(_request(tmp_path, "true", sbatch_args=("--partition=nope",)))
    assert not info.value.transient
    with pytest.raises(ClusterError, match="More processors requested than permitted"):
        await sc.submit(_request(tmp_path, "true", sbatch_args=("--ntasks=64",)))


@pytest.mark.slow
async def test_slurmctld_stopped_then_restarted(slurm_dev: SlurmDev, tmp_path: Path) -> None:
    sc = SlurmCluster(
        ClusterConfig(name=slurm_dev.name, kind="slurm", slurm_conf=slurm_dev.slurm_conf)
    )
    nid = await sc.submit(_request(tmp_path, "sleep 2"))
    slurm_dev.stop_slurmctld()
    try:
        with pytest.raises(ClusterUnavailable) as info:
            await sc.status([nid])
        assert info.value.transient
        with pytest.raises(ClusterUnavailable):
            await sc.submit(_request(tmp_path, "true"))
    finally:
        slurm_dev.restart()
    st = await _wait_done(sc, nid)
    assert st.state is JobState.COMPLETED  # the job survived the controller's restart
