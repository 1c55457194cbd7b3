"""What every shim shares: the client, Slurm-style errors and option parsing."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from computenet.client import Client

#: The Slurm release whose option set and output formats the shims follow.
SLURM_VERSION = "22.05.11"


class UsageError(Exception):
    """A bad command line: the shim prints it Slurm's way and exits 1."""


class SlurmArgs(argparse.ArgumentParser):
    """argparse with getopt's manners: no automatic -h, long options may be
    abbreviated, and errors raise ``UsageError`` instead of exiting 2."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog=prog, add_help=False, allow_abbrev=True)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def connect() -> Client:
    """The SDK client (starts the local server if none is configured)."""
    from computenet.client import Client

    return Client.connect()


def user_filter(client: Client, user: str | None) -> str | None:
    """The ``user`` parameter for ``GET /jobs``: None for one's own jobs
    (which need no admin rights), else the name."""
    if user is None:
        return None
    me = client.get("/whoami")["name"]
    return None if user == me else user


def split_list(values: Sequence[str] | None) -> list[str]:
    """``-j 1,2 -j 3`` -> ["1", "2", "3"] (Slurm lists are comma-separated)."""
    out: list[str] = []
    for value in values or ():
        out.extend(item.strip() for item in value.split(",") if item.strip())
    return out


def run(prog: str, body: Callable[[list[str]], int], argv: Sequence[str]) -> int:
    """Run a shim: usage errors and computenet errors become one
    ``prog: error: ...`` line and exit code 1, as Slurm's commands do."""
    from computenet.errors import ComputeNetError

    try:
        return body(list(argv))
    except UsageError as exc:
        sys.stderr.write(f'{prog}: {exc}\nTry "{prog} --help" for more information\n')
        return 1
    except ComputeNetError as exc:
        if os.environ.get("CN_DEBUG"):
            raise
        sys.stderr.write(f"{prog}: error: {exc.message}\n")
        return 1
    except BrokenPipeError:
        # the reader went away (squeue | head): not an error worth a trace
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        return 130


def write_lines(lines: Sequence[str]) -> None:
    if lines:
        sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def print_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
