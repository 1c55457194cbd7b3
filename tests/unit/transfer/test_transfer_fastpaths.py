"""The fast paths keep the guarantees: arrival digests, the end check, kernel copies,
small files written relative to an open directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from transfer_helpers import KIB, MIB, make_file, run

from computenet.errors import ForbiddenError, IntegrityError, TransferError
from computenet.transfer import chunks, local_io
from computenet.transfer.endpoint import BatchItem, PartIdent
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint

CHUNK = 64 * KIB


def _digests(data: bytes) -> list[str]:
    return [
        chunks.digest(data[c.offset : c.offset + c.length]) for c in chunks.plan(len(data), CHUNK)
    ]


def test_end_check_answers_from_arrival_digests_without_reading_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(3 * CHUNK)
    want = _digests(data)
    ep = LocalEndpoint(tmp_path)

    async def go() -> list[int]:
        await ep.begin("f", PartIdent(len(data), 1, CHUNK, "t"))
        for c in chunks.plan(len(data), CHUNK):
            piece = data[c.offset : c.offset + c.length]
            await ep.write_chunk("f", c.index, c.offset, piece, want[c.index])
        return await ep.verify("f", CHUNK, want)

    def no_read_back(*_a: object) -> str:
        raise AssertionError("a chunk hashed on arrival was read back")

    monkeypatch.setattr(local_io, "digest_range", no_read_back)
    assert run(go()) == []
    other = os.urandom(CHUNK)  # a source whose chunk 1 differs from what arrived
    assert run(ep.verify("f", CHUNK, [want[0], chunks.digest(other), want[2]])) == [1]


def test_chunks_kept_from_an_earlier_run_are_read_again(tmp_path: Path) -> None:
    data = os.urandom(3 * CHUNK)
    want = _digests(data)
    ep = LocalEndpoint(tmp_path)
    ident = PartIdent(len(data), 1, CHUNK, "t")

    async def first() -> None:
        await ep.begin("f", ident)
        for i in (0, 1):
            await ep.write_chunk("f", i, i * CHUNK, data[i * CHUNK : (i + 1) * CHUNK], want[i])

    run(first())
    with open(tmp_path / ".f.cnet-part", "r+b") as fh:  # chunk 0 rots between the runs
        fh.write(b"\x00" * 8)

    async def second() -> tuple[dict[int, str], list[int]]:
        done = await ep.begin("f", ident)
        await ep.write_chunk("f", 2, 2 * CHUNK, data[2 * CHUNK :], want[2])
        return done, await ep.verify("f", CHUNK, want)

    done, bad = run(second())
    assert sorted(done) == [0, 1]
    assert bad == [0]


def test_chunk_pieces_are_checked_then_written_in_place(tmp_path: Path) -> None:
    data = os.urandom(CHUNK)
    pieces = [data[i : i + 1000] for i in range(0, CHUNK, 1000)]
    ep = LocalEndpoint(tmp_path)
    run(ep.begin("f", PartIdent(2 * CHUNK, 1, CHUNK, "t")))
    with pytest.raises(IntegrityError):
        run(ep.write_chunk("f", 1, CHUNK, pieces, chunks.digest(b"other")))
    assert (tmp_path / ".f.cnet-manifest").read_text().count("\n") == 1  # nothing recorded
    run(ep.write_chunk("f", 1, CHUNK, pieces, chunks.digest(data)))
    assert (tmp_path / ".f.cnet-part").read_bytes()[CHUNK:] == data


def test_pwrite_all_writes_more_pieces_than_one_call_takes(tmp_path: Path) -> None:
    pieces = [os.urandom(7) for _ in range(local_io.IOV_MAX * 2 + 3)]
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert local_io.pwrite_all(fd, pieces, 5) == 7 * len(pieces)
    finally:
        os.close(fd)
    assert (tmp_path / "f").read_bytes() == bytes(5) + b"".join(pieces)


def test_local_copy_in_the_kernel_hashes_the_source_once_and_not_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_file(tmp_path / "a.bin", 5 * CHUNK + 11)
    real_digest = local_io.digest_range
    hashed: list[tuple[str, int]] = []

    def record(fd: int, offset: int, length: int) -> str:
        hashed.append((os.readlink(f"/proc/self/fd/{fd}"), offset))
        return real_digest(fd, offset, length)

    monkeypatch.setattr(local_io, "digest_range", record)
    r = run(
        copy(
            LocalEndpoint(),
            str(tmp_path / "a.bin"),
            LocalEndpoint(),
            str(tmp_path / "b.bin"),
            CopyOptions(chunk_bytes=CHUNK, small_file_bytes=KIB),
        )
    )
    assert r.verified and r.bytes_sent == len(data)
    assert sorted(hashed) == [
        (str(tmp_path / "a.bin"), c.offset) for c in chunks.plan(len(data), CHUNK)
    ]
    assert (tmp_path / "b.bin").read_bytes() == data


def test_local_resume_reads_kept_chunks_again_and_resends_a_rotten_one(tmp_path: Path) -> None:
    data = make_file(tmp_path / "a.bin", 4 * CHUNK + 5)
    src, dst = LocalEndpoint(), LocalEndpoint()
    st = (tmp_path / "a.bin").stat()
    ident = PartIdent(len(data), st.st_mtime_ns, CHUNK, f"local:{tmp_path / 'a.bin'}")
    dst_path = str(tmp_path / "b.bin")

    async def interrupted() -> None:  # two chunks copied, then the copy dies
        await dst.begin(dst_path, ident)
        for c in chunks.plan(len(data), CHUNK)[:2]:
            await dst.copy_chunk_from(src, str(tmp_path / "a.bin"), dst_path, c)

    run(interrupted())
    with open(tmp_path / ".b.bin.cnet-part", "r+b") as fh:  # chunk 1 rots before the resume
        fh.seek(CHUNK + 9)
        fh.write(b"\xff\xfe")
    opts = CopyOptions(resume=True, chunk_bytes=CHUNK, small_file_bytes=KIB)
    r = run(copy(src, str(tmp_path / "a.bin"), dst, dst_path, opts))
    assert r.verified and r.chunks_resent == 1
    assert r.bytes_sent == len(data) - CHUNK  # chunk 0 kept, 1 resent, 2..4 new
    assert (tmp_path / "b.bin").read_bytes() == data


def test_batch_keeps_modes_and_mtimes(tmp_path: Path) -> None:
    ep = LocalEndpoint(tmp_path)
    (tmp_path / "d").mkdir()
    items = [
        BatchItem(f"d/f{mode:o}", b"x" * mode, chunks.digest(b"x" * mode), mode, 10**18 + mode)
        for mode in (0o600, 0o644, 0o755, 0o640, 0o444, 0o2750)
    ]
    run(ep.write_batch(items))
    for item in items:
        st = os.stat(tmp_path / item.path)
        assert (st.st_mode & 0o7777, st.st_mtime_ns) == (item.mode, item.mtime_ns)
    assert sorted(os.listdir(tmp_path / "d")) == sorted(i.path[2:] for i in items)


@pytest.mark.parametrize("anonymous", [True, False], ids=["o_tmpfile", "part_rename"])
def test_batch_replaces_planted_links_without_following_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anonymous: bool
) -> None:
    # both ways in: an unnamed file linked in, and (no O_TMPFILE) a part file renamed
    monkeypatch.setattr(local_io, "_ANONYMOUS", anonymous and local_io._ANONYMOUS)
    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.write_bytes(b"keep")
    os.symlink(outside, root / "d/f")  # at the final name
    os.symlink(outside, root / "d/.g.cnet-part")  # at the part name
    os.symlink(tmp_path, root / "escape")
    ep = LocalEndpoint(root)
    run(
        ep.write_batch(
            [
                BatchItem("d/f", b"new", chunks.digest(b"new"), 0o644, 1),
                BatchItem("d/g", b"new", chunks.digest(b"new"), 0o644, 1),
            ]
        )
    )
    assert outside.read_bytes() == b"keep"
    assert not (root / "d/f").is_symlink() and (root / "d/f").read_bytes() == b"new"
    assert (root / "d/g").read_bytes() == b"new"
    assert not (root / "d/.f.cnet-part").exists()  # the part name of a replaced file
    with pytest.raises(ForbiddenError):
        run(ep.write_batch([BatchItem("escape/planted", b"x", chunks.digest(b"x"), 0o644, 1)]))
    with pytest.raises(ForbiddenError):
        run(ep.write_batch([BatchItem("d/..", b"x", chunks.digest(b"x"), 0o644, 1)]))
    assert not (tmp_path / "planted").exists()


def test_tree_through_batches_and_kernel_copies_compares_equal(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for i in range(300):
        make_file(src / f"d{i % 7}/f{i}", (i * 37) % (5 * KIB), i)
    make_file(src / "big", MIB + 3)
    opts = CopyOptions(recursive=True, chunk_bytes=CHUNK, small_file_bytes=8 * KIB)
    run(copy(LocalEndpoint(), str(src), LocalEndpoint(), str(tmp_path / "dst"), opts))
    same = run(
        copy(
            LocalEndpoint(),
            str(src),
            LocalEndpoint(),
            str(tmp_path / "dst"),
            CopyOptions(recursive=True, checksum_only=True, chunk_bytes=CHUNK),
        )
    )
    assert same.verified and same.files == 301


def test_batch_reads_answer_in_order_and_do_not_follow_a_planted_link(tmp_path: Path) -> None:
    root = tmp_path / "root"
    files = {f"d{i % 3}/f{i}": os.urandom(i * 10) for i in range(12)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (tmp_path / "secret").write_bytes(b"outside")
    (root / "d0/link").symlink_to(tmp_path / "secret")
    ep = LocalEndpoint(root)
    assert run(ep.read_batch(list(files))) == list(files.values())
    with pytest.raises(TransferError):
        run(ep.read_batch(["d0/f0", "d0/link"]))
    with pytest.raises(ForbiddenError):
        run(ep.read_batch(["../secret"]))


@pytest.mark.parametrize("anonymous", [True, False], ids=["o_tmpfile", "part_rename"])
def test_batch_file_failing_midway_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anonymous: bool
) -> None:
    monkeypatch.setattr(local_io, "_ANONYMOUS", anonymous and local_io._ANONYMOUS)
    (tmp_path / "d").mkdir()

    def fails(*_a: object, **_k: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local_io.os, "utime", fails)
    ep = LocalEndpoint(tmp_path)
    with pytest.raises(TransferError, match="disk full"):
        run(ep.write_batch([BatchItem("d/f", b"new", "", 0o644, 1)]))
    assert os.listdir(tmp_path / "d") == []


def test_big_chunks_are_written_back_and_keep_their_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = local_io.WRITE_BACK_MIN_BYTES
    data = os.urandom(big + CHUNK)
    ep = LocalEndpoint(tmp_path)
    written_back: list[tuple[int, int]] = []
    real = local_io.write_back

    def spy(fd: int, offset: int, length: int) -> None:
        written_back.append((offset, length))
        real(fd, offset, length)

    monkeypatch.setattr(local_io, "write_back", spy)

    async def go() -> list[int]:
        await ep.begin("f", PartIdent(len(data), 1, big, "t"))
        await ep.write_chunk("f", 0, 0, data[:big], chunks.digest(data[:big]))
        await ep.write_chunk("f", 1, big, data[big:], chunks.digest(data[big:]))
        return await ep.verify("f", big, [chunks.digest(data[:big]), chunks.digest(data[big:])])

    assert run(go()) == []
    assert written_back == [(0, big)]  # the small last chunk stays in the page cache
    assert (tmp_path / ".f.cnet-part").read_bytes() == data
