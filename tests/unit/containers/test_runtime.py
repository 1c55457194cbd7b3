"""Mount checks, start checks and the bubblewrap command line."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from computenet.containers import ImageStore, bwrap_argv, check_mounts, check_starts
from computenet.containers.runtime import interpreter
from computenet.errors import ImageError, SpecError
from computenet.model import Mount

from .conftest import make_tarball


@pytest.fixture
def roots(tmp_path: Path) -> Path:
    allowed = tmp_path / "allowed"
    (allowed / "data").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    return allowed


def test_mounts_under_an_allowed_root_pass(roots: Path) -> None:
    check_mounts([Mount(str(roots / "data"), "/data"), Mount(str(roots), "/a")], [str(roots)])


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("../secret", "outside the paths"),
        ("data/../../secret", "outside the paths"),
        ("link", "outside the paths"),  # a symlink inside that points outside
        ("data/none", "does not exist"),
    ],
)
def test_mounts_that_escape_are_refused(roots: Path, source: str, message: str) -> None:
    os.symlink(roots.parent / "secret", roots / "link")
    with pytest.raises(SpecError, match=message):
        check_mounts([Mount(os.path.normpath(roots / source), "/x")], [str(roots)])
    with pytest.raises(SpecError, match="outside the paths"):
        check_mounts([Mount(str(roots / "data"), "/x")], [])


def test_a_prefix_of_a_root_is_not_under_it(tmp_path: Path) -> None:
    (tmp_path / "allowed-not").mkdir()
    (tmp_path / "allowed").mkdir()
    with pytest.raises(SpecError, match="outside"):
        check_mounts([Mount(str(tmp_path / "allowed-not"), "/x")], [str(tmp_path / "allowed")])


@pytest.mark.parametrize("target", ["/", "/usr", "/etc", "/proc/"])
def test_mounts_may_not_hide_the_image(roots: Path, target: str) -> None:
    with pytest.raises(SpecError, match="hide the image"):
        check_mounts([Mount(str(roots / "data"), target)], [str(roots)])


def test_start_checks_follow_the_images_symlinks(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", tarball)
    rootfs = store.rootfs("tiny")
    check_starts(rootfs, "/bin/bash", "tiny")  # /bin -> usr/bin, bash -> sh
    check_starts(rootfs, "/usr/bin/sh", "tiny")
    with pytest.raises(ImageError, match="has no /usr/bin/python3"):
        check_starts(rootfs, "/usr/bin/python3", "tiny")
    with pytest.raises(ImageError, match="not executable"):
        check_starts(rootfs, "/etc/os-release", "tiny")


def test_an_image_without_a_shell_cannot_start(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("empty", make_tarball(tmp_path / "e.tar", shell=False))
    with pytest.raises(ImageError, match="has no /bin/sh: a container of it cannot start"):
        check_starts(store.rootfs("empty"), "/bin/sh", "empty")


def test_the_interpreter_is_read_from_the_shebang(tmp_path: Path) -> None:
    script = tmp_path / "s"
    script.write_text("#!/usr/bin/env -S python3 -u\nprint(1)\n")
    assert interpreter(script) == "/usr/bin/env"
    script.write_text("echo no shebang\n")
    assert interpreter(script) == "/bin/sh"


def test_the_command_line_binds_the_image_read_only(tmp_path: Path, tarball: Path) -> None:
    store = ImageStore(tmp_path / "site")
    store.add_tarball("tiny", tarball)
    rootfs = store.rootfs("tiny")
    argv = bwrap_argv(
        rootfs,
        ["./run", "x"],
        mounts=[Mount("/srv/in", "/in", read_only=True), Mount("/srv/out", "/out")],
        binds=["/tmp/job", "/home/ana/work"],
        chdir="/in",
    )
    text = " ".join(argv)
    assert argv[:3] == ["bwrap", "--tmpfs", "/"]
    assert f"--ro-bind {rootfs}/usr /usr" in text and f"--ro-bind {rootfs}/etc /etc" in text
    assert "--symlink usr/bin /bin" in text
    # home and root are fresh, so the job's own directories can be bound there
    assert "--dir /home" in text and "--dir /root" in text and f"{rootfs}/root" not in text
    assert "--bind /tmp /tmp" in text and "--dev-bind /dev /dev" in text
    assert "--bind /tmp/job" not in text  # already under /tmp
    assert "--bind /home/ana/work /home/ana/work" in text
    assert "--ro-bind /srv/in /in" in text and "--bind /srv/out /out" in text
    assert argv[-5:] == ["--chdir", "/in", "--", "./run", "x"]
