"""The failure classifier on real-looking log tails."""

from __future__ import annotations

import pytest

from computenet.telemetry.diagnosis import JobFacts, diagnose, split_exit

GIB = 2**30


def test_oom_from_state_with_a_memory_hint() -> None:
    d = diagnose(
        JobFacts(
            "OUT_OF_MEMORY",
            "0:9",
            max_rss_bytes=int(3.9 * GIB),
            mem_limit_bytes=4 * GIB,
            stderr_tail="slurmstepd: error: Detected 1 oom-kill event(s) in StepId=42.batch. "
            "Some of your processes may have been killed by the cgroup out-of-memory handler.\n",
        )
    )
    assert d.cause == "out_of_memory"
    assert "peak RSS 3.9 GiB of 4.0 GiB" in d.hint and "--mem=6G" in d.hint
    assert any("oom-kill" in e for e in d.evidence)


def test_sigkill_at_the_memory_limit_is_oom() -> None:
    d = diagnose(JobFacts("FAILED", "137:0", max_rss_bytes=2 * GIB, mem_limit_bytes=2 * GIB))
    assert d.cause == "out_of_memory"


def test_time_limit() -> None:
    d = diagnose(
        JobFacts(
            "TIMEOUT",
            "0:15",
            time_limit_s=3600,
            elapsed_s=3600,
            stderr_tail="slurmstepd: error: *** JOB 77 ON c1n1 CANCELLED AT "
            "2025-01-02T03:04:05 DUE TO TIME LIMIT ***\n",
        )
    )
    assert d.cause == "time_limit" and "--time=01:30:00" in d.hint
    assert any("DUE TO TIME LIMIT" in e for e in d.evidence)


def test_node_failure() -> None:
    assert diagnose(JobFacts("NODE_FAIL", "0:0")).cause == "node_failure"


@pytest.mark.parametrize(
    ("tail", "cause", "in_hint"),
    [
        (
            "/var/spool/slurmd/job00042/slurm_script: line 5: gromacs: command not found\n",
            "command_not_found",
            "'gromacs'",
        ),
        (
            "Lmod has detected the following error:  The following module(s) are unknown: "
            '"cuda/99"\n',
            "command_not_found",
            "module load",
        ),
        ("cat: input/data.csv: No such file or directory\n", "missing_input", "input/data.csv"),
        (
            "ERROR: cannot open file '/scratch/u1/mesh.h5': No such file or directory\n",
            "missing_input",
            "/scratch/u1/mesh.h5",
        ),
        ("bash: /home/u1/results/out.txt: Permission denied\n", "permission_denied", "permissions"),
        (
            "/var/spool/slurmd/job00042/slurm_script: line 3:  1234 Segmentation fault      "
            "(core dumped) ./solver\n",
            "segfault",
            "gdb",
        ),
        (
            "--------------------------------------------------------------------------\n"
            "There are not enough slots available in the system to satisfy the 8\n"
            "slots that were requested by the application:\n  ./a.out\n",
            "mpi_startup",
            "-n",
        ),
        (
            "[c1n1:01234] PMIX ERROR: UNREACHABLE in file server/pmix_server.c at line 2198\n"
            "ORTE was unable to reliably start one or more daemons.\n",
            "mpi_startup",
            "srun",
        ),
    ],
)
def test_log_patterns(tail: str, cause: str, in_hint: str) -> None:
    d = diagnose(JobFacts("FAILED", "1:0", cluster="hpc1", stderr_tail=tail))
    assert d.cause == cause, d
    assert in_hint in d.hint, d.hint
    assert len(d.evidence) >= 2


def test_python_exception_points_at_the_last_frame() -> None:
    tail = (
        "epoch 1 loss 0.3\n"
        "Traceback (most recent call last):\n"
        '  File "/home/u1/train.py", line 88, in <module>\n'
        "    main()\n"
        '  File "/home/u1/train.py", line 80, in main\n'
        "    x = cfg['lr'] / 0\n"
        "ZeroDivisionError: division by zero\n"
    )
    d = diagnose(JobFacts("FAILED", "1:0", stderr_tail=tail))
    assert d.cause == "python_exception"
    assert "line 80" in d.hint and "ZeroDivisionError" in d.hint
    assert "ZeroDivisionError: division by zero" in d.evidence


def test_python_missing_module_and_memory_error() -> None:
    tb = 'Traceback (most recent call last):\n  File "x.py", line 1, in <module>\n'
    d = diagnose(
        JobFacts(
            "FAILED", "1:0", stderr_tail=tb + "ModuleNotFoundError: No module named 'torch.nn'\n"
        )
    )
    assert d.cause == "python_exception" and "pip install torch" in d.hint
    d = diagnose(JobFacts("FAILED", "1:0", stderr_tail=tb + "MemoryError\n"))
    assert d.cause == "out_of_memory"


def test_segfault_from_signal_alone() -> None:
    assert diagnose(JobFacts("FAILED", "0:11")).cause == "segfault"
    assert split_exit("139:0") == (139, 11)


def test_plain_nonzero_exit_and_healthy_jobs() -> None:
    d = diagnose(JobFacts("FAILED", "3:0", stdout_tail="step 1\nstep 2\n"))
    assert d.cause == "nonzero_exit" and "code 3" in d.hint and "step 2" in d.evidence
    assert diagnose(JobFacts("COMPLETED", "0:0")).cause == "completed"
    assert diagnose(JobFacts("CANCELLED", "0:15")).cause == "cancelled"
    assert diagnose(JobFacts("RUNNING")).cause == "running"
    assert diagnose(JobFacts("RUNNING", low_cpu_for_s=3600)).cause == "likely_hung"
    d = diagnose(JobFacts("COMPLETED", "0:0", cpus=8, elapsed_s=100, cpu_time_s=100))
    assert d.cause == "low_efficiency" and "-c 1" in d.hint
