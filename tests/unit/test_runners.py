"""Whether a runner process is gone: a killed process its parent has not
reaped yet (a zombie) is gone, though ``kill(pid, 0)`` still finds it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from computenet import runners


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", "rb") as fh:
        stat = fh.read()
    return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3].decode()


def test_a_running_child_is_alive_and_not_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert runners.alive(proc.pid)
        assert runners.gone(f"{socket.gethostname()}:{proc.pid}") is False
    finally:
        proc.kill()
        proc.wait()


def test_a_killed_child_not_yet_reaped_is_gone() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        os.kill(proc.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _state(proc.pid) != "Z" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(proc.pid) == "Z"
        os.kill(proc.pid, 0)  # the zombie still answers a signal probe
        assert not runners.alive(proc.pid)
        assert runners.gone(f"{socket.gethostname()}:{proc.pid}") is True
    finally:
        proc.wait()
    assert not runners.alive(proc.pid)


def test_other_hosts_and_this_process_are_not_judged() -> None:
    assert runners.gone(f"elsewhere.invalid:{os.getpid()}") is None
    assert runners.gone(runners.this_process()) is None
    assert runners.gone(f"{socket.gethostname()}:notapid") is None
    assert not runners.alive(0)
