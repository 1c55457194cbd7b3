"""srun's command line: which words are options, and the job it becomes."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from computenet.shims.common import UsageError
from computenet.shims.srun import batch_options, parse


def test_options_end_at_the_command() -> None:
    req = parse(["-n", "4", "-N2", "-c", "2", "--mem=1G", "-l", "python", "-n", "x"])
    assert req.job == ["--ntasks=4", "--nodes=2", "--cpus-per-task=2", "--mem=1G"]
    assert req.own == {"label": None}
    assert req.command == ["python", "-n", "x"]


def test_double_dash_and_clustered_flags() -> None:
    req = parse(["-lu", "-t5", "--", "-weird-command", "arg"])
    assert req.job == ["--time=5"]
    assert "label" in req.own
    assert req.command == ["-weird-command", "arg"]


def test_abbreviated_long_options() -> None:
    assert parse(["--ntasks-per-n=2", "true"]).job == ["--ntasks-per-node=2"]
    with pytest.raises(UsageError, match="ambiguous"):
        parse(["--ntasks-per", "2", "true"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus", "true"], "unrecognized option '--bogus'"),
        (["-n"], "option requires an argument -- 'n'"),
        (["--pty", "bash"], "--pty is not supported"),
        (["-Y", "true"], "invalid option -- 'Y'"),
    ],
)
def test_errors(argv: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse(argv)


def test_batch_options_wrap_the_command_exactly(tmp_path: Path) -> None:
    words = ["printf", "%s\n", "a b", "it's", "$(rm -rf /)", "line\nbreak"]
    req = parse(["-n", "2", "--mpi=pmix", "-l", *words])
    options, out, err = batch_options(req, tmp_path, "tok")
    wrap = next(o for o in options if o.startswith("--wrap="))[len("--wrap=") :]
    assert shlex.split(wrap) == ["srun", "--mpi=pmix", "--label", "--", *words]
    assert options[0] == "--job-name=printf"
    assert (out, err) == (tmp_path / "tok.out", tmp_path / "tok.err")
    assert f"--output={out}" in options and f"--error={err}" in options


def test_batch_options_keep_the_users_files_and_name(tmp_path: Path) -> None:
    req = parse(["-J", "mine", "-o", "o.txt", "-i", "in.txt", "hostname"])
    options, out, err = batch_options(req, tmp_path, "tok")
    assert out == Path("o.txt") and err == tmp_path / "tok.err"
    assert "--job-name=mine" in options and "--input=in.txt" in options
    assert not any(o.startswith("--job-name=hostname") for o in options)
