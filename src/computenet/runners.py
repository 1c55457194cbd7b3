"""Who runs a long piece of work (a server-run copy, an image build): a process
named ``host:pid``, so that another process can tell whether it is gone."""

from __future__ import annotations

import os
import socket


def this_process() -> str:
    """This process's name as a runner: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


def gone(runner: str) -> bool | None:
    """Whether the process named ``runner`` (``host:pid``) has ended: None when
    it is another machine's (that one reports for itself) or this very process
    (only the caller knows what it runs)."""
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return None
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # alive, under another user
    return False
