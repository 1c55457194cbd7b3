"""The per-job supervisor: runs one batch script and enforces its limits.

Started detached from the server (its own session) as
``python -m computenet.clusters.embedded.supervisor JOBDIR`` (the cluster
runs this file directly with ``-I -S`` to skip site start-up). It imports
only the standard library so it starts in a few milliseconds.

It reads ``JOBDIR/launch.marshal``, runs the script in a new process group
with the job's CPUs, stdout/stderr and environment, and enforces the time
limit (optional early signal, SIGTERM, grace, SIGKILL -> TIMEOUT), the memory
limit (tree RSS polled -> SIGKILL -> OUT_OF_MEMORY), the output limit
(stdout/stderr file size polled -> SIGKILL -> FAILED, the file cut at the
limit with a marker line) and cancellation
(SIGTERM to the supervisor -> TERM, grace, KILL -> CANCELLED). It is a child
subreaper, so every process the job starts, even one that called setsid,
stays its descendant; when the batch script ends, whatever is left is killed,
as Slurm's process tracking does. ``JOBDIR/running.json`` says it started;
the outcome goes to ``JOBDIR/status.json``, with Slurm-style exit code
"code:signal". Both are new files written via tmp + rename (never replacing a
file: on ext4 that forces a flush).

Start-up time is most of a trivial job's cost, so this module avoids
``typing``, ``json``, ``contextlib`` and the ``signal`` wrapper (together
more than half of its start-up): the launch file is marshal (written by the
same interpreter), status files are flat JSON objects written below.
"""

from __future__ import annotations

import marshal
import os
import resource
import sys
import time

try:
    import _signal as signal  # the C module: the same calls without enum set-up
except ImportError:  # pragma: no cover - other interpreters
    import signal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PR_SET_CHILD_SUBREAPER = 36
STATUS_VERSION = 1
_WATCHED = {signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
_RESET = _WATCHED | {signal.SIGPIPE, signal.SIGXFSZ, signal.SIGUSR1, signal.SIGUSR2}
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def write_status(path: str, data: dict[str, Any]) -> None:
    """A flat JSON object, written to a new file via tmp + rename."""
    body = ", ".join(f"{_json_value(k)}: {_json_value(v)}" for k, v in data.items())
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write("{" + body + "}")
    os.replace(tmp, path)


def _quietly(call: Any, *args: Any) -> None:
    """Signal delivery to a process that may have gone: ESRCH is not an error."""
    try:
        call(*args)
    except OSError:
        return


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (identity with the pid)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[19])


def descendants(root: int) -> list[int]:
    """Pids below ``root`` (a scan of /proc: the kernel's children files are optional)."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(name))
    found: list[int] = []
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def tree_rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE_BYTES
        except (OSError, IndexError, ValueError):
            continue
    return total


def signal_tree(sig: int, also_group: int | None = None) -> None:
    if also_group is not None:
        _quietly(os.killpg, also_group, sig)
    for pid in descendants(os.getpid()):
        _quietly(os.kill, pid, sig)


def exit_code_of(wait_status: int) -> str:
    if os.WIFSIGNALED(wait_status):
        return f"0:{os.WTERMSIG(wait_status)}"
    return f"{os.waitstatus_to_exitcode(wait_status)}:0"


def become_subreaper() -> None:
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # without it, processes that escape via setsid may outlive the job


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def full_output_disk(spec: dict[str, Any]) -> str | None:
    """Why a failed job's output may be missing: its file system is full."""
    for path in sorted({spec["stdout"], spec["stderr"]}):
        try:
            fs = os.statvfs(os.path.dirname(path) or ".")
        except OSError:
            continue
        if fs.f_bavail * fs.f_frsize < 64 * 1024:
            return f"no space left on the file system holding {path}"
    return None


def open_output(path: str, append: bool) -> int:
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    return os.open(path, flags, 0o644)


class Supervisor:
    def __init__(self, job_dir: str, launch: dict[str, Any]) -> None:
        self.job_dir = job_dir
        self.launch = launch
        self.status_path = os.path.join(job_dir, "status.json")
        self.job_pid = 0
        self.wait_status: int | None = None
        self.outcome: str | None = None  # CANCELLED | TIMEOUT | OUT_OF_MEMORY
        self.reason: str | None = None
        self.kill_at: float | None = None
        self.max_rss_bytes = 0
        self.start_time = time.time()
        self.cut_outputs: list[str] = []  # files to cut at the output limit

    def status(self, state: str, **extra: Any) -> dict[str, Any]:
        return {
            "version": STATUS_VERSION,
            "state": state,
            "supervisor_pid": os.getpid(),
            "supervisor_ticks": start_ticks(os.getpid()),
            "job_pid": self.job_pid,
            "start_time": self.start_time,
            **extra,
        }

    def fail(self, reason: str) -> int:
        write_status(
            self.status_path,
            self.status("FAILED", exit_code="1:0", reason=reason, end_time=time.time()),
        )
        return 1

    def spawn(self) -> None:
        spec = self.launch
        cpus = spec.get("cpus")
        if cpus:
            _quietly(os.sched_setaffinity, 0, cpus)  # refused in some containers
        os.chdir(spec["cwd"])
        append = spec.get("open_mode") == "append"
        out_fd = open_output(spec["stdout"], append)
        err_fd = out_fd if spec["stderr"] == spec["stdout"] else open_output(spec["stderr"], append)
        in_fd = os.open(spec.get("stdin") or os.devnull, os.O_RDONLY)
        actions = [
            (os.POSIX_SPAWN_DUP2, in_fd, 0),
            (os.POSIX_SPAWN_DUP2, out_fd, 1),
            (os.POSIX_SPAWN_DUP2, err_fd, 2),
        ]
        argv = spec["argv"]
        self.job_pid = os.posix_spawn(
            argv[0],
            argv,
            spec["env"],
            file_actions=actions,
            setpgroup=0,
            setsigmask=(),
            setsigdef=_RESET,
        )
        for fd in {out_fd, err_fd, in_fd}:
            os.close(fd)

    def run(self) -> int:
        become_subreaper()
        signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            self.spawn()
        except OSError as exc:
            return self.fail(f"cannot start the batch script: {exc}")
        write_status(os.path.join(self.job_dir, "running.json"), self.status("RUNNING"))
        self.watch()
        self.clean_up()
        self.cut_at_limit()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.max_rss_bytes = max(self.max_rss_bytes, usage.ru_maxrss * 1024)
        assert self.wait_status is not None
        exit_code = exit_code_of(self.wait_status)
        state = self.outcome or ("COMPLETED" if exit_code == "0:0" else "FAILED")
        if state == "FAILED" and self.reason is None:
            self.reason = full_output_disk(self.launch)
        write_status(
            self.status_path,
            self.status(
                state,
                exit_code=exit_code,
                reason=self.reason,
                end_time=time.time(),
                max_rss_bytes=self.max_rss_bytes,
                cpu_time_s=usage.ru_utime + usage.ru_stime,
            ),
        )
        return 0

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.job_pid:
                self.wait_status = status

    def watch(self) -> None:
        spec = self.launch
        limit_s = spec.get("time_limit_s")
        deadline = self.start_time + limit_s if limit_s else None
        sig: dict[str, Any] = spec.get("signal") or {}
        signal_at = (deadline - sig["seconds_before"]) if sig and deadline else None
        grace_s = float(spec.get("kill_grace_s", 5.0))
        mem_limit: int = spec.get("mem_limit_bytes") or 0
        out_limit: int = spec.get("max_output_bytes") or 0
        outputs = sorted({spec["stdout"], spec["stderr"]})
        poll_s = 0.05
        next_poll = self.start_time + poll_s if mem_limit or out_limit else None
        while True:
            self.reap()
            if self.wait_status is not None:
                return
            now = time.time()
            if signal_at is not None and now >= signal_at:
                signal_at = None
                target = self.job_pid if sig["batch_only"] else None
                self.send(sig["number"], target)
            if deadline is not None and now >= deadline and self.outcome is None:
                self.stop("TIMEOUT", "time limit reached", grace_s)
            if self.kill_at is not None and now >= self.kill_at:
                self.kill_at = None
                signal_tree(signal.SIGKILL, self.job_pid)
            if next_poll is not None and now >= next_poll:
                if out_limit and self.outcome is None:
                    self.check_outputs(outputs, out_limit)
                rss = tree_rss_bytes(descendants(os.getpid())) if mem_limit else 0
                self.max_rss_bytes = max(self.max_rss_bytes, rss)
                if mem_limit and rss > mem_limit and self.outcome is None:
                    self.outcome, self.reason = (
                        "OUT_OF_MEMORY",
                        (f"memory {rss} bytes over the limit of {mem_limit} bytes"),
                    )
                    signal_tree(signal.SIGKILL, self.job_pid)
                poll_s = min(poll_s * 2, float(spec.get("mem_poll_s", 0.5)))
                next_poll = now + poll_s
            wake = [
                t
                for t in (
                    signal_at,
                    deadline if self.outcome is None else None,
                    self.kill_at,
                    next_poll,
                )
                if t is not None
            ]
            timeout = max(0.0, min(wake) - now) if wake else None
            got = (
                signal.sigtimedwait(_WATCHED, timeout)
                if timeout is not None
                else signal.sigwaitinfo(_WATCHED)
            )
            if got is not None and got.si_signo != signal.SIGCHLD and self.outcome is None:
                self.stop("CANCELLED", "cancelled", grace_s)

    def check_outputs(self, paths: list[str], limit: int) -> None:
        """Stop the job once one of its output files passes ``limit`` bytes."""
        for path in paths:
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            if size > limit:
                self.outcome = "FAILED"
                self.reason = (
                    f"output limit: {os.path.basename(path)} passed {limit} bytes "
                    "(max_output_bytes); the job was stopped and the file cut there"
                )
                self.cut_outputs = [p for p in paths if _size(p) > limit]
                signal_tree(signal.SIGKILL, self.job_pid)
                return

    def cut_at_limit(self) -> None:
        """Once the job is gone: cut each file that passed the limit, and say so in it."""
        limit = self.launch.get("max_output_bytes") or 0
        for path in self.cut_outputs:
            try:
                os.truncate(path, limit)
                with open(path, "ab") as f:
                    f.write(
                        f"\n[computenet: output cut at {limit} bytes, "
                        "the cluster's output limit; the job was stopped]\n".encode()
                    )
            except OSError:
                pass  # the reason in the job's status says what happened

    def send(self, sig: int, pid: int | None) -> None:
        if pid is not None:
            _quietly(os.kill, pid, sig)
        else:
            signal_tree(sig, self.job_pid)

    def stop(self, outcome: str, reason: str, grace_s: float) -> None:
        self.outcome, self.reason = outcome, reason
        signal_tree(signal.SIGCONT, self.job_pid)
        signal_tree(signal.SIGTERM, self.job_pid)
        self.kill_at = time.time() + grace_s

    def clean_up(self) -> None:
        """Kill what the batch script left behind and reap it (nothing leaks)."""
        for _ in range(100):
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return  # no children: as a subreaper, no descendants either
            if pid:
                continue
            signal_tree(signal.SIGKILL)
            time.sleep(0.01)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: supervisor JOBDIR", file=sys.stderr)
        return 2
    job_dir = os.path.abspath(argv[1])
    with open(os.path.join(job_dir, "launch.marshal"), "rb") as f:
        # bandit B302: written by the server in its 0700 job dir
        launch = marshal.load(f)  # nosec B302
    return Supervisor(job_dir, launch).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
