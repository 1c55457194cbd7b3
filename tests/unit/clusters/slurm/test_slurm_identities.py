"""SlurmCluster submits, cancels and reads output as the project's identity."""

from __future__ import annotations

import pytest

from computenet.clusters.slurm import SlurmCluster
from computenet.clusters.slurm import identities as idmod
from computenet.clusters.slurm.ssh_transport import SshTransport
from computenet.clusters.transport import CompletedCommand, FakeTransport, LocalTransport
from computenet.config import ClusterConfig
from computenet.errors import ClusterError
from computenet.model import AttemptRequest, JobSpec
from computenet.model.tenancy import ClusterIdentity

CHEM = ClusterIdentity(cluster="c1", project="chem", user="chem01", ssh_key="/keys/chem01")
SCONTROL = (
    b"JobId=77 JobName=j UserId=chem01(1001) JobState=RUNNING Reason=None ExitCode=0:0 "
    b"StdOut=/home/chem01/slurm-77.out StdErr=/home/chem01/slurm-77.out NumNodes=1 NumCPUs=1\n"
)


def _request(project: str, identity: ClusterIdentity | None) -> AttemptRequest:
    return AttemptRequest(
        tag="job-1.1",
        job_id="1",
        attempt=1,
        partition=None,
        owner="alice",
        spec=JobSpec(command="id -un"),
        identity=identity,
        project=project,
    )


def test_an_ssh_cluster_logs_in_as_the_identity_with_its_key() -> None:
    config = ClusterConfig(
        name="c1", kind="slurm", ssh="svc@login.example:2222", ssh_key="/keys/svc"
    )
    ids = idmod.IdentityTransports(config, FakeTransport())
    made = ids._make(CHEM)
    assert isinstance(made, SshTransport)
    assert (made.target.user, made.target.host, made.target.port) == (
        "chem01",
        "login.example",
        2222,
    )
    assert made.key_path == "/keys/chem01"
    keyless = ids._make(ClusterIdentity(cluster="c1", project="bio", user="bio01"))
    assert isinstance(keyless, SshTransport) and keyless.key_path == "/keys/svc"
    key_only = ids._make(ClusterIdentity(cluster="c1", project="x", ssh_key="/keys/x"))
    assert isinstance(key_only, SshTransport) and key_only.target.user == "svc"


def test_a_local_cluster_needs_root_to_submit_as_another_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = ClusterConfig(name="c1", kind="slurm", slurm_conf="/etc/slurm/slurm.conf")
    ids = idmod.IdentityTransports(config, FakeTransport())
    monkeypatch.setattr(idmod.os, "geteuid", lambda: 1234)
    monkeypatch.setattr(idmod, "server_account", lambda: "svc")
    with pytest.raises(ClusterError) as err:
        ids.for_submission("chem", ClusterIdentity(cluster="c1", project="chem", user="chem01"))
    assert "needs the computenet server to run as root (it runs as svc)" in err.value.message
    own = ClusterIdentity(cluster="c1", project="ops", user="svc")
    assert ids.for_submission("ops", own) is ids.default  # its own account: no switch
    monkeypatch.setattr(idmod.os, "geteuid", lambda: 0)
    root_made = ids.for_submission(
        "chem", ClusterIdentity(cluster="c1", project="chem", user="root")
    )
    assert isinstance(root_made, LocalTransport) and root_made.user == "root"


async def test_submit_cancel_and_output_go_through_the_identitys_transport() -> None:
    default = FakeTransport(outputs={"scontrol": SCONTROL, "squeue": b'{"jobs": []}'})
    chem = FakeTransport(
        outputs={"sbatch": b"77\n", "scancel": b""},
        files={"/home/chem01/slurm-77.out": b"chem01\n"},
    )
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm", ssh="svc@login"), default)
    sc.use_identities([CHEM])
    sc.identities._made[("chem01", "/keys/chem01")] = chem
    assert await sc.submit(_request("chem", CHEM)) == "77"
    assert "sbatch" in chem.programs() and "sbatch" not in default.programs()
    with pytest.raises(ClusterError) as err:  # a gated cluster: no identity, no submission
        await sc.submit(_request("bio", None))
    assert "project bio has no identity at cluster c1" in err.value.message
    await sc.cancel("77")
    assert chem.programs()[-1] == "scancel" and "scancel" not in default.programs()
    assert await sc.output("77") == b"chem01\n"


async def test_without_identities_the_clusters_own_account_does_everything() -> None:
    default = FakeTransport(
        outputs={
            "sbatch": b"5\n",
            "scancel": b"",
            "scontrol": CompletedCommand(0, SCONTROL.replace(b"77", b"5"), b""),
        }
    )
    sc = SlurmCluster(ClusterConfig(name="c1", kind="slurm"), default)
    assert await sc.submit(_request("chem", None)) == "5"
    await sc.cancel("5")
    assert default.programs() == ["sbatch", "scancel"]
