"""An SSH login node that drops connections, answers slowly or shows another
host key, in front of real Slurm (a real sshd, a small TCP proxy on loopback).

- dropped connections: retried with backoff, then a transient error;
- a slow or cut sbatch: not retried blindly; the controller asks the cluster
  for the attempt's tag on its next pass and adopts the job: one sbatch;
- a changed host key: refused at once, not retried, and the error says so.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import asyncssh
import pytest

from computenet.clusters.slurm.adapter import SlurmCluster
from computenet.clusters.slurm.ssh_transport import SshTransport
from computenet.config import ClusterConfig, Settings
from computenet.core.runtime import Runtime
from computenet.errors import ClusterError, ClusterUnavailable
from computenet.model import JobSpec
from computenet.store import jobs as repo
from tests.support.sshd import SshLogin
from tests.support.tcp_proxy import TcpProxy

from .conftest import SlurmDev

pytestmark = pytest.mark.integration


def _through(
    proxy: TcpProxy, login: SshLogin, dev: SlurmDev, where: Path, **kw: object
) -> SshTransport:
    return SshTransport(
        f"root@127.0.0.1:{proxy.port}",
        key_path=login.key_path,
        known_hosts=_known_hosts_for(login, proxy.port, where),
        base_env={"SLURM_CONF": dev.slurm_conf, **kw.pop("env", {})},  # type: ignore[dict-item]
        **kw,  # type: ignore[arg-type]
    )


def _known_hosts_for(login: SshLogin, port: int, where: Path) -> str:
    """The login node's real key, listed under the proxy's port."""
    lines = Path(login.known_hosts).read_text().splitlines()
    key = lines[0].split(" ", 1)[1]
    path = where / f"known_hosts.{port}"
    path.write_text(f"[127.0.0.1]:{port} {key}\n")
    return str(path)


async def test_dropped_connections_are_retried_with_backoff_then_reported(
    ssh_login: SshLogin, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    async with TcpProxy(ssh_login.port) as proxy:
        transport = _through(proxy, ssh_login, slurm_dev, tmp_path, retries=3, backoff_s=0.2)
        try:
            proxy.mode = "drop"
            began = time.monotonic()
            with pytest.raises(ClusterUnavailable, match="cannot connect after 4 tries") as err:
                await transport.run(["sinfo", "-h", "-o", "%P"])
            waited = time.monotonic() - began
            assert err.value.transient
            assert proxy.accepted == 4
            assert waited >= 0.2 + 0.4 + 0.8  # backoff between tries
            proxy.mode = "pass"
            done = await transport.run(["sinfo", "-h", "-o", "%P"])
            assert done.returncode == 0 and b"debug" in done.stdout
            assert transport.connects == 1
        finally:
            await transport.close()


def _slow_sbatch(root: Path, flag: Path, calls: Path) -> Path:
    """A login node whose sbatch is slow to answer once Slurm has taken the
    job (while ``flag`` exists); every real sbatch call leaves a line in ``calls``."""
    bindir = root / "slow-bin"
    bindir.mkdir(exist_ok=True)
    wrapper = bindir / "sbatch"
    wrapper.write_text(
        "#!/bin/sh\n"
        f'echo call >> {calls}\n/usr/bin/sbatch "$@"\nrc=$?\n'
        f"[ -e {flag} ] && sleep 6\nexit $rc\n"
    )
    wrapper.chmod(0o755)
    return bindir


def _jobs_tagged(dev: SlurmDev, tag: str) -> list[str]:
    out = subprocess.run(
        ["squeue", "-h", "-t", "all", "-o", "%i %k"],
        env=dict(os.environ, SLURM_CONF=dev.slurm_conf),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    return [line.split()[0] for line in out.splitlines() if tag in line]


@pytest.mark.parametrize("fault", ["slow answer", "connection cut"])
async def test_sbatch_lost_to_the_login_node_is_found_by_its_tag_not_resubmitted(
    ssh_login: SshLogin, slurm_dev: SlurmDev, tmp_path: Path, fault: str
) -> None:
    flag, calls = tmp_path / "slow", tmp_path / "sbatch-calls"
    bindir = _slow_sbatch(tmp_path, flag, calls)
    async with TcpProxy(ssh_login.port) as proxy:
        transport = _through(
            proxy,
            ssh_login,
            slurm_dev,
            tmp_path,
            env={"PATH": f"{bindir}:/usr/bin:/bin"},
            retries=2,
            backoff_s=0.2,
        )
        config = ClusterConfig(
            name=slurm_dev.name,
            kind="slurm",
            ssh=f"root@127.0.0.1:{proxy.port}",
            slurm_conf=slurm_dev.slurm_conf,
        )
        timeout_s = 3.0 if fault == "slow answer" else 30.0
        cluster = SlurmCluster(config, transport, command_timeout_s=timeout_s)
        settings = Settings(
            data_dir=tmp_path / "d", state_dir=tmp_path / "s", clusters=[config], token="t"
        )
        rt = Runtime(settings, adapters={config.name: cluster})
        try:
            await rt.controller.clusters.refresh()
            with rt.store.session() as s:
                spec = JobSpec(name="ssh-fault", command="sleep 1", workdir=str(tmp_path))
                (row,) = repo.create_jobs(s, [repo.NewJob(spec, "alice", "p")], time.time())
            job_id = row.id
            tag = rt.controller.tag_for(job_id, 1)
            flag.touch()
            if fault == "connection cut":

                async def cut_during_sbatch() -> None:
                    while not calls.exists():
                        await asyncio.sleep(0.05)
                    await asyncio.sleep(1.0)  # sbatch has answered Slurm; the reply is due
                    proxy.cut()

                cutter = asyncio.create_task(cut_during_sbatch())
            await rt.controller.step()
            if fault == "connection cut":
                await cutter
            with rt.store.session() as s:
                job = repo.get_job(s, job_id)
                (attempt,) = repo.attempts(s, [job_id])[job_id]
            assert job.state == "PENDING" and attempt.native_id is None
            assert "ClusterUnavailable" in (job.reason or ""), job.reason
            assert len(_jobs_tagged(slurm_dev, tag)) == 1, "Slurm took it all the same"
            flag.unlink()
            deadline = time.monotonic() + 60
            state = "PENDING"
            while state not in ("COMPLETED", "FAILED") and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                await rt.controller.step()
                with rt.store.session() as s:
                    state = repo.get_job(s, job_id).state
            assert state == "COMPLETED"
            with rt.store.session() as s:
                (attempt,) = repo.attempts(s, [job_id])[job_id]
            assert _jobs_tagged(slurm_dev, tag) == [attempt.native_id]
            assert calls.read_text().count("call") == 1, "sbatch ran once"
        finally:
            await transport.close()
            rt.store.close()


async def test_changed_host_key_is_refused_at_once_and_the_error_says_so(
    ssh_login: SshLogin, tmp_path: Path
) -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{ssh_login.port} {other}\n")
    transport = SshTransport(
        ssh_login.target, key_path=ssh_login.key_path, known_hosts=str(known), retries=3
    )
    began = time.monotonic()
    with pytest.raises(ClusterError) as err:
        await transport.run(["true"])
    assert not err.value.transient
    assert "host key changed" in err.value.message and "connection refused" in err.value.message
    assert transport.connects == 0 and time.monotonic() - began < 5, "not retried"
    # A login node never seen before is told apart from a changed one.
    known.write_text("")
    with pytest.raises(ClusterError, match=r"host key not trusted: .* has no key for it"):
        await transport.run(["true"])
