"""What an image build asks mmdebstrap for, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.containers import ImageStore, build_image, host_suite
from computenet.containers.build import mmdebstrap_argv
from computenet.errors import ImageError, SpecError


def test_the_host_suite_is_read_from_os_release(tmp_path: Path) -> None:
    release = tmp_path / "os-release"
    release.write_text('NAME="Debian"\nVERSION_CODENAME=bookworm\n')
    assert host_suite(release) == "bookworm"
    assert host_suite(tmp_path / "missing") == "stable"


def test_the_command_names_the_packages_suite_and_mirror(tmp_path: Path) -> None:
    argv = mmdebstrap_argv(("openmpi-bin", "hello"), "bookworm", tmp_path / "i.tar", "http://m/")
    assert argv[0] == "mmdebstrap" and "--variant=apt" in argv
    assert "--include=openmpi-bin,hello" in argv
    assert argv[-3:] == ["bookworm", str(tmp_path / "i.tar"), "http://m/"]


@pytest.mark.parametrize(
    ("name", "packages", "message"),
    [
        ("Bad Name", ["hello"], "image name"),
        ("ok", ["hello", "rm -rf /"], "not a Debian package name"),
        ("ok", ["--foo"], "not a Debian package name"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(
    tmp_path: Path, name: str, packages: list[str], message: str
) -> None:
    store = ImageStore(tmp_path / "site")
    with pytest.raises(SpecError, match=message):
        build_image(store, name, packages)
    assert not store.root.exists()


def test_without_mmdebstrap_the_error_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    store = ImageStore(tmp_path / "site")
    with pytest.raises(ImageError, match="mmdebstrap is not installed"):
        build_image(store, "x", ["hello"])
    assert store.list() == []
