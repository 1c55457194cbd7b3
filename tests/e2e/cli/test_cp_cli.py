"""``cnet cp`` as a user runs it: the local server carries the copy out, the
command follows it and may be interrupted without stopping it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import typer

from computenet.cli.main import app
from computenet.cli.quick import cp_parser
from tests.e2e.cli.conftest import Cnet, _env, as_json

MIB = 2**20
ENTRY = [sys.executable, "-m", "computenet.cli.quick"]  # what the console script runs


def _quick(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``cnet ARGS`` through the console script's entry; says on stderr whether
    the full CLI (Typer) was loaded."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('typer loaded:', 'typer' in sys.modules, file=sys.stderr))\n"
        f"sys.argv = ['cnet', *{list(args)!r}]\n"
        "from computenet.cli.quick import run\n"
        "run()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_the_quick_entry_takes_the_same_options_as_the_full_one() -> None:
    cmd = typer.main.get_command(app).commands["cp"]  # type: ignore[attr-defined]
    full = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("-")}
    full -= {"-h", "--help"}
    quick = {o for a in cp_parser()._actions for o in a.option_strings}
    assert quick == full


def test_cp_runs_in_the_server_from_a_relative_path(cnet: Cnet, cnet_home: Path) -> None:
    work = cnet_home / "work"
    (work / "tree/sub").mkdir(parents=True)
    (work / "tree/sub/a.txt").write_text("alpha")
    data = os.urandom(3 * MIB + 5)
    (work / "big.bin").write_bytes(data)
    first = cnet("cp", "-r", "tree", "tree-copy", "--json", cwd=work)  # starts the server
    assert as_json(first)["files"] == 1
    assert (work / "tree-copy/sub/a.txt").read_text() == "alpha"

    (work / "out").mkdir()
    proc = _quick(cnet_home, "cp", "big.bin", "out/", "--json", cwd=work)
    assert proc.returncode == 0, proc.stderr
    assert "typer loaded: False" in proc.stderr
    body = json.loads(proc.stdout)
    assert body["bytes_total"] == len(data) and body["verified"] is True
    assert (work / "out/big.bin").read_bytes() == data
    listed = as_json(cnet("transfers", "show", body["id"], "--json"))
    assert listed["runner"].startswith("server:")
    assert listed["dest"] == str(work / "out") + "/"


def test_errors_are_one_line_in_both_entries(cnet: Cnet, cnet_home: Path) -> None:
    cnet("server", "start")
    proc = _quick(cnet_home, "cp", "missing.bin", "x.bin", cwd=cnet_home)
    assert proc.returncode == 4
    assert proc.stderr.splitlines()[0].startswith("cnet: error: no such file")
    proc = _quick(cnet_home, "cp", "missing.bin", "x.bin", "--json", cwd=cnet_home)
    assert json.loads(proc.stdout)["error"]["code"] == "not_found"
    proc = _quick(cnet_home, "cp", "--parallel", "99", "a", "b", cwd=cnet_home)
    assert proc.returncode == 2 and "typer loaded: True" in proc.stderr  # the full CLI's usage


def test_ctrl_c_leaves_the_copy_running_and_it_can_be_followed(cnet: Cnet, cnet_home: Path) -> None:
    cnet("server", "start")
    data = os.urandom(6 * MIB)
    (cnet_home / "slow.bin").write_bytes(data)
    proc = subprocess.Popen(
        [*ENTRY, "cp", "--limit", "3M", "slow.bin", "slow-copy.bin"],
        env=_env(cnet_home),
        cwd=cnet_home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # a shell's background job ignores SIGINT; a terminal's does not
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "goes on in the server" in err
    transfer_id = err.split("transfer ", 1)[1].split()[0]
    followed = as_json(cnet("transfers", "show", transfer_id, "--follow", "--json"))
    assert followed["state"] == "completed"
    assert (cnet_home / "slow-copy.bin").read_bytes() == data
