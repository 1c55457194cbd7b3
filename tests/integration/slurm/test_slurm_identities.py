"""Projects mapped to Unix accounts at real Slurm clusters, end to end.

Three throwaway accounts are made with ``useradd`` (and removed after): the
network's own login ``svc`` and one account per project. An sshd lets each
log in only with its own key. Jobs of project chem must run as chem's
account and of phys as phys's; a project with no identity is not placed; a
job is cancelled and its output read as its own account (the network's
login could do neither: the work directories are private to their owner).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, IdentityConfig, Settings
from computenet.core.runtime import Runtime
from computenet.errors import InfeasibleError
from tests.support.live import TOKEN, LiveServer
from tests.support.sshd import SshLogin, running_sshd

from .conftest import SlurmDev

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Account:
    name: str
    key: str
    workdir: Path


@dataclass(frozen=True)
class Accounts:
    svc: Account
    chem: Account
    phys: Account
    login: SshLogin


@pytest.fixture(scope="module")
def accounts() -> Iterator[Accounts]:
    if os.geteuid() != 0:
        pytest.skip("making Unix accounts needs root")
    tag = uuid.uuid4().hex[:6]
    root = Path(tempfile.mkdtemp(prefix="cn-it-ids-"))
    os.chmod(root, 0o711)
    made: list[str] = []
    try:
        with running_sshd(root / "sshd", per_user_keys=True) as login:
            found = {}
            for role in ("svc", "chem", "phys"):
                name = f"cn{role}{tag}"
                subprocess.run(["useradd", "-m", "-s", "/bin/bash", name], check=True)
                made.append(name)
                subprocess.run(["usermod", "-p", "*", name], check=True)  # not locked, no password
                key = root / f"{name}_key"
                subprocess.run(
                    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
                )
                authorized = root / "sshd" / "authorized" / name
                shutil.copy(f"{key}.pub", authorized)
                os.chmod(authorized, 0o644)
                work = root / f"work-{role}"
                work.mkdir()
                uid = pwd.getpwnam(name)
                os.chown(work, uid.pw_uid, uid.pw_gid)
                os.chmod(work, 0o700)  # nobody else, not the network's login, reads it
                found[role] = Account(name, str(key), work)
            yield Accounts(found["svc"], found["chem"], found["phys"], login)
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", "-f", name], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _server(tmp_path: Path, cluster: ClusterConfig) -> LiveServer:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=[cluster],
        token=TOKEN,
        user="admin",
        controller_interval_s=0.1,
        auth_cache_ttl_s=0.5,
    )
    return LiveServer(Runtime(settings))


def _wait(client: Client, job_id: int, states: tuple[str, ...], timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job["state"] in states:
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {client.job(job_id)['state']} after {timeout_s} s")


def _logs(client: Client, job_id: int, timeout_s: float = 20) -> str:
    deadline = time.monotonic() + timeout_s
    text = ""
    while time.monotonic() < deadline:
        text = client.logs(job_id)["data"]
        if text:
            return str(text)
        time.sleep(0.3)
    return text


def _people(server: LiveServer) -> dict[str, Client]:
    admin = server.client(TOKEN)
    out = {"admin": admin}
    for user, project in (("alice", "chem"), ("bob", "phys"), ("eve", "bio")):
        out[user] = server.client(admin.add_user(user, project=project)["token"])
    return out


def test_projects_run_as_their_own_accounts_over_ssh(
    accounts: Accounts, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    port = accounts.login.port
    cluster = ClusterConfig(
        name=slurm_dev.name,
        kind="slurm",
        ssh=f"{accounts.svc.name}@127.0.0.1:{port}",
        ssh_key=accounts.svc.key,
        ssh_known_hosts=accounts.login.known_hosts,
        slurm_conf=slurm_dev.slurm_conf,
        identities={"chem": IdentityConfig(user=accounts.chem.name, ssh_key=accounts.chem.key)},
    )
    server = _server(tmp_path, cluster)
    try:
        p = _people(server)
        # phys's identity comes from the API, chem's from the configuration file
        p["admin"].set_identity(
            "phys", slurm_dev.name, user=accounts.phys.name, ssh_key=accounts.phys.key
        )
        time.sleep(0.6)  # the controller reads identities through its cache
        script = "#!/bin/bash\nid -un\n"
        a = p["alice"].submit(script=script, options=["--time=2"], cwd=str(accounts.chem.workdir))
        b = p["bob"].submit(script=script, options=["--time=2"], cwd=str(accounts.phys.workdir))
        with pytest.raises(InfeasibleError) as err:
            p["eve"].submit(script=script, options=["--time=2"], cwd="/tmp")
        assert f"project bio has no identity at cluster {slurm_dev.name}" in err.value.message
        for client, job, account in ((p["alice"], a, accounts.chem), (p["bob"], b, accounts.phys)):
            done = _wait(client, job["id"], ("COMPLETED", "FAILED", "CANCELLED"))
            assert done["state"] == "COMPLETED", done
            assert _logs(client, job["id"]) == account.name + "\n"  # read as that account
        # a running job is cancelled as its own account (svc may not scancel it)
        long = p["bob"].submit(
            options=["--time=5", "--wrap", "sleep 300"], cwd=str(accounts.phys.workdir)
        )
        _wait(p["bob"], long["id"], ("RUNNING",))
        p["bob"].cancel(long["id"])
        assert (
            _wait(p["bob"], long["id"], ("CANCELLED", "FAILED", "COMPLETED"))["state"]
            == "CANCELLED"
        )
        owners = subprocess.run(
            ["sacct", "-n", "-X", "-P", "-o", "User", "-S", "now-1hour"],
            env={**os.environ, "SLURM_CONF": slurm_dev.slurm_conf},
            capture_output=True,
            text=True,
            check=False,
        )
        if owners.returncode == 0 and owners.stdout.strip():  # with accounting on
            assert set(owners.stdout.split()) >= {accounts.chem.name, accounts.phys.name}
    finally:
        server.stop()


def test_a_local_cluster_runs_sbatch_as_the_projects_account(
    accounts: Accounts, slurm_dev: SlurmDev, tmp_path: Path
) -> None:
    cluster = ClusterConfig(
        name=slurm_dev.name,
        kind="slurm",
        slurm_conf=slurm_dev.slurm_conf,
        identities={"chem": IdentityConfig(user=accounts.chem.name)},
    )
    server = _server(tmp_path, cluster)
    try:
        p = _people(server)
        job = p["alice"].submit(
            options=["--time=2", "--wrap", "id -un; cat /etc/shadow"],
            cwd=str(accounts.chem.workdir),
        )
        done = _wait(p["alice"], job["id"], ("COMPLETED", "FAILED", "CANCELLED"))
        assert done["state"] == "FAILED"  # cat: /etc/shadow: Permission denied
        out = _logs(p["alice"], job["id"])
        assert out.startswith(accounts.chem.name + "\n") and "Permission denied" in out
        assert "root:" not in out
        with pytest.raises(InfeasibleError):
            p["bob"].submit(options=["--time=2", "--wrap", "true"], cwd="/tmp")
    finally:
        server.stop()
