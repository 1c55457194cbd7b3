"""Integrity-only copies (``--no-encrypt``): bytes over the agent's plain data
listener, BLAKE3-checked end to end, control calls and tokens kept on TLS."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from transfer_helpers import MIB, Agent, make_file, run, start_agent

from computenet.errors import ConfigError, ForbiddenError, IntegrityError, SpecError
from computenet.transfer import chunks, tokens
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.endpoint import PartIdent
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.sites import check_config, open_endpoint


@pytest.fixture
def plain_agent(tmp_path: Path) -> Iterator[Agent]:
    root = tmp_path / "site"
    root.mkdir()
    a = start_agent(root, tmp_path / "agent.json", data_listen="127.0.0.1:0")
    yield a
    a.stop()


def _secret(agent: Agent) -> bytes:
    return (agent.info_file.with_name(agent.info_file.name + ".state") / "secret").read_bytes()


def _site(agent: Agent) -> AgentEndpoint:
    config = {**agent.info, "allow_no_encrypt": True}
    endpoint = open_endpoint("fast", "agent", config, no_encrypt=True)
    assert isinstance(endpoint, AgentEndpoint)
    return endpoint


def test_a_file_and_a_tree_arrive_whole_over_the_data_listener(
    plain_agent: Agent, tmp_path: Path
) -> None:
    assert plain_agent.info["data_url"].startswith("http://127.0.0.1:")
    big = make_file(tmp_path / "src/big.bin", 5 * MIB + 3)
    for i in range(40):
        make_file(tmp_path / f"src/small/f{i}", 1000 + i, seed=i)
    opts = CopyOptions(recursive=True, chunk_bytes=MIB, no_encrypt=True)

    async def go() -> object:
        async with _site(plain_agent) as site, LocalEndpoint() as local:
            result = await copy(local, str(tmp_path / "src"), site, "dst", opts)
            assert site._bulk is not None and site._bulk.base_url.scheme == "http"
            return result

    result = run(go())
    assert result.verified  # type: ignore[attr-defined]
    assert (plain_agent.root / "dst/big.bin").read_bytes() == big
    for i in range(40):
        got = (plain_agent.root / f"dst/small/f{i}").read_bytes()
        assert got == (tmp_path / f"src/small/f{i}").read_bytes()


def test_a_chunk_spoiled_on_the_plain_wire_is_refused(plain_agent: Agent) -> None:
    async def go() -> None:
        async with _site(plain_agent) as site:
            await site.begin("f", PartIdent(4, 1, 4, "t"))
            await site.write_chunk("f", 0, 0, b"abcd", chunks.digest(b"abce"))

    with pytest.raises(IntegrityError):
        run(go())
    assert not (plain_agent.root / "f").exists()


def test_each_listener_takes_only_its_own_tokens(plain_agent: Agent) -> None:
    data_url, tls_token = plain_agent.info["data_url"], plain_agent.info["token"]
    data_token = tokens.mint(_secret(plain_agent), expires_at=time.time() + 60, scope="d")
    with httpx2.Client(base_url=data_url + "/v1") as plain:
        refused = plain.get(
            "/read",
            params={"path": "x", "offset": 0, "length": 1},
            headers={"authorization": f"Bearer {tls_token}"},
        )
        assert refused.status_code == 403  # the site's own token never travels in clear
        assert "only data tokens" in refused.json()["message"]
        for path in ("/tokens", "/finish", "/begin", "/verify", "/pull"):  # no control here
            resp = plain.post(path, headers={"authorization": f"Bearer {data_token}"})
            assert resp.status_code == 404, path

    async def stat_with_data_token() -> object:
        access = AgentAccess.from_dict({**plain_agent.info, "token": data_token})
        async with AgentEndpoint(access) as site:
            return await site.stat(".")

    with pytest.raises(ForbiddenError, match="only on the agent's data listener"):
        run(stat_with_data_token())


def test_no_encrypt_needs_the_administrators_leave_and_a_data_listener(agent: Agent) -> None:
    with pytest.raises(ForbiddenError, match="does not allow --no-encrypt"):
        open_endpoint("s", "agent", dict(agent.info), no_encrypt=True)
    with pytest.raises(ConfigError, match="no data listener"):
        open_endpoint("s", "agent", {**agent.info, "allow_no_encrypt": True}, no_encrypt=True)
    with pytest.raises(SpecError, match="data_url"):
        check_config("agent", {**agent.info, "allow_no_encrypt": True})
    sftp = {"host": "h", "user": "u", "root": "/", "key_path": "/k"}
    with pytest.raises(SpecError, match="always encrypts"):
        open_endpoint("s", "sftp", sftp, no_encrypt=True)
    # without --no-encrypt an allowed site still goes over TLS
    plain = open_endpoint("s", "agent", dict(agent.info))
    assert isinstance(plain, AgentEndpoint) and not plain.integrity_only
