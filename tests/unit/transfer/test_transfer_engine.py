"""The engine between local directories, with faults injected at the endpoint."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest
from transfer_helpers import KIB, MIB, FaultyEndpoint, make_file, run

from computenet.errors import SpecError, TransferError
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint

CHUNK = 256 * KIB
OPTS = CopyOptions(chunk_bytes=CHUNK, small_file_bytes=16 * KIB, parallel=3)


def test_file_arrives_whole_with_mode_and_mtime(tmp_path: Path) -> None:
    data = make_file(tmp_path / "a.bin", 3 * MIB + 17)
    os.chmod(tmp_path / "a.bin", 0o640)
    os.utime(tmp_path / "a.bin", ns=(1_600_000_000_123_456_789, 1_600_000_000_123_456_789))
    r = run(
        copy(
            LocalEndpoint(), str(tmp_path / "a.bin"), LocalEndpoint(), str(tmp_path / "b.bin"), OPTS
        )
    )
    assert (tmp_path / "b.bin").read_bytes() == data
    st = os.stat(tmp_path / "b.bin")
    assert (st.st_mode & 0o777, st.st_mtime_ns) == (0o640, 1_600_000_000_123_456_789)
    assert (r.bytes_sent, r.files, r.verified) == (len(data), 1, True)
    assert not list(tmp_path.glob(".*cnet*"))  # no part file or manifest left


def test_tree_with_small_and_large_files(tmp_path: Path) -> None:
    src = tmp_path / "src"
    files = {f"d{i % 3}/f{i}": make_file(src / f"d{i % 3}/f{i}", 100 * i, i) for i in range(40)}
    files["big"] = make_file(src / "big", 2 * MIB + 5)
    (src / "empty-dir").mkdir()
    r = run(
        copy(
            LocalEndpoint(),
            str(src),
            LocalEndpoint(),
            str(tmp_path / "dst"),
            CopyOptions(recursive=True, chunk_bytes=CHUNK, small_file_bytes=16 * KIB),
        )
    )
    assert r.files == 41
    for rel, data in files.items():
        assert (tmp_path / "dst" / rel).read_bytes() == data
    assert (tmp_path / "dst/empty-dir").is_dir()
    # a trailing slash puts the tree inside
    run(
        copy(
            LocalEndpoint(),
            str(src),
            LocalEndpoint(),
            str(tmp_path / "into") + "/",
            CopyOptions(recursive=True),
        )
    )
    assert (tmp_path / "into/src/big").read_bytes() == files["big"]


def test_directory_without_recursive_is_refused(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(SpecError, match="-r"):
        run(copy(LocalEndpoint(), str(tmp_path / "d"), LocalEndpoint(), str(tmp_path / "e")))


class Stop(Exception):
    pass


def test_interrupted_copy_resumes_sending_only_missing_chunks(tmp_path: Path) -> None:
    size = 20 * CHUNK
    data = make_file(tmp_path / "a.bin", size)
    dst = tmp_path / "b.bin"

    def die_after_8(index: int, payload: bytes) -> bytes:
        if faulty.chunk_writes > 8:
            raise Stop("connection lost")
        return payload

    faulty = FaultyEndpoint(LocalEndpoint(), before_write=die_after_8)
    opts = CopyOptions(chunk_bytes=CHUNK, parallel=1, resume=True)
    with pytest.raises(Stop):
        run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), faulty, str(dst), opts))
    assert not dst.exists()  # nothing under the final name
    r = run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), LocalEndpoint(), str(dst), opts))
    assert r.bytes_sent == size - 8 * CHUNK
    assert dst.read_bytes() == data and r.verified
    # and once complete, a resumed copy sends nothing
    r2 = run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), LocalEndpoint(), str(dst), opts))
    assert (r2.bytes_sent, r2.files_skipped) == (0, 1)


def test_chunk_corrupted_on_the_wire_is_sent_again(tmp_path: Path) -> None:
    data = make_file(tmp_path / "a.bin", 6 * CHUNK)
    spoiled: list[int] = []

    def flip_once(index: int, payload: bytes) -> bytes:
        if index == 3 and not spoiled:
            spoiled.append(index)
            return payload[:100] + bytes([payload[100] ^ 1]) + payload[101:]
        return payload

    faulty = FaultyEndpoint(LocalEndpoint(), before_write=flip_once)
    r = run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), faulty, str(tmp_path / "b.bin"), OPTS))
    assert spoiled == [3]
    assert r.chunks_resent == 1
    assert (tmp_path / "b.bin").read_bytes() == data


def test_chunk_corrupted_on_disk_is_found_and_sent_again(tmp_path: Path) -> None:
    size = 10 * CHUNK
    data = make_file(tmp_path / "a.bin", size)
    dst = tmp_path / "b.bin"

    def die_after_6(index: int, payload: bytes) -> bytes:
        if faulty.chunk_writes > 6:
            raise Stop()
        return payload

    faulty = FaultyEndpoint(LocalEndpoint(), before_write=die_after_6)
    opts = CopyOptions(chunk_bytes=CHUNK, parallel=1, resume=True)
    with pytest.raises(Stop):
        run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), faulty, str(dst), opts))
    part = tmp_path / ".b.bin.cnet-part"
    with open(part, "r+b") as fh:  # rot one byte of chunk 2, which the manifest calls good
        fh.seek(2 * CHUNK + 5)
        byte = fh.read(1)
        fh.seek(2 * CHUNK + 5)
        fh.write(bytes([byte[0] ^ 0xFF]))
    r = run(copy(LocalEndpoint(), str(tmp_path / "a.bin"), LocalEndpoint(), str(dst), opts))
    assert dst.read_bytes() == data
    assert r.chunks_resent == 1
    assert r.bytes_sent == size - 6 * CHUNK + CHUNK  # the 4 missing ones and the rotten one


def test_source_changing_during_the_copy_fails_it(tmp_path: Path) -> None:
    make_file(tmp_path / "a.bin", 8 * CHUNK)

    def grow(path: str, offset: int) -> None:
        if offset == 0:
            with open(path, "ab") as fh:
                fh.write(b"more")

    src = FaultyEndpoint(LocalEndpoint(), after_read=grow)
    with pytest.raises(TransferError, match="changed during transfer"):
        run(
            copy(
                src,
                str(tmp_path / "a.bin"),
                LocalEndpoint(),
                str(tmp_path / "b.bin"),
                CopyOptions(chunk_bytes=CHUNK, parallel=1),
            )
        )
    assert not (tmp_path / "b.bin").exists()
    assert not (tmp_path / ".b.bin.cnet-part").exists()


def test_source_rewritten_in_place_is_caught_on_resume(tmp_path: Path) -> None:
    src = tmp_path / "a.bin"
    make_file(src, 8 * CHUNK)
    st = os.stat(src)

    def die_after_2(index: int, payload: bytes) -> bytes:
        if faulty.chunk_writes > 2:
            raise Stop()
        return payload

    faulty = FaultyEndpoint(LocalEndpoint(), before_write=die_after_2)
    opts = CopyOptions(chunk_bytes=CHUNK, parallel=1, resume=True)
    with pytest.raises(Stop):
        run(copy(LocalEndpoint(), str(src), faulty, str(tmp_path / "b.bin"), opts))
    with open(src, "r+b") as fh:  # same size, and mtime put back: only hashes can tell
        fh.write(b"X" * 10)
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    r = run(copy(LocalEndpoint(), str(src), LocalEndpoint(), str(tmp_path / "b.bin"), opts))
    assert (tmp_path / "b.bin").read_bytes() == src.read_bytes()
    assert r.bytes_sent == 7 * CHUNK  # chunk 0 differs from the manifest, so it moved again


def _tiny_tmpfs(path: Path) -> bool:
    path.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True
    )
    return proc.returncode == 0


def test_disk_full_is_a_clear_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_file(tmp_path / "a.bin", 3 * MIB)
    full = tmp_path / "full"
    mounted = _tiny_tmpfs(full)
    if not mounted:  # no mount rights here: make the reservation fail as a full disk does

        def no_space(fd: int, offset: int, length: int) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "posix_fallocate", no_space)
    try:
        with pytest.raises(TransferError, match="disk full"):
            run(
                copy(
                    LocalEndpoint(),
                    str(tmp_path / "a.bin"),
                    LocalEndpoint(),
                    str(full / "a.bin"),
                    OPTS,
                )
            )
        assert os.listdir(full) == []
    finally:
        if mounted:
            subprocess.run(["umount", str(full)], check=False)


def test_checksum_only_compares_without_moving(tmp_path: Path) -> None:
    src = tmp_path / "src"
    make_file(src / "same", 5000, 1)
    make_file(src / "other", 5000, 2)
    dst = tmp_path / "dst"
    run(copy(LocalEndpoint(), str(src), LocalEndpoint(), str(dst), CopyOptions(recursive=True)))
    with open(dst / "other", "r+b") as fh:
        fh.write(b"!")
    r = run(
        copy(
            LocalEndpoint(),
            str(src),
            LocalEndpoint(),
            str(dst),
            CopyOptions(recursive=True, checksum_only=True),
        )
    )
    assert (r.bytes_sent, r.verified, r.differing) == (0, False, ["other"])
