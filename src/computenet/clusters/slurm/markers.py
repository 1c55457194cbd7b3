"""Start markers: a job's own record, on the cluster's filesystem, that it ran.

``find(tag)`` must answer "did this tag's sbatch get through?" even after
slurmctld has forgotten the job (MinJobAge after its end, 300 s by default)
on a cluster without accounting. So the batch script records, as its first
command, its tag and job id in a file that outlives the job::

    $HOME/.computenet/jobs/<cluster>/<tag>      holds "<tag> <job id>\\n"

in the home of the account the job runs as (the one that submitted it),
where ``<cluster>`` is the cluster's name in this network and ``<tag>``
carries the network's id, so two networks or two clusters sharing a home
never read each other's markers. The job id is the one sbatch printed (the
array job's id for an array element). The file is written to a temporary
name and renamed, so a reader sees a whole line or none; the line never
fails the job nor prints anything.

Bounded by age: the same line removes that directory's markers older than
``MARKER_DAYS`` days (``find -mtime``), so a cluster keeps at most the
markers of the jobs started in that window. A server that comes back later
than that no longer recognises an unrecorded job that has also left
squeue and accounting.

Only POSIX-shell scripts (``sh``, ``bash``, ``dash``, ``ksh``, ``zsh``
shebangs) and ``--wrap`` commands get the line; a script for another
interpreter (Python, Perl) is sent unchanged and is found by squeue and
sacct alone.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from computenet.model import JobSpec

#: markers older than this many days are removed by the next job that starts
MARKER_DAYS = 30
_SHELLS = {"sh", "bash", "dash", "ksh", "zsh"}
#: the account's home, also when the job's environment has no HOME (--export=NONE)
_HOME = '"${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"'
_JOB_ID = re.compile(r"^[0-9]+$")


def _directory(cluster: str) -> str:
    return f"{_HOME}/.computenet/jobs/{shlex.quote(cluster)}"


def marker_line(cluster: str, tag: str) -> str:
    """The shell line that records ``tag`` and the job id (see the module docstring)."""
    t = shlex.quote(tag)
    return (
        f'(cn_d={_directory(cluster)} && mkdir -p "$cn_d" && '
        f"printf '%s %s\\n' {t} \"${{SLURM_ARRAY_JOB_ID:-$SLURM_JOB_ID}}\" "
        f'> "$cn_d"/{t}.$$ && mv -f "$cn_d"/{t}.$$ "$cn_d"/{t} && '
        f'find "$cn_d" -maxdepth 1 -type f -mtime +{MARKER_DAYS} -delete'
        ") >/dev/null 2>&1 || :"
    )


def read_argv(cluster: str, tag: str) -> list[str]:
    """One command that prints ``tag``'s marker, or nothing when there is none;
    it exits 0 either way (a non-zero exit means it could not look)."""
    script = f'cat -- {_directory(cluster)}/"$1" 2>/dev/null; exit 0'
    return ["sh", "-c", script, "sh", tag]


def parse_marker(text: str, tag: str) -> str | None:
    """The job id a marker records for ``tag``; None for no marker or another tag's."""
    fields = text.split()
    if len(fields) == 2 and fields[0] == tag and _JOB_ID.match(fields[1]):
        return fields[1]
    return None


def _runs_in_shell(script: str) -> bool:
    first = script.split("\n", 1)[0]
    if not first.startswith("#!"):
        return False
    words = first[2:].split()
    if words and words[0].rsplit("/", 1)[-1] == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
    return bool(words) and words[0].rsplit("/", 1)[-1] in _SHELLS


def _insert(script: str, line: str) -> str:
    """``line`` before the script's first command: after the shebang and the
    leading comments, where sbatch reads ``#SBATCH`` directives."""
    lines = script.splitlines(keepends=True)
    at = len(lines)
    for i, text in enumerate(lines):
        stripped = text.strip()
        if i > 0 and stripped and not stripped.startswith("#"):
            at = i
            break
    if at == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    return "".join([*lines[:at], line + "\n", *lines[at:]])


def marked(spec: JobSpec, cluster: str, tag: str) -> JobSpec:
    """``spec`` with the marker line as its script's first command, when the
    script runs in a POSIX shell or the job is a ``--wrap`` command."""
    line = marker_line(cluster, tag)
    if spec.script is not None:
        if not _runs_in_shell(spec.script):
            return spec
        return replace(spec, script=_insert(spec.script, line))
    if spec.command is not None:
        return replace(spec, command=f"{line}\n{spec.command}")
    return spec
