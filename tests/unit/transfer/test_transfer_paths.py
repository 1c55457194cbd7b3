from __future__ import annotations

import os
from pathlib import Path

import pytest

from computenet.errors import ForbiddenError
from computenet.transfer.paths import Location, clean_relative, confine, parse_location


def test_site_locations_and_local_paths() -> None:
    assert parse_location("hpc1:data/x") == Location("hpc1", "data/x")
    assert parse_location("hpc1:") == Location("hpc1", ".")
    assert parse_location("./a:b") == Location(None, "./a:b")
    assert parse_location("/abs/path") == Location(None, "/abs/path")
    assert parse_location("plain") == Location(None, "plain")


@pytest.mark.parametrize("bad", ["..", "../x", "a/../../x", "a/..", "/../etc/passwd"])
def test_dotdot_is_refused(bad: str) -> None:
    with pytest.raises(ForbiddenError):
        clean_relative(bad)


def test_absolute_paths_stay_under_the_root(tmp_path: Path) -> None:
    assert confine(tmp_path, "/etc/passwd") == tmp_path.resolve() / "etc/passwd"


def test_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.write_text("x")
    os.symlink(outside, root / "link")
    os.symlink(tmp_path, root / "dirlink")
    with pytest.raises(ForbiddenError):
        confine(root, "link")
    with pytest.raises(ForbiddenError):
        confine(root, "dirlink/secret")
    os.symlink(root / "inside", root / "ok")
    assert confine(root, "ok") == (root / "inside").resolve()
