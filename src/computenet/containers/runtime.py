"""Running a command in an image with bubblewrap (``bwrap``).

bubblewrap needs no daemon and no image format: it makes a mount namespace
whose root is the image's unpacked root filesystem and execs the command.
The container shares the host's network, PID and IPC namespaces, ``/tmp``
and ``/dev`` (with ``/dev/shm``): MPI ranks in separate containers, started by the host's
launcher, then reach each other and their launcher exactly as bare
processes do. As a user other than root, bwrap uses a user namespace (the
kernel must allow unprivileged ones); the job keeps its own uid inside.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from collections.abc import Sequence
from pathlib import Path

from computenet.errors import ImageError, SpecError
from computenet.model import Mount

#: where a mount may not land: it would hide what the container runs on
_RESERVED_TARGETS = frozenset({"/", "/proc", "/dev", "/usr", "/bin", "/lib", "/etc", "/sbin"})


#: top-level directories the runtime makes itself
_OWN_DIRS = frozenset({"dev", "proc", "tmp", "run", "sys"})
#: made empty whatever the image holds there, so the job's own directories
#: (under /home or /root) and mounts can be bound at their host paths
_FRESH_DIRS = frozenset({"home", "root", "mnt", "media", "srv"})


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


def check_mounts(mounts: Sequence[Mount], allowed_roots: Sequence[str]) -> None:
    """Every mount's host path, with symlinks and ``..`` resolved, lies under
    one of ``allowed_roots``; no mount covers the image's system directories.
    Raises SpecError naming the first offending mount."""
    roots = [os.path.realpath(r) for r in allowed_roots]
    for m in mounts:
        real = os.path.realpath(m.source)
        if not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
            shown = ", ".join(allowed_roots) or "none"
            raise SpecError(
                f"--container-mounts: {m.source} is outside the paths this site allows "
                f"to be mounted ({shown})",
                option="container-mounts",
            )
        if posixpath.normpath(m.target) in _RESERVED_TARGETS:
            raise SpecError(
                f"--container-mounts: {m.target} would hide the image's own files",
                option="container-mounts",
            )
        if not os.path.exists(real):
            raise SpecError(
                f"--container-mounts: {m.source} does not exist", option="container-mounts"
            )


def interpreter(script: Path) -> str:
    """The program a script's ``#!`` line names (``/bin/sh`` without one)."""
    try:
        with script.open("rb") as f:
            first = f.readline(512)
    except OSError:
        return "/bin/sh"
    if not first.startswith(b"#!"):
        return "/bin/sh"
    words = first[2:].decode("utf-8", "replace").split()
    return words[0] if words else "/bin/sh"


def check_starts(rootfs: Path, program: str, image: str) -> None:
    """The image holds ``program`` (resolving its symlinks inside the image),
    so a container of it can start; else ImageError with the reason."""
    if not (rootfs / "bin").exists() and not (rootfs / "usr").is_dir():
        raise ImageError(f"image {image} has no root filesystem (no /usr): it cannot start")
    if not program.startswith("/"):
        return  # found through PATH inside the container
    path = program
    for _ in range(40):
        found = _lookup(rootfs, path)
        if found is None:
            raise ImageError(f"image {image} has no {program}: a container of it cannot start")
        if not found.is_symlink():
            if not os.access(found, os.X_OK):
                raise ImageError(f"image {image}: {program} is not executable")
            return
        link = os.readlink(found)
        path = link if link.startswith("/") else posixpath.join(posixpath.dirname(path), link)
        path = posixpath.normpath(path)
    raise ImageError(f"image {image}: {program} is a symlink loop")


def _lookup(rootfs: Path, path: str) -> Path | None:
    """``path`` inside the image, following symlinks of its parent directories
    relative to the image's root (``/bin -> usr/bin``)."""
    current = "/"
    parts = [p for p in path.split("/") if p]
    for i, part in enumerate(parts):
        candidate = posixpath.join(current, part)
        host = rootfs / candidate.lstrip("/")
        if i < len(parts) - 1 and host.is_symlink():
            link = os.readlink(host)
            target = link if link.startswith("/") else posixpath.join(current, link)
            current = posixpath.normpath(target)
            continue
        if not os.path.lexists(host):
            return None
        current = candidate
    return rootfs / current.lstrip("/")


def bwrap_argv(
    rootfs: Path,
    command: Sequence[str],
    *,
    mounts: Sequence[Mount] = (),
    binds: Sequence[str] = (),
    chdir: str,
    bwrap: str = "bwrap",
) -> list[str]:
    """The argv that runs ``command`` in ``rootfs``: ``binds`` (host paths the
    job needs, seen at the same path), then the user's ``mounts``. The
    image's root is read-only."""
    # The image is read-only (one unpacked copy serves every job). bubblewrap
    # 0.8 has no overlays, so the root is a tmpfs holding the image's
    # top-level entries: its directories bound read-only, its symlinks
    # (``/bin -> usr/bin``) copied, its empty directories made afresh, so a
    # mount may land on a new top-level path (``/data``). Scratch space is the
    # host's /tmp, the job's directories and the user's mounts.
    argv = [bwrap, "--tmpfs", "/"]
    for entry in sorted(os.scandir(rootfs), key=lambda e: e.name):
        where = "/" + entry.name
        if entry.name in _OWN_DIRS:
            continue
        if entry.is_symlink():
            argv += ["--symlink", os.readlink(entry.path), where]
        elif entry.name in _FRESH_DIRS:
            argv += ["--dir", where]
        elif entry.is_dir() and any(os.scandir(entry.path)):
            argv += ["--ro-bind", entry.path, where]
        elif entry.is_dir():
            argv += ["--dir", where]
        else:
            argv += ["--ro-bind", entry.path, where]
    argv += [
        # the host's /dev, as Apptainer does: GPUs and interconnect devices
        # stay reachable, and /dev/shm is shared by MPI ranks in other containers
        "--dev-bind",
        "/dev",
        "/dev",
        "--proc",
        "/proc",
        "--ro-bind",
        "/sys",
        "/sys",  # hwloc (MPI) reads the CPU topology there
        "--bind",
        "/tmp",  # nosec B108
        "/tmp",  # nosec B108
        "--tmpfs",
        "/run",
        "--die-with-parent",
    ]
    for path in binds:
        if path != "/tmp" and not path.startswith("/tmp/"):  # nosec B108
            argv += ["--bind", path, path]
    for m in mounts:
        argv += ["--ro-bind" if m.read_only else "--bind", m.source, m.target]
    argv += ["--chdir", chdir, "--", *command]
    return argv
