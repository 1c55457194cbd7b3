"""Starting and finding job supervisors, and the in-job ``srun``."""

from __future__ import annotations

import os
import shutil
import signal
import sys
from pathlib import Path

import psutil

from computenet.clusters.embedded import srun, supervisor
from computenet.clusters.embedded.supervisor import start_ticks

SUPERVISOR_PATH = Path(supervisor.__file__).resolve()
SRUN_PATH = Path(srun.__file__).resolve()


def spawn_supervisor(job_dir: Path) -> tuple[int, int | None]:
    """Start the job's supervisor in its own session; (pid, start ticks).

    The file is run with ``-I -S``: no site packages, so start-up costs
    a few milliseconds, which is most of a trivial job's cost.
    """
    log = str(job_dir / "supervisor.log")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    argv = [sys.executable, "-I", "-S", str(SUPERVISOR_PATH), str(job_dir)]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
    pid = os.posix_spawn(
        sys.executable,
        argv,
        env,
        file_actions=actions,
        setsid=True,
        setsigmask=(),
        setsigdef=(signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE),
    )
    return pid, start_ticks(pid)


def is_same_process(pid: int | None, ticks: int | None) -> bool:
    """Whether ``pid`` still names the process that started at ``ticks``."""
    if not pid:
        return False
    now = start_ticks(pid)
    if now is None:
        return False
    if ticks is not None and now != ticks:
        return False
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def find_supervisor(job_dir: Path) -> tuple[int, int | None] | None:
    """A supervisor whose command line names ``job_dir`` (after a crash mid-launch)."""
    wanted = str(job_dir)
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if wanted in cmdline and any(
            str(SUPERVISOR_PATH) == a or a.endswith("supervisor") for a in cmdline
        ):
            return proc.pid, start_ticks(proc.pid)
    return None


def kill_job_processes(job_dir: Path) -> int:
    """SIGKILL every process whose environment says it belongs to this job.

    Used only when a supervisor died without cleaning up after its job.
    """
    killed = 0
    wanted = str(job_dir)
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("CN_JOB_DIR") == wanted:
                proc.kill()
                killed += 1
        except psutil.Error:
            continue
    return killed


def reap(pid: int) -> int | None:
    """Collect a finished child supervisor (no zombie); its wait status if it was ours."""
    try:
        got, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return None  # not our child (the server restarted since), init reaps it
    return status if got == pid else None


def install_srun(bin_dir: Path) -> Path:
    """Write the in-job ``srun`` (this interpreter, stdlib only) into ``bin_dir``."""
    target = bin_dir / "srun"
    text = f"#!{sys.executable} -IS\n" + SRUN_PATH.read_text()
    if not target.exists() or target.read_text() != text:
        tmp = bin_dir / f".srun.tmp.{os.getpid()}"
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, target)
    return target


def install_container_exec(bin_dir: Path) -> Path:
    """Write ``cn-container`` (runs a command in an image; see
    ``containers/exec.py``) into ``bin_dir``, for ``srun`` and ``mpirun``."""
    target = bin_dir / "cn-container"
    text = (
        f"#!{sys.executable}\n"
        "import sys\n"
        "from computenet.containers.exec import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    if not target.exists() or target.read_text() != text:
        tmp = bin_dir / f".cn-container.tmp.{os.getpid()}"
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, target)
    return target


def which_mpirun() -> str | None:
    return shutil.which("mpirun")
