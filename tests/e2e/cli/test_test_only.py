"""``--test-only`` shows how a script was read and why no cluster fits, and
every ``--json`` error is one JSON object, through the real ``cnet`` on the
default network (two embedded clusters: local-a with 2 x 4 cores, local-b
with 2 x 2 cores x 2 threads, neither with GPUs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli.conftest import Cnet

pytestmark = pytest.mark.slow

SCRIPTS = Path(__file__).parent / "scripts"
GiB = 2**30
MiB = 2**20


def run_test_only(cnet: Cnet, name: str) -> tuple[int, dict[str, Any]]:
    proc = cnet("submit", "--test-only", "--json", str(SCRIPTS / name))
    return proc.returncode, json.loads(proc.stdout)


def given(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in spec.items() if v not in (None, [], False)}


@pytest.mark.parametrize(
    ("script", "fields", "runnable", "why"),
    [
        (
            "small_ok.sh",
            {"name": "quick-check", "ntasks": 2, "mem_per_node_bytes": 500 * MiB,
             "time_limit_s": 600},
            True,
            None,
        ),
        (
            "array_sweep.sh",
            {"name": "array_sweep.sh", "ntasks": 1, "mem_per_cpu_bytes": 2000 * MiB,
             "time_limit_s": 1800, "array": "1-100%10", "output": "logs/sweep_%A_%a.out"},
            True,
            None,
        ),
        (
            "gpu_train.sh",
            {"name": "resnet-train", "partition": "gpu", "gres": "gpu:a100:2", "gpus": 2,
             "cpus_per_task": 8, "mem_per_node_bytes": 64 * GiB, "time_limit_s": 2 * 86400,
             "output": "%x-%j.out", "error": "%x-%j.err"},
            False,
            "no partition 'gpu'",
        ),
        (
            "mpi_big.sh",
            {"name": "lammps_melt", "nodes": 4, "ntasks_per_node": 32, "time_limit_s": 12 * 3600,
             "partition": "compute", "account": "chem123", "exclusive": True},
            False,
            "needs 32 CPUs per node, local-a has 4",
        ),
        (
            "many_cpus.sh",
            {"name": "many_cpus.sh", "nodes": 1, "ntasks": 1, "cpus_per_task": 40,
             "mem_per_cpu_bytes": 4 * GiB, "time_limit_s": 36 * 3600,
             "constraint": "skylake|cascadelake"},
            False,
            "skylake|cascadelake",
        ),
        (
            "gpus_any.sh",
            {"name": "gpus_any.sh", "gpus": 1, "time_limit_s": 45 * 60, "qos": "short",
             "dependency": "afterok:123:124"},
            False,
            "needs 1 GPU, local-a has none",
        ),
    ],
)  # fmt: skip
def test_real_scripts_are_read_and_placed_or_refused_with_reasons(
    cnet: Cnet, script: str, fields: dict[str, Any], runnable: bool, why: str | None
) -> None:
    before = len(json.loads(cnet("ls", "--all", "--json").stdout)["jobs"])
    code, out = run_test_only(cnet, script)
    assert code == 0, out
    assert given(out["spec"]) == fields
    placement = out["placement"]
    assert out["runnable"] is runnable
    clusters = {c["cluster"] for c in placement["candidates"]}
    assert clusters == {"local-a", "local-b"}
    if runnable:
        assert placement["chosen"] in clusters
    else:
        assert placement["chosen"] is None
        assert all(c["why_not"] for c in placement["candidates"])
        assert why is not None and why in placement["reason"]
    after = len(json.loads(cnet("ls", "--all", "--json").stdout)["jobs"])
    assert after == before  # nothing was submitted


def test_a_script_that_does_not_parse_is_the_only_failure(cnet: Cnet) -> None:
    code, out = run_test_only(cnet, "broken.sh")
    assert code == 2
    assert out["error"]["code"] == "invalid_spec"
    assert "'two'" in out["error"]["message"] and out["error"]["transient"] is False


def test_infeasible_test_only_in_text_shows_the_parse_and_the_reasons(cnet: Cnet) -> None:
    proc = cnet("submit", "--test-only", str(SCRIPTS / "gpu_train.sh"))
    assert proc.returncode == 0, proc.stderr
    assert "parsed:" in proc.stdout and "gpu:a100:2" in proc.stdout
    assert "no partition 'gpu'" in proc.stdout


@pytest.mark.parametrize(
    ("argv", "code", "exit_code"),
    [
        (["show", "99999", "--json"], "not_found", 4),
        (["cancel", "99999", "--json"], "not_found", 4),
        (["submit", "--json", "--time=abc", "--wrap", "true"], "invalid_spec", 2),
        (["submit", "--json", "-G", "1", "--wrap", "true"], "infeasible", 3),
        (["ls", "--no-such-option", "--json"], "usage", 2),
        (["show", "--json"], "usage", 2),
        (["no-such-command", "--json"], "usage", 2),
    ],
)
def test_every_json_error_is_one_json_object_with_the_usual_exit_code(
    cnet: Cnet, argv: list[str], code: str, exit_code: int
) -> None:
    proc = cnet(*argv)
    assert proc.returncode == exit_code, (proc.stdout, proc.stderr)
    body = json.loads(proc.stdout)
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "transient", "details"}
    assert body["error"]["code"] == code and body["error"]["message"]


def test_without_json_errors_stay_one_line_on_stderr(cnet: Cnet) -> None:
    proc = cnet("show", "99999")
    assert proc.returncode == 4 and proc.stdout == ""
    assert proc.stderr.strip() == "cnet: error: no job 99999"
