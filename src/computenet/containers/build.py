"""Building an image from Debian packages with mmdebstrap.

mmdebstrap writes a root filesystem tarball from the Debian mirror the
machine reaches (the host's suite by default), installing the named packages
with apt. As root it builds directly; as another user it works inside a user
namespace (``--mode=unshare``, which needs subordinate ids in /etc/subuid).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from computenet.containers.store import ImageRecord, ImageStore, check_name
from computenet.errors import ImageError, SpecError

_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]{0,99}$")
DEFAULT_TIMEOUT_S = 1800.0


def host_suite(os_release: Path = Path("/etc/os-release")) -> str:
    """The Debian suite this machine runs (its codename), else ``stable``."""
    try:
        for line in os_release.read_text().splitlines():
            key, _, value = line.partition("=")
            if key == "VERSION_CODENAME" and value.strip('"'):
                return value.strip('"')
    except OSError:
        pass
    return "stable"


def check_packages(packages: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    names = tuple(p.strip() for p in packages if p.strip())
    for p in names:
        if not _PACKAGE.match(p):
            raise SpecError(f"{p!r} is not a Debian package name", option="packages")
    return names


def unknown_packages(packages: tuple[str, ...]) -> tuple[str, ...]:
    """The ``packages`` this host's apt knows no installable version of: a
    second's check before mmdebstrap spends a minute finding out. Nothing is
    reported when the host has no package lists to ask."""
    if not packages or shutil.which("apt-cache") is None:
        return ()
    lists = Path("/var/lib/apt/lists")
    if not any(lists.glob("*_Packages*")):
        return ()
    try:
        proc = subprocess.run(  # nosec B607
            ["apt-cache", "policy", *packages],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ()
    known: set[str] = set()
    current = None
    for line in proc.stdout.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1].split(":", 1)[0]
        elif (
            current
            and line.strip().startswith("Candidate:")
            and line.split(":", 1)[1].strip() != "(none)"
        ):
            known.add(current)
    return tuple(p for p in packages if p not in known)


def mmdebstrap_argv(
    packages: tuple[str, ...],
    suite: str,
    target: Path,
    mirror: str | None = None,
    *,
    quiet: bool = True,
) -> list[str]:
    argv = ["mmdebstrap", "--variant=apt"]
    if quiet:
        argv.append("--quiet")
    if os.geteuid() == 0:
        argv.append("--mode=root")
    if packages:
        argv.append("--include=" + ",".join(packages))
    argv += [suite, str(target)]
    if mirror:
        argv.append(mirror)
    return argv


def check_build(
    name: str, packages: list[str] | tuple[str, ...], suite: str | None
) -> tuple[tuple[str, ...], str]:
    """The packages and suite of a build that can start, checked in about a
    second: the name, the package names, mmdebstrap on this host, and (for
    the host's suite) every package known to apt-cache.

    Raises SpecError or ImageError; nothing is written."""
    check_name(name)
    wanted = check_packages(packages)
    if shutil.which("mmdebstrap") is None:
        raise ImageError("mmdebstrap is not installed (Debian package mmdebstrap)")
    chosen = suite or host_suite()
    if chosen == host_suite():
        unknown = unknown_packages(wanted)
        if unknown:
            raise ImageError(
                f"image {name}: no package {', '.join(unknown)} in {chosen} "
                "(apt-cache on this host)",
                packages=list(unknown),
            )
    return wanted, chosen


#: told the mmdebstrap process of a build once it runs (so a server that stops can end it)
Started = Callable[["subprocess.Popen[bytes]"], None]


def build_image(
    store: ImageStore,
    name: str,
    packages: list[str] | tuple[str, ...],
    *,
    suite: str | None = None,
    mirror: str | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    log_path: Path | None = None,
    started: Started | None = None,
) -> ImageRecord:
    """Build ``name`` from ``packages`` into ``store``.

    ``log_path``: mmdebstrap's progress and errors are appended there as they
    come (else kept in memory for the error message). Raises ImageError
    (mmdebstrap missing or failed: an unknown package, an unreachable
    mirror) or SpecError (a bad name); the store is unchanged then.
    """
    wanted, chosen = check_build(name, packages, suite)
    store.root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".build-", dir=store.root))
    try:
        tarball = work / "image.tar"
        argv = mmdebstrap_argv(wanted, chosen, tarball, mirror, quiet=log_path is None)
        log = log_path or work / "build.log"
        with log.open("ab") as out:
            try:
                proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
            except OSError as exc:
                raise ImageError(f"image {name}: cannot start mmdebstrap: {exc}") from exc
            if started is not None:
                started(proc)
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired as exc:
                proc.kill()
                proc.wait()
                raise ImageError(f"image {name}: mmdebstrap took over {timeout_s:.0f} s") from exc
        if code != 0 or not tarball.is_file():
            why = "stopped" if code < 0 else "failed"
            raise ImageError(f"image {name}: mmdebstrap {why}: {_last_error(_tail(log))}")
        return store.add_tarball(name, tarball, packages=wanted, suite=chosen)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _tail(path: Path, nbytes: int = 16 << 10) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - nbytes))
        return f.read().decode("utf-8", "replace")


def _last_error(stderr: str) -> str:
    """The lines that say why (apt's ``E:`` lines), else the last line."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("E:")]
    chosen = errors[:3] if errors else lines[-1:]
    return " ".join(chosen)[:500] or "no output"
