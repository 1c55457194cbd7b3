"""The guarantees of docs/transfer.md for copies the server runs: a server killed
in the middle, a part file rotting meanwhile, a source changing, a full disk."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.conftest import Cnet, as_json

MIB = 2**20
CHUNK = 8 * MIB  # the default chunk


def _show(cnet: Cnet, transfer_id: str) -> dict[str, Any]:
    return as_json(cnet("transfers", "show", transfer_id, "--json"))


def _until(cnet: Cnet, transfer_id: str, ok: Any, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        row = _show(cnet, transfer_id)
        if ok(row):
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.1)


def _detached(cnet: Cnet, *args: str) -> str:
    return str(as_json(cnet("cp", "--detach", "--json", *args))["id"])


def _server_pid(home: Path) -> int:
    info = json.loads((home / ".local/state/computenet/server.json").read_text())
    return int(info["pid"])


def test_server_killed_mid_copy_then_resume_resends_only_what_is_missing_or_rotten(
    cnet: Cnet, cnet_home: Path
) -> None:
    cnet("server", "start")
    data = os.urandom(3 * CHUNK)
    src, dst = cnet_home / "kill.bin", cnet_home / "kill-copy.bin"
    src.write_bytes(data)
    transfer_id = _detached(cnet, "--limit", "6M", "--parallel", "1", str(src), str(dst))
    _until(cnet, transfer_id, lambda r: r["chunks_verified"] >= 1)
    os.kill(_server_pid(cnet_home), signal.SIGKILL)
    time.sleep(0.2)
    part = cnet_home / ".kill-copy.bin.cnet-part"
    assert part.exists() and not dst.exists()
    manifest = (cnet_home / ".kill-copy.bin.cnet-manifest").read_text().splitlines()
    kept = len([line for line in manifest[1:] if line.split(" ")[0].isdigit()])
    assert kept >= 1  # chunk 0 (parallel 1: the first) arrived and was recorded
    with open(part, "r+b") as fh:  # a verified chunk rots on disk while no one runs
        fh.write(b"rot")

    cnet("server", "start")
    row = _show(cnet, transfer_id)
    assert row["state"] == "failed" and "interrupted" in row["error"]
    resumed = cnet("transfers", "resume", transfer_id, "--json", timeout=60)
    result = as_json(resumed)
    assert dst.read_bytes() == data
    assert result["chunks_resent"] == 1  # the rotten chunk, found by the end check
    # the chunks that arrived before the kill stay, but for the rotten one
    assert result["bytes_sent"] == len(data) - (kept - 1) * CHUNK
    assert not part.exists()


def test_a_source_changing_during_a_server_copy_fails_it_and_drops_the_part(
    cnet: Cnet, cnet_home: Path
) -> None:
    cnet("server", "start")
    src, dst = cnet_home / "moving.bin", cnet_home / "moving-copy.bin"
    src.write_bytes(os.urandom(3 * CHUNK))
    transfer_id = _detached(cnet, "--limit", "8M", "--parallel", "1", str(src), str(dst))
    _until(cnet, transfer_id, lambda r: r["bytes_done"] > 0)
    with open(src, "ab") as fh:
        fh.write(b"more")
    row = _until(cnet, transfer_id, lambda r: r["state"] != "running")
    assert row["state"] == "failed"
    assert "changed during transfer" in row["error"]
    assert not dst.exists()
    assert not (cnet_home / ".moving-copy.bin.cnet-part").exists()


def test_a_full_disk_fails_the_copy_at_once_and_leaves_nothing(cnet: Cnet, cnet_home: Path) -> None:
    full = cnet_home / "full"
    full.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(full)], capture_output=True
    )
    if mount.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.strip()!r}")
    try:
        (cnet_home / "wide.bin").write_bytes(os.urandom(3 * MIB))
        proc = cnet("cp", str(cnet_home / "wide.bin"), str(full / "wide.bin"))
        assert proc.returncode == 10, proc.stderr
        assert proc.stderr.strip() == "cnet: error: destination disk full while writing " + str(
            full / "wide.bin"
        )
        assert os.listdir(full) == []
    finally:
        subprocess.run(["umount", str(full)], check=False)
