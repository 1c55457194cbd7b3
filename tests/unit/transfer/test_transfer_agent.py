"""The site agent over real HTTPS: auth, confinement, pinning, copies both ways."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from transfer_helpers import KIB, MIB, Agent, make_file, run

from computenet.errors import AuthError, ForbiddenError, IntegrityError
from computenet.transfer import chunks, tokens
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint


def endpoint(agent: Agent, **over: str) -> AgentEndpoint:
    return AgentEndpoint(AgentAccess.from_dict({**agent.info, **over}), name="site")


def secret_of(agent: Agent) -> bytes:
    return (agent.info_file.with_name(agent.info_file.name + ".state") / "secret").read_bytes()


def test_info_file_is_private_and_complete(agent: Agent) -> None:
    assert os.stat(agent.info_file).st_mode & 0o777 == 0o600
    assert set(agent.info) == {"url", "bulk_url", "token", "fingerprint"}
    assert agent.info["url"].startswith("https://127.0.0.1:")


def test_round_trip_with_compression_and_small_files(agent: Agent, tmp_path: Path) -> None:
    src = tmp_path / "src"
    smalls = {f"s/{i}": make_file(src / f"s/{i}", 4 * KIB, i) for i in range(300)}
    big = make_file(src / "big", 5 * MIB + 3)
    (src / "zeros").write_bytes(bytes(3 * MIB))

    async def go() -> tuple[object, object]:
        async with endpoint(agent) as site, LocalEndpoint() as local:
            up = await copy(
                local,
                str(src),
                site,
                "data",
                CopyOptions(recursive=True, compress=True, chunk_bytes=MIB),
            )
            down = await copy(
                site, "data", local, str(tmp_path / "back"), CopyOptions(recursive=True)
            )
            return up, down

    up, _down = run(go())
    assert (agent.root / "data/big").read_bytes() == big
    assert (tmp_path / "back/big").read_bytes() == big
    assert all((tmp_path / "back" / k).read_bytes() == v for k, v in smalls.items())
    assert up.bytes_sent < up.bytes_total  # the zeros compressed


@pytest.mark.parametrize("bad", ["../x", "a/../../x"])
def test_dotdot_is_refused(agent: Agent, bad: str) -> None:
    async def go() -> None:
        async with endpoint(agent) as site:
            await site.stat(bad)

    with pytest.raises(ForbiddenError):
        run(go())


def test_absolute_path_cannot_leave_the_root(agent: Agent) -> None:
    async def go() -> object:
        async with endpoint(agent) as site:
            return await site.stat("/etc/passwd")

    assert run(go()) is None  # it names <root>/etc/passwd, which does not exist


def test_symlink_out_of_the_root_is_refused(agent: Agent, tmp_path: Path) -> None:
    (tmp_path / "outside").write_text("secret")
    os.symlink(tmp_path / "outside", agent.root / "link")
    os.symlink(tmp_path, agent.root / "dirlink")

    async def read() -> bytes:
        async with endpoint(agent) as site:
            return await site.read("link", 0, 100)

    async def write() -> None:
        async with LocalEndpoint() as local, endpoint(agent) as site:
            (tmp_path / "f").write_bytes(b"x" * 10)
            await copy(local, str(tmp_path / "f"), site, "dirlink/planted")

    with pytest.raises(ForbiddenError):
        run(read())
    with pytest.raises(ForbiddenError):
        run(write())
    assert not (tmp_path / "planted").exists()


def test_wrong_expired_and_read_only_tokens_are_refused(agent: Agent) -> None:
    secret = secret_of(agent)

    async def stat(token: str) -> object:
        async with endpoint(agent, token=token) as site:
            return await site.stat(".")

    async def mkdir(token: str) -> None:
        async with endpoint(agent, token=token) as site:
            await site.mkdirs("new")

    with pytest.raises(AuthError, match="wrong"):
        run(stat(agent.info["token"][:-2] + "xx"))
    with pytest.raises(AuthError, match="expired"):
        run(stat(tokens.mint(secret, expires_at=time.time() - 1)))
    read_only = tokens.mint(secret, expires_at=time.time() + 60, scope="r")
    assert run(stat(read_only)) is not None
    with pytest.raises(ForbiddenError):
        run(mkdir(read_only))
    assert not (agent.root / "new").exists()


def test_wrong_certificate_fingerprint_is_refused_before_any_request(agent: Agent) -> None:
    async def go() -> object:
        async with endpoint(agent, fingerprint="sha256:" + "0" * 64) as site:
            return await site.stat(".")

    with pytest.raises(AuthError, match="pinned"):
        run(go())


def test_agent_rejects_a_chunk_whose_digest_does_not_match(agent: Agent) -> None:
    from computenet.transfer.endpoint import PartIdent

    async def go() -> None:
        async with endpoint(agent) as site:
            await site.begin("f", PartIdent(4, 1, 4, "t"))
            await site.write_chunk("f", 0, 0, b"abcd", chunks.digest(b"abce"))

    with pytest.raises(IntegrityError):
        run(go())


def test_agent_refuses_a_batch_spoiled_in_flight_and_writes_none_of_it(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    from computenet.transfer import agent_client
    from computenet.transfer.endpoint import BatchItem

    real_frame = agent_client._frame

    def spoil(items: list[BatchItem], compressed: bool) -> tuple[bytes, dict[str, str]]:
        body, params = real_frame(items, compressed)
        return body[:-1] + bytes([body[-1] ^ 1]), params  # one bit of the last file

    monkeypatch.setattr(agent_client, "_frame", spoil)
    items = [BatchItem(f"b/f{i}", os.urandom(100), "", 0o644, 10**18) for i in range(3)]

    async def go() -> None:
        async with endpoint(agent) as site:
            await site.mkdirs("b")
            await site.write_batch(items)

    with pytest.raises(IntegrityError, match="batch"):
        run(go())
    assert list((agent.root / "b").iterdir()) == []
    monkeypatch.setattr(agent_client, "_frame", real_frame)
    run(go())
    assert [(agent.root / i.path).read_bytes() for i in items] == [i.data for i in items]


def test_agent_makes_a_tree_of_directories_in_one_request_and_confines_each(
    agent: Agent,
) -> None:
    async def go(paths: list[str]) -> None:
        async with endpoint(agent) as site:
            await site.mkdirs_many(paths)

    run(go(["t/a/b", "t/c", "t"]))
    assert (agent.root / "t/a/b").is_dir() and (agent.root / "t/c").is_dir()
    with pytest.raises(ForbiddenError):
        run(go(["t/d", "t/../../out"]))
    assert not (agent.root.parent / "out").exists()


def test_agent_end_check_uses_the_digests_it_took_on_arrival(agent: Agent) -> None:
    from computenet.transfer.endpoint import PartIdent

    data = os.urandom(3 * 1000)
    want = [chunks.digest(data[i : i + 1000]) for i in range(0, 3000, 1000)]

    async def go() -> tuple[list[int], list[int]]:
        async with endpoint(agent) as site:
            await site.begin("f", PartIdent(3000, 1, 1000, "t"))
            for i in range(3):
                await site.write_chunk("f", i, i * 1000, data[i * 1000 : (i + 1) * 1000], want[i])
            good = await site.verify("f", 1000, want)
            bad = await site.verify("f", 1000, [want[0], want[2], want[2]])
            await site.finish("f", 0o644, 10**18)
            return good, bad

    assert run(go()) == ([], [1])
    assert (agent.root / "f").read_bytes() == data


def test_site_to_site_copy_is_pulled_by_the_destination(
    agent: Agent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from transfer_helpers import start_agent

    def not_here(*_a: object, **_k: object) -> None:
        raise AssertionError("site-to-site bytes passed through this machine")

    monkeypatch.setattr(AgentEndpoint, "read", not_here)
    monkeypatch.setattr(AgentEndpoint, "read_batch", not_here)

    root2 = tmp_path / "site2"
    root2.mkdir()
    other = start_agent(root2, tmp_path / "agent2.json")
    try:
        data = make_file(agent.root / "tree/f.bin", 3 * MIB)
        make_file(agent.root / "tree/small", 100)

        async def go() -> object:
            async with endpoint(agent) as a, endpoint(other) as b:
                return await copy(a, "tree", b, "copy", CopyOptions(recursive=True))

        r = run(go())
        assert (root2 / "copy/f.bin").read_bytes() == data
        assert r.files == 2  # type: ignore[attr-defined]
    finally:
        other.stop()
