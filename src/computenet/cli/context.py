"""Shared CLI plumbing: the client, JSON output, small formatters."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from computenet.client import Client

_client: Client | None = None


def get_client() -> Client:
    """The SDK client for this invocation (starts the local server if needed)."""
    global _client
    if _client is None:
        from computenet.client import Client

        _client = Client.connect()
    return _client


def err_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def out_console() -> Console:
    from rich.console import Console

    return Console(highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def fmt_duration(seconds: float | None) -> str:
    """Slurm's elapsed format: [D-]HH:MM:SS (M:SS under an hour); "-" for none."""
    from computenet.spec.units import format_elapsed

    return "-" if seconds is None else format_elapsed(seconds)


def fmt_time(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))


def exit_status(job: dict[str, Any]) -> int:
    """The exit status ``--wait`` returns, as ``sbatch --wait`` does."""
    code, _, sig = (job.get("exit_code") or "").partition(":")
    try:
        c, s = int(code or 0), int(sig or 0)
    except ValueError:
        c, s = 1, 0
    if c:
        return c
    if s:
        return 128 + s
    return 0 if job.get("state") == "COMPLETED" else 1
