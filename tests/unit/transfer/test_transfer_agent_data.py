"""The agent's bulk listener (TLS, served by threads): chunks and batches arrive
there with the same tokens, confinement, limits and checks as on the control
listener, and bad requests change nothing."""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest
from transfer_helpers import KIB, MIB, Agent, make_file, run, start_agent

from computenet.errors import IntegrityError, TransferError
from computenet.transfer import chunks, tokens
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.agent_data import KEPT_BUFFER_BYTES, MAX_BODY_BYTES
from computenet.transfer.endpoint import PartIdent
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.tls import pinned_context


def _site(agent: Agent, **over: str) -> AgentEndpoint:
    return AgentEndpoint(AgentAccess.from_dict({**agent.info, **over}), name="site")


def _secret(agent: Agent) -> bytes:
    return (agent.info_file.with_name(agent.info_file.name + ".state") / "secret").read_bytes()


def _bulk_context(agent: Agent) -> tuple[str, int, ssl.SSLContext]:
    parts = urlsplit(agent.info["bulk_url"])
    assert parts.hostname and parts.port
    return (
        parts.hostname,
        parts.port,
        pinned_context(parts.hostname, parts.port, agent.info["fingerprint"]),
    )


def _bulk_client(agent: Agent) -> httpx2.Client:
    _host, _port, ctx = _bulk_context(agent)
    return httpx2.Client(base_url=agent.info["bulk_url"] + "/v1", verify=ctx, timeout=30)


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def test_a_file_and_a_tree_arrive_whole_through_the_bulk_listener(
    agent: Agent, tmp_path: Path
) -> None:
    assert agent.info["bulk_url"].startswith("https://127.0.0.1:")
    assert agent.info["bulk_url"] != agent.info["url"]
    big = make_file(tmp_path / "src/big.bin", 5 * MIB + 3)
    smalls = {i: make_file(tmp_path / f"src/s/f{i}", 4 * KIB, seed=i) for i in range(200)}

    async def go() -> object:
        async with _site(agent) as site, LocalEndpoint() as local:
            up = await copy(
                local,
                str(tmp_path / "src"),
                site,
                "dst",
                CopyOptions(recursive=True, chunk_bytes=MIB),
            )
            assert site._bulk is not None
            assert str(site._bulk.base_url).startswith(agent.info["bulk_url"])
            await copy(site, "dst", local, str(tmp_path / "back"), CopyOptions(recursive=True))
            return up

    assert run(go()).verified  # type: ignore[attr-defined]
    assert (agent.root / "dst/big.bin").read_bytes() == big
    assert (tmp_path / "back/big.bin").read_bytes() == big
    assert all((agent.root / f"dst/s/f{i}").read_bytes() == d for i, d in smalls.items())


def test_chunks_larger_than_a_kept_buffer_and_copies_on_new_connections_arrive_whole(
    agent: Agent, tmp_path: Path
) -> None:
    big = make_file(tmp_path / "big", 2 * KEPT_BUFFER_BYTES + 5, seed=1)
    small = make_file(tmp_path / "small", 3 * MIB + 7, seed=2)
    wide = CopyOptions(chunk_bytes=KEPT_BUFFER_BYTES + MIB)  # each body over the kept size

    async def go(name: str, opts: CopyOptions) -> None:
        async with _site(agent) as site, LocalEndpoint() as local:  # new connections each time
            await copy(local, str(tmp_path / name), site, name, opts)

    run(go("big", wide))
    run(go("small", CopyOptions(chunk_bytes=MIB)))
    run(go("big", CopyOptions(chunk_bytes=2 * MIB)))  # buffers handed on from closed connections
    assert (agent.root / "big").read_bytes() == big
    assert (agent.root / "small").read_bytes() == small


def test_more_streams_than_cores_all_arrive(agent: Agent, tmp_path: Path) -> None:
    # a thread per connection: more connections than cores, each with its own buffer
    data = make_file(tmp_path / "f", 12 * MIB + 1)

    async def go() -> None:
        access = AgentAccess.from_dict(agent.info)
        async with AgentEndpoint(access, parallel=12) as site, LocalEndpoint() as local:
            opts = CopyOptions(chunk_bytes=MIB, parallel=12)
            await copy(local, str(tmp_path / "f"), site, "f", opts)

    run(go())
    assert (agent.root / "f").read_bytes() == data


def test_an_agent_known_without_a_bulk_url_still_takes_chunks_on_its_control_listener(
    agent: Agent, tmp_path: Path
) -> None:
    data = make_file(tmp_path / "f", 3 * MIB + 1)
    info = {k: v for k, v in agent.info.items() if k != "bulk_url"}

    async def go() -> None:
        async with AgentEndpoint(AgentAccess.from_dict(info)) as site, LocalEndpoint() as local:
            await copy(local, str(tmp_path / "f"), site, "f", CopyOptions(chunk_bytes=MIB))
            assert site._bulk is not None
            assert str(site._bulk.base_url).startswith(agent.info["url"])

    run(go())
    assert (agent.root / "f").read_bytes() == data


def test_the_bulk_listener_takes_the_sites_tokens_and_refuses_others(agent: Agent) -> None:
    secret = _secret(agent)
    soon = time.time() + 60
    read_only = tokens.mint(secret, expires_at=soon, scope="r")
    data_token = tokens.mint(secret, expires_at=soon, scope="d")
    expired = tokens.mint(secret, expires_at=time.time() - 1, scope="rw")
    (agent.root / "x").write_bytes(b"hello")
    chunk = {"path": "y", "index": 0, "offset": 0, "digest": chunks.digest(b"abcd")}
    with _bulk_client(agent) as bulk:
        ok = bulk.get(
            "/read", params={"path": "x", "offset": 0, "length": 5}, headers=_auth(read_only)
        )
        assert ok.status_code == 200 and ok.content == b"hello"
        for token, status in (
            (read_only, 403),
            (data_token, 403),
            (expired, 401),
            ("v1.1.rw.x.y", 401),
        ):
            # each refusal is read off the same kept-alive connection as the next request
            refused = bulk.put("/chunk", params=chunk, content=b"abcd", headers=_auth(token))
            assert refused.status_code == status, token
            assert refused.json()["code"]
        missing = bulk.get("/read", params={"path": "x", "offset": 0, "length": 5})
        assert missing.status_code == 401
        for path in ("/begin", "/finish", "/tokens", "/stat"):  # no control calls here
            assert bulk.post(path, headers=_auth(agent.info["token"])).status_code == 404
    assert not (agent.root / "y").exists()
    assert not (agent.root / ".y.cnet-part").exists()


def test_a_chunk_spoiled_on_the_wire_leaves_no_manifest_line(agent: Agent) -> None:
    async def go(digest_of: bytes) -> None:
        async with _site(agent) as site:
            await site.begin("f", PartIdent(4, 1, 4, "t"))
            await site.write_chunk("f", 0, 0, b"abcd", chunks.digest(digest_of))

    with pytest.raises(IntegrityError, match="checksum mismatch"):
        run(go(b"abce"))
    manifest = (agent.root / ".f.cnet-manifest").read_text().splitlines()
    assert len(manifest) == 1  # the header only: the chunk is not counted as arrived
    run(go(b"abcd"))
    assert (agent.root / ".f.cnet-manifest").read_text().splitlines()[-1].startswith("0 ")


def test_paths_that_leave_the_root_are_refused_on_the_bulk_listener(
    agent: Agent, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (agent.root / "link").symlink_to(outside)
    token = agent.info["token"]
    with _bulk_client(agent) as bulk:
        for path in ("../x", "a/../../x", "link/x"):
            params = {"path": path, "index": 0, "offset": 0, "digest": chunks.digest(b"abcd")}
            resp = bulk.put("/chunk", params=params, content=b"abcd", headers=_auth(token))
            assert resp.status_code == 403, path
            resp = bulk.get(
                "/read", params={"path": path, "offset": 0, "length": 4}, headers=_auth(token)
            )
            assert resp.status_code == 403, path
    assert list(outside.iterdir()) == []


def test_bad_requests_get_a_clear_error_and_change_nothing(agent: Agent) -> None:
    token = agent.info["token"]
    with _bulk_client(agent) as bulk:
        resp = bulk.put("/chunk", params={"path": "f"}, content=b"abcd", headers=_auth(token))
        assert resp.status_code == 422 and "index" in resp.json()["message"]
        params = {"path": "f", "index": "one", "offset": 0, "digest": "d"}
        resp = bulk.put("/chunk", params=params, content=b"abcd", headers=_auth(token))
        assert resp.status_code == 422 and "integer" in resp.json()["message"]
        params = {"path": "f", "index": 0, "offset": 0, "digest": chunks.digest(b"abcd")}
        resp = bulk.put("/chunk", params=params, content=b"abcd", headers=_auth(token))
        assert resp.status_code == 502 and "begin first" in resp.json()["message"]
        resp = bulk.post("/read-batch", content=b"{not json", headers=_auth(token))
        assert resp.status_code == 422
        resp = bulk.post("/batch", content=b"\x00" * 3, headers=_auth(token))
        assert resp.status_code == 502 and "truncated" in resp.json()["message"]
        header = b'[{"path": "x"}]'  # no size, digest, mode
        frame = len(header).to_bytes(8, "big") + header
        resp = bulk.post("/batch", content=frame, headers=_auth(token))
        assert resp.status_code == 422 and "malformed" in resp.json()["message"]
    assert sorted(p.name for p in agent.root.iterdir()) == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(agent: Agent) -> None:
    host, port, ctx = _bulk_context(agent)
    head = (
        f"PUT /v1/chunk?path=f&index=0&offset=0&digest=d HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {agent.info['token']}\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=30) as raw, ctx.wrap_socket(raw) as conn:
        conn.sendall(head.encode())
        reply = b""
        while chunk := conn.recv(65536):  # the agent answers and closes: no body is awaited
            reply += chunk
    status, _, rest = reply.partition(b"\r\n")
    assert status.split()[1] == b"413"
    assert b"over" in rest.partition(b"\r\n\r\n")[2]
    assert list(agent.root.iterdir()) == []


def test_health_needs_no_token(agent: Agent) -> None:
    with _bulk_client(agent) as bulk:
        assert bulk.get("/health").json() == {"ok": True, "service": "computenet-agent"}


@pytest.fixture
def small_agent(tmp_path: Path) -> Iterator[Agent]:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    root = tmp_path / "small"
    root.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)], capture_output=True
    )
    if mount.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()!r}")
    a = start_agent(root, tmp_path / "agent.json")
    yield a
    a.stop()
    subprocess.run(["umount", str(root)], check=False)


def test_a_full_disk_at_the_agent_fails_the_copy_clearly_and_the_agent_serves_on(
    small_agent: Agent, tmp_path: Path
) -> None:
    make_file(tmp_path / "wide.bin", 3 * MIB)
    for i in range(700):  # 2.8 MB of small files: batches run out of space midway
        make_file(tmp_path / f"tree/f{i:03d}", 4 * KIB, seed=i)

    async def go(src: str, dst: str) -> None:
        async with _site(small_agent) as site, LocalEndpoint() as local:
            await copy(
                local, str(tmp_path / src), site, dst, CopyOptions(recursive=True, retries=0)
            )

    with pytest.raises(TransferError, match="disk full"):
        run(go("wide.bin", "wide.bin"))
    assert list(small_agent.root.iterdir()) == []
    with pytest.raises(TransferError, match="disk full"):
        run(go("tree", "tree"))
    for f in (small_agent.root / "tree").iterdir():  # whatever landed is whole, no part left
        assert not f.name.endswith(".cnet-part")
        assert f.read_bytes() == (tmp_path / "tree" / f.name).read_bytes()
    (tmp_path / "one").write_bytes(b"still here")
    for f in (small_agent.root / "tree").iterdir():
        f.unlink()
    run(go("one", "one"))
    assert (small_agent.root / "one").read_bytes() == b"still here"


def test_the_info_file_names_the_bulk_listener_it_binds(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path / "site"
    root.mkdir()
    code = (
        "import sys; from pathlib import Path; from computenet.transfer.agent import serve;"
        "serve(Path(sys.argv[1]), '127.0.0.1:0', Path(sys.argv[2]), None, None, sys.argv[3])"
    )
    info_file = tmp_path / "agent.json"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(root), str(info_file), f"127.0.0.1:{port}"]
    )
    try:
        deadline = time.monotonic() + 30
        while not info_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(info_file.read_text())["bulk_url"] == f"https://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait(10)
