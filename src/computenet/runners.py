"""Who runs a long piece of work (a server-run copy, an image build): a process
named ``host:pid``, so that another process can tell whether it is gone."""

from __future__ import annotations

import os
import socket


def this_process() -> str:
    """This process's name as a runner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs. A process that was killed but not yet
    reaped by its parent is a zombie: ``kill(pid, 0)`` still succeeds on it,
    yet it runs nothing and never will, so it counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, under another user
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc here: kill(pid, 0) is all there is to go on
    # The state follows the command name, which is in parentheses and may
    # itself hold spaces and parentheses.
    state = stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3]
    return state not in (b"Z", b"X")


def gone(runner: str) -> bool | None:
    """Whether the process named ``runner`` (``host:pid``) has ended: None when
    it is another machine's (that one reports for itself) or this very process
    (only the caller knows what it runs)."""
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return None
    return not alive(int(pid))
