"""Installing the shim scripts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from computenet.errors import ConfigError
from computenet.shims import COMMANDS
from computenet.shims.install import install, uninstall


def test_install_writes_executable_scripts(tmp_path: Path) -> None:
    written = install(tmp_path / "bin")
    assert [p.name for p in written] == list(COMMANDS)
    for path in written:
        text = path.read_text()
        assert text.startswith(f"#!{sys.executable}\n")
        assert f"from computenet.shims.{path.name} import main" in text
        assert path.stat().st_mode & 0o111
    version = subprocess.run(
        [str(tmp_path / "bin" / "sbatch"), "--version"], capture_output=True, text=True
    )
    assert version.returncode == 0 and version.stdout.startswith("slurm ")


def test_install_keeps_others_files_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "squeue").write_text("#!/bin/sh\necho real squeue\n")
    with pytest.raises(ConfigError, match="not computenet shims"):
        install(tmp_path)
    assert not (tmp_path / "sbatch").exists()  # nothing written
    install(tmp_path, force=True)
    assert "computenet.shims.squeue" in (tmp_path / "squeue").read_text()
    install(tmp_path)  # our own files are replaced freely


def test_uninstall_removes_only_shims(tmp_path: Path) -> None:
    install(tmp_path)
    (tmp_path / "other").write_text("keep")
    removed = uninstall(tmp_path)
    assert sorted(p.name for p in removed) == sorted(COMMANDS)
    assert [p.name for p in tmp_path.iterdir()] == ["other"]
