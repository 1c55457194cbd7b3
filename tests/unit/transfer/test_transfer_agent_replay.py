"""The agent's token and TLS checks against tokens and certificates that are
real but not for it: another agent's, a read-only pull token used to write,
a token replayed once it has expired, and a certificate that is not the pin."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from transfer_helpers import Agent, run, start_agent

from computenet.errors import AuthError, ForbiddenError
from computenet.transfer import tokens
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint


def endpoint(agent: Agent, **over: str) -> AgentEndpoint:
    return AgentEndpoint(AgentAccess.from_dict({**agent.info, **over}), name="site")


def secret_of(agent: Agent) -> bytes:
    return (agent.info_file.with_name(agent.info_file.name + ".state") / "secret").read_bytes()


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Agent]:
    root = tmp_path / "other-site"
    root.mkdir()
    a = start_agent(root, tmp_path / "other.json")
    yield a
    a.stop()


async def _stat(agent: Agent, **over: str) -> object:
    async with endpoint(agent, **over) as site:
        return await site.stat(".")


async def _mkdir(agent: Agent, name: str, **over: str) -> None:
    async with endpoint(agent, **over) as site:
        await site.mkdirs(name)


def test_another_agents_token_is_refused(agent: Agent, other: Agent) -> None:
    assert run(_stat(other)) is not None  # it is a good token, for the other agent
    with pytest.raises(AuthError, match="wrong agent token"):
        run(_stat(agent, token=other.info["token"]))
    with pytest.raises(AuthError, match="wrong agent token"):
        run(_mkdir(agent, "planted", token=other.info["token"]))
    assert not (agent.root / "planted").exists()


def test_a_token_that_worked_is_refused_once_expired(agent: Agent) -> None:
    secret = secret_of(agent)
    # 5 s of life: the first call must land inside it even on a loaded machine
    expires_at = time.time() + 5
    soon = tokens.mint(secret, expires_at=expires_at)
    assert run(_stat(agent, token=soon)) is not None
    time.sleep(max(0.0, int(expires_at) + 1.05 - time.time()))  # past its whole second
    with pytest.raises(AuthError, match="expired"):
        run(_stat(agent, token=soon))
    with pytest.raises(AuthError, match="expired"):
        run(_mkdir(agent, "late", token=soon))
    assert not (agent.root / "late").exists()


def test_a_pull_token_replayed_to_write_is_refused(agent: Agent) -> None:
    pull = tokens.mint(secret_of(agent), expires_at=time.time() + 600, scope="r")
    assert run(_stat(agent, token=pull)) is not None
    with pytest.raises(ForbiddenError, match="read-only"):
        run(_mkdir(agent, "via-pull", token=pull))
    # its scope cannot be widened: the MAC covers it
    body, _, mac = pull.rpartition(".")
    widened = body.replace(".r.", ".rw.") + "." + mac
    with pytest.raises(AuthError, match="wrong"):
        run(_mkdir(agent, "via-pull", token=widened))
    assert not (agent.root / "via-pull").exists()


def test_the_other_agents_certificate_is_not_the_pin(agent: Agent, other: Agent) -> None:
    # the right URL and token with another agent's pin: refused before any request
    with pytest.raises(AuthError, match="pinned"):
        run(_stat(agent, fingerprint=other.info["fingerprint"]))


def test_plain_http_and_unverified_tls_get_nothing(agent: Agent) -> None:
    url = agent.info["url"]
    with pytest.raises(httpx2.HTTPError):
        httpx2.get(url.replace("https://", "http://") + "/v1/stat?path=.", timeout=5)
    # TLS without a token: the agent answers, but with no data
    resp = httpx2.get(url + "/v1/stat?path=.", verify=False, timeout=5)
    assert resp.status_code == 401
    assert agent.info["token"] not in resp.text
