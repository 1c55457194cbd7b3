"""Where an application is installed, and the shell lines that reach it.

The ``install`` table maps cluster names or globs (``*``, ``hpc-*``) to an
``Install``. Exact names are tried first, then globs in file order: the
same order the script's ``case`` uses, so the broker and the script always
agree on which entry applies. A cluster no entry matches cannot run the
application; the broker says so (``network.feasibility``).

Embedded clusters run on the server's own host, so an entry's ``check``
commands can be looked up there before anything is submitted: a shipped
application whose Debian package is missing is refused with the reason
instead of failing with exit 127 later.
"""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from fnmatch import fnmatchcase

from computenet.apps.schema import AppFile, Install

_GLOB = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return any(c in _GLOB for c in pattern)


def ordered(app: AppFile) -> list[tuple[str, Install]]:
    """The install entries in matching order: exact names, then globs."""
    items = list(app.install.items())
    return [i for i in items if not is_glob(i[0])] + [i for i in items if is_glob(i[0])]


def entry_for(app: AppFile, cluster: str) -> tuple[str, Install] | None:
    for pattern, install in ordered(app):
        if fnmatchcase(cluster, pattern):
            return pattern, install
    return None


def missing_commands(install: Install, path_env: str | None = None) -> list[str]:
    """The entry's ``check`` commands not found on this host (its ``path`` first)."""
    search = path_env if path_env is not None else os.environ.get("PATH", "/usr/bin:/bin")
    if install.path:
        search = f"{install.path}:{search}"
    return [c for c in install.check if shutil.which(c, path=search) is None]


def unusable_here(app: AppFile, clusters: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """For ``clusters`` (name -> kind), the embedded ones the install table
    matches whose ``check`` commands are missing on this host, with why."""
    out = []
    for name, kind in sorted(clusters.items()):
        if kind != "embedded":
            continue
        hit = entry_for(app, name)
        if hit is None or hit[1].kind != "path":
            continue
        missing = missing_commands(hit[1])
        if missing:
            out.append((name, f"{', '.join(missing)} not found on this host"))
    return tuple(out)


def setup_lines(app: AppFile, install: Install) -> list[str]:
    """Shell lines that make the application reachable (before its commands)."""
    lines: list[str] = []
    if install.setup:
        lines.extend(install.setup.rstrip("\n").splitlines())
    if install.module:
        lines.append("type module >/dev/null 2>&1 || . /etc/profile >/dev/null 2>&1")
        lines.append("module load " + " ".join(shlex.quote(m) for m in install.module))
    if install.path:
        lines.append(f'export PATH={shlex.quote(install.path)}:"$PATH"')
    for name, value in install.env.items():
        lines.append(f"export {name}={shlex.quote(value)}")
    for command in install.check:
        quoted = shlex.quote(command)
        lines.append(
            f"command -v {quoted} >/dev/null 2>&1 || {{ echo "
            + shlex.quote(f"{app.name}: {command} not found on cluster ")
            + '"${CN_CLUSTER:-?}" >&2; exit 127; }'
        )
    return lines


def run_line(install: Install) -> str:
    """How the script calls the application's commands under this entry."""
    if install.container is None:
        return "cn_app_main"
    # pyxis's srun options: one step in the image, the submit directory mounted
    return (
        f"srun --nodes=1 --ntasks=1 --container-image={shlex.quote(install.container)} "
        '--container-mounts="$cn_app_workdir" --container-workdir="$cn_app_rundir" '
        'bash -c "$(declare -f cn_app_main); cn_app_main"'
    )
