"""Kill the site agent in the middle of a file, start it again, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from transfer_helpers import MIB, make_file, run, start_agent

from computenet.errors import TransferError
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint

pytestmark = pytest.mark.integration

CHUNK = MIB


def test_agent_killed_mid_file_then_resume_moves_only_missing_chunks(tmp_path: Path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    info = tmp_path / "agent.json"
    size = 40 * CHUNK
    data = make_file(tmp_path / "a.bin", size)
    agent = start_agent(root, info, "127.0.0.1:0")
    port = agent.info["url"].rsplit(":", 1)[1]
    opts = CopyOptions(
        chunk_bytes=CHUNK, parallel=1, resume=True, retries=0, limit_bytes_per_s=20 * MIB
    )
    done_before_kill: list[int] = []

    def progress(n: int) -> None:
        done_before_kill.append(n)
        if sum(done_before_kill) >= 10 * CHUNK and agent.proc.poll() is None:
            agent.proc.kill()

    async def first() -> None:
        async with (
            AgentEndpoint(AgentAccess.from_dict(agent.info)) as site,
            LocalEndpoint() as local,
        ):
            await copy(local, str(tmp_path / "a.bin"), site, "a.bin", opts, progress)

    try:
        with pytest.raises(TransferError):
            run(first())
        agent.proc.wait(10)
        assert not (root / "a.bin").exists()
        agent = start_agent(root, info, f"127.0.0.1:{port}")  # same cert and secret

        async def second() -> object:
            async with (
                AgentEndpoint(AgentAccess.from_dict(agent.info)) as site,
                LocalEndpoint() as local,
            ):
                return await copy(
                    local,
                    str(tmp_path / "a.bin"),
                    site,
                    "a.bin",
                    CopyOptions(chunk_bytes=CHUNK, parallel=4, resume=True),
                )

        r = run(second())
        assert (root / "a.bin").read_bytes() == data
        sent_first = sum(done_before_kill)
        assert r.bytes_sent <= size - sent_first + CHUNK  # type: ignore[attr-defined]
        assert r.bytes_sent >= size - sent_first - CHUNK  # type: ignore[attr-defined]
        assert r.bytes_sent < size  # type: ignore[attr-defined]
    finally:
        agent.stop()
