"""A tiny image tarball: a merged-/usr tree with a shell, no Debian needed."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest


def make_tarball(path: Path, *, shell: bool = True, extra: dict[str, bytes] | None = None) -> Path:
    """A root filesystem as mmdebstrap lays it out (``/bin -> usr/bin``),
    holding the host's ``sh`` when ``shell``."""
    with tarfile.open(path, "w") as tar:
        for name in ("usr", "usr/bin", "usr/lib", "etc", "home", "root", "tmp", "opt"):
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        for name, target in (("bin", "usr/bin"), ("lib", "usr/lib")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        files = {"etc/os-release": b'PRETTY_NAME="tiny"\n', "root/.profile": b"\n"}
        files.update(extra or {})
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        if shell:
            sh = shutil.which("sh")
            assert sh is not None
            tar.add(str(Path(sh).resolve()), "usr/bin/sh")
            info = tarfile.TarInfo("usr/bin/bash")
            info.type, info.linkname = tarfile.SYMTYPE, "sh"
            tar.addfile(info)
    return path


@pytest.fixture
def tarball(tmp_path: Path) -> Path:
    return make_tarball(tmp_path / "tiny.tar")
