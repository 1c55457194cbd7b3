"""SFTP endpoint against a real sshd on loopback."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from transfer_helpers import KIB, MIB, make_file, run

from computenet.errors import ForbiddenError
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.sftp import SftpAccess, SftpEndpoint

pytestmark = pytest.mark.integration


def site(sshd: Any) -> SftpEndpoint:
    return SftpEndpoint(SftpAccess.parse(sshd.target, str(sshd.key)), name="login")


def test_tree_round_trip_keeps_bytes_mode_and_mtime(sshd: Any, tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {f"d/{i}": make_file(src / f"d/{i}", 4 * KIB, i) for i in range(50)}
    files["big"] = make_file(src / "big", 3 * MIB + 1)
    os.chmod(src / "big", 0o600)
    os.utime(src / "big", (1_600_000_000, 1_600_000_000))

    async def go() -> tuple[object, object]:
        async with site(sshd) as remote, LocalEndpoint() as local:
            up = await copy(
                local, str(src), remote, "tree", CopyOptions(recursive=True, chunk_bytes=MIB)
            )
            await copy(
                remote,
                "tree",
                local,
                str(tmp_path / "back"),
                CopyOptions(recursive=True, chunk_bytes=MIB),
            )
            again = await copy(
                local,
                str(src),
                remote,
                "tree",
                CopyOptions(recursive=True, resume=True, chunk_bytes=MIB),
            )
            return up, again

    _up, again = run(go())
    for rel, data in files.items():
        assert (sshd.root / "tree" / rel).read_bytes() == data
        assert (tmp_path / "back" / rel).read_bytes() == data
    st = os.stat(sshd.root / "tree/big")
    assert (st.st_mode & 0o777, int(st.st_mtime)) == (0o600, 1_600_000_000)
    assert again.bytes_sent == 0 and again.files_skipped == 51  # type: ignore[attr-defined]


def test_dotdot_is_refused_before_reaching_the_server(sshd: Any) -> None:
    async def go() -> object:
        async with site(sshd) as remote:
            return await remote.stat("../../etc/passwd")

    with pytest.raises(ForbiddenError):
        run(go())
