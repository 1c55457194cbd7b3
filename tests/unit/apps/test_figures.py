"""Reading performance figures from real applications' output lines."""

from __future__ import annotations

import pytest

from computenet.apps.catalogue import load
from computenet.apps.figures import read_figure
from computenet.model import AppFigure

# Lines as these programs print them (LAMMPS 29Sep2021, GROMACS 2022.5, and
# the summary lines the shipped scripts print after OpenFOAM, QE, PyTorch).
OUTPUTS = {
    "lammps": (
        "Loop time of 0.43 on 1 procs for 200 steps with 4000 atoms\n\n"
        "Performance: 199884.198 tau/day, 462.695 timesteps/s\n95.2% CPU use\n",
        199884.198,
    ),
    "gromacs": (
        "               Core t (s)   Wall t (s)        (%)\n"
        "       Time:        0.809        0.809      100.0\n"
        "                 (ns/day)    (hour/ns)\nPerformance:      107.032        0.224\n",
        107.032,
    ),
    "openfoam": ("steps: 200  execution time: 0.09 s  cell-steps/s: 888889\n", 888889.0),
    "quantum-espresso": (
        "SCF iterations: 7  seconds per SCF iteration: 0.0271429\n",
        0.0271429,
    ),
    "pytorch": ("device: cpu  final loss: 2.1\nsteps: 100  samples/s: 7398.44\n", 7398.44),
}


def _figure(name: str) -> AppFigure:
    f = load().get(name).spec.figure
    assert f is not None
    return AppFigure(f.regex, f.unit, f.higher_is_better, f.stream, f.per)


@pytest.mark.parametrize("name", sorted(OUTPUTS))
def test_each_shipped_figure_reads_its_programs_line(name: str) -> None:
    text, value = OUTPUTS[name]
    reading = read_figure(_figure(name), text)
    assert reading.value == pytest.approx(value)
    assert reading.note is None and reading.line


def test_the_last_match_counts() -> None:
    text = "Performance: 10 tau/day, 1 timesteps/s\nPerformance: 20.5 tau/day, 2 timesteps/s\n"
    assert read_figure(_figure("lammps"), text).value == 20.5


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("ERROR: Lost atoms\n", "no tau/day figure in the job's stdout"),
        ("Performance: 0 tau/day\n", "is not a positive number"),
        ("", "no tau/day figure"),
    ],
)
def test_no_figure_is_none_with_the_reason_never_a_number(text: str, note: str) -> None:
    reading = read_figure(_figure("lammps"), text)
    assert reading.value is None and note in (reading.note or "")


def test_a_regex_without_a_named_group_uses_its_only_group() -> None:
    fig = AppFigure(r"rate=([0-9.]+)", "it/s", True)
    assert read_figure(fig, "x\nrate=3.5\n").value == 3.5
    bad = AppFigure(r"rate=(x", "it/s", True)
    assert "does not compile" in (read_figure(bad, "rate=1").note or "")
