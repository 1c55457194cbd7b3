"""The hpl and stream applications' own shell: input file, figure line, and
the exits that keep a failed HPL from ever becoming a number. A stand-in
`hpcc` writes what the real one writes (hpccoutf.txt with a summary)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from computenet.apps.catalogue import load
from computenet.apps.figures import read_figure
from computenet.apps.params import check_values
from computenet.apps.script import render_body
from computenet.model import AppFigure

FAKE_HPCC = """#!/bin/sh
test -s hpccinf.txt || exit 3
cat > hpccoutf.txt <<CN_END
Begin of Summary section.
Success=$CN_FAKE_SUCCESS
HPL_Tflops=0.0123
StarSTREAM_Triad=10.5
End of Summary section.
CN_END
"""
FAKE_MPIRUN = """#!/bin/sh
[ "$1" = "-np" ] && echo "ranks $2" > ranks.txt && shift 2
exec "$@"
"""


def _run(tmp_path: Path, name: str, success: str, ntasks: int = 6) -> tuple[int, str, Path]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool, text in (("hpcc", FAKE_HPCC), ("mpirun", FAKE_MPIRUN)):
        (bin_dir / tool).write_text(text)
        (bin_dir / tool).chmod(0o755)
    app = load().get(name)
    values = check_values(app.spec, {"n": 1000})
    body = render_body(app.template, name, values, {"name": name})
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = dict(
        os.environ,
        PATH=f"{bin_dir}:{os.environ['PATH']}",
        SLURM_NTASKS=str(ntasks),
        CN_FAKE_SUCCESS=success,
    )
    proc = subprocess.run(
        ["bash", "-c", body], cwd=work, env=env, capture_output=True, text=True, timeout=30
    )
    return proc.returncode, proc.stdout, work


def _figure(name: str) -> AppFigure:
    f = load().get(name).spec.figure
    assert f is not None
    return AppFigure(f.regex, f.unit, f.higher_is_better, f.stream, f.per)


def test_hpl_writes_a_square_grid_and_reports_gflops(tmp_path: Path) -> None:
    code, out, work = _run(tmp_path, "hpl", "1")
    assert code == 0
    assert read_figure(_figure("hpl"), out).value == pytest.approx(12.3)
    lines = (work / "hpccinf.txt").read_text().splitlines()
    assert lines[5].split()[0] == "1000"  # N
    assert (lines[10].split()[0], lines[11].split()[0]) == ("2", "3")  # P x Q for 6 tasks
    assert (work / "ranks.txt").read_text().strip() == "ranks 6"


def test_hpl_that_fails_its_check_exits_with_no_figure(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path, "hpl", "0")
    assert code == 1
    assert read_figure(_figure("hpl"), out).value is None


def test_stream_reports_the_triad_of_all_tasks(tmp_path: Path) -> None:
    code, out, _ = _run(tmp_path, "stream", "1", ntasks=4)
    assert code == 0
    assert read_figure(_figure("stream"), out).value == pytest.approx(42.0)
