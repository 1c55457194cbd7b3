"""The libcloud provider against libcloud's own recorded EC2 responses (its
MockHttp machinery, no network), and the credentials it reads."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from libcloud.compute.drivers.ec2 import EC2NodeDriver
from libcloud.test import MockHttp
from libcloud.test.file_fixtures import ComputeFileFixtures
from libcloud.utils.py3 import httplib

from computenet.clusters.pools import credentials
from computenet.clusters.pools.cloud import LibcloudNodes
from computenet.config import CloudConfig, PoolConfig
from computenet.errors import ClusterError, ConfigError

KEY, SECRET = "AKIAEXAMPLEKEY1234", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRET"
_AUTH_FAILURE = (
    '<?xml version="1.0"?><Response><Errors><Error><Code>AuthFailure</Code><Message>AWS was '
    "not able to validate the provided access credentials</Message></Error></Errors>"
    "<RequestID>0</RequestID></Response>"
)


class RecordedEc2(MockHttp):  # type: ignore[misc]
    """Answers from libcloud's recorded EC2 fixtures; remembers what was called."""

    fixtures = ComputeFileFixtures("ec2")
    calls: list[str] = []

    def _reply(self, action: str, fixture: str) -> tuple[int, str, dict[str, str], str]:
        RecordedEc2.calls.append(action)
        return httplib.OK, self.fixtures.load(fixture), {}, httplib.responses[httplib.OK]

    def _RunInstances(self, method: str, url: str, body: Any, headers: Any) -> Any:
        return self._reply("RunInstances", "run_instances.xml")

    def _DescribeInstances(self, method: str, url: str, body: Any, headers: Any) -> Any:
        return self._reply("DescribeInstances", "describe_instances.xml")

    def _TerminateInstances(self, method: str, url: str, body: Any, headers: Any) -> Any:
        return self._reply("TerminateInstances", "terminate_instances.xml")

    def _DescribeAddresses(self, method: str, url: str, body: Any, headers: Any) -> Any:
        return self._reply("DescribeAddresses", "describe_addresses_multi.xml")

    def _CreateTags(self, method: str, url: str, body: Any, headers: Any) -> Any:
        return self._reply("CreateTags", "create_tags.xml")

    def _badcreds_DescribeInstances(self, method: str, url: str, body: Any, headers: Any) -> Any:
        RecordedEc2.calls.append("DescribeInstances")
        return httplib.UNAUTHORIZED, _AUTH_FAILURE, {}, "Unauthorized"


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PoolConfig:
    monkeypatch.setattr(EC2NodeDriver.connectionCls, "conn_class", RecordedEc2)
    RecordedEc2.use_param = "Action"
    RecordedEc2.type = None
    RecordedEc2.calls = []
    creds = tmp_path / "aws"
    creds.write_text(f"# the pool's account\nkey = {KEY}\nsecret = {SECRET}\n")
    creds.chmod(0o600)
    return PoolConfig(
        name="aws",
        partition="cloud",
        max_nodes=2,
        provider="libcloud",
        # the recorded instance that carries a Name tag
        nodes="Test Server 2,burst-2",
        cloud=CloudConfig(
            driver="ec2",
            size="m1.small",
            image="ami-be3adfd7",
            credentials_file=str(creds),
            driver_options={"region": "us-east-1"},
        ),
    )


async def test_create_list_and_delete_go_through_the_driver(
    ec2: PoolConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    nodes = LibcloudNodes.from_config(ec2)
    (made,) = await nodes.create(["burst-2"])
    assert (made.name, made.state, made.provider_id) == ("burst-2", "booting", "i-2ba64342")
    listed = await nodes.list()
    # only the pool's own instance, by name; the recorded one is stopped: failed for a pool
    assert [(n.name, n.provider_id, n.state) for n in listed] == [
        ("Test Server 2", "i-8474834a", "failed")
    ]
    await nodes.delete(["Test Server 2", "not-there"])
    assert RecordedEc2.calls.count("TerminateInstances") == 1
    assert "RunInstances" in RecordedEc2.calls
    assert "***" in caplog.text  # the mock logged URLs: with the key taken out
    assert KEY not in caplog.text and SECRET not in caplog.text
    await nodes.close()


async def test_refused_credentials_are_a_clear_error_that_never_shows_them(
    ec2: PoolConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    RecordedEc2.type = "badcreds"
    nodes = LibcloudNodes.from_config(ec2)
    with pytest.raises(ClusterError) as err:
        await nodes.list()
    assert err.value.message == "pool aws: list_nodes: the cloud refused the credentials"
    assert not err.value.transient
    assert KEY not in caplog.text and SECRET not in caplog.text
    assert KEY not in repr(credentials.read_file(Path(ec2.cloud.credentials_file or "")))


def test_an_open_credentials_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "creds"
    path.write_text(f"key = {KEY}\n")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match=r"mode 0644: others may read it; .*chmod 600"):
        credentials.read_file(path)
    path.chmod(0o600)
    assert credentials.read_file(path).key == KEY
    path.write_text("just-a-token\n")
    assert (credentials.read_file(path).key, credentials.read_file(path).secret) == (
        "just-a-token",
        None,
    )
    path.write_text("secret = only\n")
    with pytest.raises(ConfigError, match=r"no 'key = \.\.\.' line"):
        credentials.read_file(path)
    with pytest.raises(ConfigError, match="cannot read credentials file"):
        credentials.read_file(tmp_path / "missing")


def test_credentials_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUD_KEY", KEY)
    monkeypatch.setenv("CLOUD_SECRET", SECRET)
    got = credentials.load(None, "CLOUD_KEY", "CLOUD_SECRET")
    assert (got.key, got.secret) == (KEY, SECRET)
    assert KEY not in repr(got) and SECRET not in str(got)
    monkeypatch.delenv("CLOUD_SECRET")
    with pytest.raises(ConfigError, match=r"CLOUD_SECRET .* is not set"):
        credentials.load(None, "CLOUD_KEY", "CLOUD_SECRET")
    with pytest.raises(ConfigError, match="needs credentials_file or key_env"):
        credentials.load(None, None, None)


def test_an_unknown_driver_is_a_config_error(ec2: PoolConfig) -> None:
    assert ec2.cloud is not None
    bad = ec2.model_copy(update={"cloud": ec2.cloud.model_copy(update={"driver": "nosuch"})})
    with pytest.raises(ConfigError, match="libcloud has no compute driver 'nosuch'"):
        LibcloudNodes.from_config(bad)
