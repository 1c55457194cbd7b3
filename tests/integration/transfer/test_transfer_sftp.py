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


def test_end_check_reads_back_only_chunks_kept_from_an_earlier_run(
    sshd: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks written in this run count with the digest checked as they were
    written (SSH's MAC guards the wire); a kept chunk that rotted on disk is
    read back, found and sent again."""
    data = make_file(tmp_path / "a.bin", 6 * MIB)
    opts = CopyOptions(chunk_bytes=MIB, parallel=1, resume=True)
    read_back: list[tuple[str, int]] = []
    real_read = SftpEndpoint.read

    async def counting(self: SftpEndpoint, path: str, offset: int, length: int) -> bytes:
        read_back.append((path, offset))
        return await real_read(self, path, offset, length)

    monkeypatch.setattr(SftpEndpoint, "read", counting)

    async def first() -> object:
        async with site(sshd) as remote, LocalEndpoint() as local:
            return await copy(local, str(tmp_path / "a.bin"), remote, "a.bin", opts)

    run(first())
    assert (sshd.root / "a.bin").read_bytes() == data
    assert read_back == []  # no second pass over what was just written

    # an interrupted copy: the part and manifest of chunks 0-3, then chunk 1 rots
    (sshd.root / "a.bin").unlink()
    part, manifest = sshd.root / ".a.bin.cnet-part", sshd.root / ".a.bin.cnet-manifest"
    part.write_bytes(data[: 4 * MIB] + bytes(2 * MIB))
    from computenet.transfer import chunks
    from computenet.transfer.endpoint import PartIdent

    st = os.stat(tmp_path / "a.bin")
    ident = PartIdent(6 * MIB, st.st_mtime_ns, MIB, f"local:{tmp_path / 'a.bin'}")
    lines = [f"{i} {chunks.digest(data[i * MIB : (i + 1) * MIB])}" for i in range(4)]
    import json as _json

    manifest.write_text("\n".join([_json.dumps(ident.to_dict()), *lines]) + "\n")
    with open(part, "r+b") as fh:
        fh.seek(MIB)
        fh.write(b"rot")
    result = run(first())
    assert (sshd.root / "a.bin").read_bytes() == data
    # kept chunks are read back (again after the resend round); new ones never
    assert {o // MIB for p, o in read_back if p.endswith("cnet-part")} == {0, 1, 2, 3}
    assert result.chunks_resent == 1  # type: ignore[attr-defined]


def test_connection_prefers_aes_gcm_where_the_server_offers_it(sshd: Any) -> None:
    """asyncssh seals every packet in Python: AES-GCM is one call per packet, so it
    is asked for before ChaCha20-Poly1305 (OpenSSH's own first choice)."""

    async def go() -> tuple[str, str]:
        async with site(sshd) as remote:
            await remote.stat("")
            conn = remote._conn
            return conn.get_extra_info("send_cipher"), conn.get_extra_info("recv_cipher")

    assert run(go()) == ("aes128-gcm@openssh.com", "aes128-gcm@openssh.com")


def test_a_chunk_whose_digest_does_not_match_is_refused_and_not_written(
    sshd: Any, tmp_path: Path
) -> None:
    from computenet.errors import IntegrityError
    from computenet.transfer import chunks
    from computenet.transfer.endpoint import PartIdent

    data = os.urandom(MIB)

    async def go() -> None:
        async with site(sshd) as remote:
            await remote.begin("c.bin", PartIdent(MIB, 1, MIB, "local:/c.bin"))
            with pytest.raises(IntegrityError, match="checksum mismatch"):
                await remote.write_chunk("c.bin", 0, 0, data, chunks.digest(b"other"))

    run(go())
    assert (sshd.root / ".c.bin.cnet-part").read_bytes() == bytes(MIB)
    manifest = (sshd.root / ".c.bin.cnet-manifest").read_text().splitlines()
    assert len(manifest) == 1  # the header only: no chunk recorded
