"""The image store: content-addressed blobs, names, unpacking, removal."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from computenet.containers import ImageStore, file_digest
from computenet.errors import ImageError, NotFoundError, SpecError

from .conftest import make_tarball


def test_a_tarball_is_stored_under_its_blake3_digest(tmp_path: Path, tarball: Path) -> None:
    digest = file_digest(tarball)
    store = ImageStore(tmp_path / "site")
    record = store.add_tarball("tiny", tarball, packages=("dash",), suite="bookworm")
    assert record.digest == digest and digest.startswith("blake3-")
    assert store.blob_path(digest).is_file() and not tarball.exists()
    assert [r.name for r in store.list()] == ["tiny"]
    assert store.get("tiny") == record and store.has(record)


def test_two_names_share_one_blob_until_both_are_removed(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    copy = tmp_path / "copy.tar"
    shutil.copy(tarball, copy)
    a = store.add_tarball("a", tarball)
    b = store.add_tarball("b:v2", copy)
    assert a.digest == b.digest
    rootfs = store.rootfs("a")
    store.remove("a")
    assert store.has_blob(a.digest) and rootfs.is_dir()  # b still uses it
    store.remove("b:v2")
    assert not store.has_blob(a.digest) and not rootfs.exists()
    assert store.list() == []


def test_rootfs_is_unpacked_once_with_its_symlinks(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", tarball)
    rootfs = store.rootfs("tiny")
    assert (rootfs / "bin").is_symlink() and (rootfs / "bin/sh").exists()
    assert (rootfs / "etc/os-release").read_text() == 'PRETTY_NAME="tiny"\n'
    (rootfs / "marker").touch()
    assert store.rootfs("tiny") == rootfs and (rootfs / "marker").exists()


def test_unknown_names_and_bad_names(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "site")
    with pytest.raises(NotFoundError, match="no image named 'nope'"):
        store.get("nope")
    with pytest.raises(NotFoundError):
        store.remove("nope")
    for bad in ("Upper", "../x", "a/b", "", "x:"):
        with pytest.raises(SpecError):
            store.find(bad)


def test_a_damaged_tarball_fails_to_unpack_and_leaves_no_rootfs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not a tar file at all" * 100)
    store = ImageStore(tmp_path / "site")
    record = store.add_tarball("bad", bad)
    with pytest.raises(ImageError, match="cannot unpack"):
        store.rootfs("bad")
    assert not (store.root / "rootfs" / record.digest).exists()
    assert [p.name for p in (store.root / "rootfs").iterdir()] == []


def test_a_name_whose_blob_vanished_says_so(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    record = store.add_tarball("tiny", tarball)
    store.blob_path(record.digest).unlink()
    with pytest.raises(ImageError, match="missing from the store"):
        store.rootfs("tiny")


def test_different_content_gets_a_different_digest(tmp_path: Path) -> None:
    one = make_tarball(tmp_path / "1.tar")
    two = make_tarball(tmp_path / "2.tar", extra={"etc/motd": b"hi\n"})
    assert file_digest(one) != file_digest(two)
