"""The scontrol shim: hostlists from the job's environment or the command line."""

from __future__ import annotations

import pytest

from computenet.shims import scontrol


def test_show_hostnames_reads_the_jobs_nodelist(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLURM_JOB_NODELIST", "emb-n[1-3],gpu07")
    monkeypatch.setenv("PATH", "")  # no real scontrol to hand anything to
    assert scontrol.main(["show", "hostnames"]) == 0
    assert capsys.readouterr().out == "emb-n1\nemb-n2\nemb-n3\ngpu07\n"
    assert scontrol.main(["show", "hostnames", "a[08-10]"]) == 0
    assert capsys.readouterr().out == "a08\na09\na10\n"
    assert scontrol.main(["show", "hostlist", "n1,n2,n3"]) == 0
    assert capsys.readouterr().out == "n[1-3]\n"


def test_what_it_cannot_do_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SLURM_JOB_NODELIST", raising=False)
    monkeypatch.setenv("PATH", "")
    assert scontrol.main(["show", "hostnames"]) == 1
    assert scontrol.main(["show", "hostnames", "n[1-999999999]"]) == 1
    assert scontrol.main(["update", "JobId=1", "TimeLimit=5"]) == 1
    err = capsys.readouterr().err
    assert err.count("scontrol: ") == 3 and "Traceback" not in err
