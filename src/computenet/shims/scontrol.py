"""``scontrol``: the parts batch scripts call from inside a job.

``scontrol show hostnames [HOSTLIST]`` prints one host name a line, from
the list given or, without one, the job's ``SLURM_JOB_NODELIST`` (as Slurm's
does); ``show hostlist NAMES`` compresses. These need no server: the shim
is also what PSI/J's and others' scripts find on PATH inside a job on an
embedded cluster, which has no Slurm. Anything else goes to the next
``scontrol`` on PATH (a real Slurm's), or is refused with a Slurm-style
one-line error when there is none.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from computenet.shims.common import SLURM_VERSION, UsageError, run, write_lines
from computenet.shims.hostlist import compress, expand

PROG = "scontrol"
_SUPPORTED = "show hostnames [LIST], show hostlist LIST"


def _body(argv: list[str]) -> int:
    words = [a for a in argv if a not in ("-o", "--oneliner", "-Q", "--quiet")]
    if words[:1] in (["-V"], ["--version"], ["version"]):
        write_lines([f"slurm {SLURM_VERSION}"])
        return 0
    if len(words) < 2 or words[0] != "show":
        raise UsageError(f"only {_SUPPORTED} are supported here")
    what, rest = words[1].lower(), words[2:]
    if what in ("hostnames", "hostname"):
        text = ",".join(rest) if rest else os.environ.get("SLURM_JOB_NODELIST", "")
        if not text:
            raise UsageError("no hostlist given and SLURM_JOB_NODELIST is not set")
        write_lines(expand(text))
        return 0
    if what == "hostlist" and rest:
        write_lines([compress(n for word in rest for n in word.split(","))])
        return 0
    raise UsageError(f"scontrol show {what}: only {_SUPPORTED} are supported here")


def _real_scontrol() -> str | None:
    me = os.path.realpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        candidate = os.path.join(folder or ".", PROG)
        if os.access(candidate, os.X_OK) and os.path.realpath(candidate) != me:
            return candidate
    return None


def main(argv: Sequence[str]) -> int:
    words = [a.lower() for a in argv if not a.startswith("-")]
    ours = words[:1] == ["version"] or words[:2] in (
        ["show", "hostnames"],
        ["show", "hostname"],
        ["show", "hostlist"],
    )
    if not ours and "-V" not in argv and "--version" not in argv:
        real = _real_scontrol()
        if real is not None:
            os.execv(real, [real, *argv])
    return run(PROG, _body, argv)
