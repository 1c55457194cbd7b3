"""Confining paths to a root, and reading ``SITE:PATH`` locations."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from computenet.errors import ForbiddenError, SpecError

_SITE_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]{0,62}):(.*)$")


@dataclass(frozen=True)
class Location:
    """One side of a copy: ``site`` is None for a path on this machine."""

    site: str | None
    path: str

    def __str__(self) -> str:
        return f"{self.site}:{self.path}" if self.site else self.path


def parse_location(text: str) -> Location:
    """``SITE:PATH`` names a site; anything else (``./a:b``, ``/x``) is a local path."""
    if not text:
        raise SpecError("empty path")
    if text.startswith(("/", ".", "~")):
        return Location(None, text)
    match = _SITE_RE.match(text)
    if match:
        return Location(match.group(1), match.group(2) or ".")
    return Location(None, text)


def parent_dir(path: str) -> str | None:
    """The folder ``path`` lands in; None for one directly under the root or cwd."""
    parent = str(PurePosixPath(path.rstrip("/") or "/").parent)
    return None if parent in (".", "/") else parent


def clean_relative(path: str) -> str:
    """A site path relative to its root, refusing ``..`` (nothing is resolved yet).

    An absolute path is read as relative to the root: ``/data/x`` on a site is
    ``data/x`` under the site's root, so nothing outside the root can be named.
    """
    parts = PurePosixPath(path.replace("\\", "/")).parts
    out: list[str] = []
    for part in parts:
        if part in ("/", "", "."):
            continue
        if part == "..":
            raise ForbiddenError(f"path {path!r} leaves the site root ('..' is refused)")
        if "\x00" in part:
            raise ForbiddenError(f"path {path!r} holds a NUL byte")
        out.append(part)
    return "/".join(out)


def confine(root: Path, path: str) -> Path:
    """The real path for ``path`` under ``root``; refuses anything that escapes.

    Symbolic links are resolved (including dangling ones, via their target),
    and the result must stay inside the resolved root.
    """
    real_root = root.resolve()
    rel = clean_relative(path)
    candidate = real_root / rel if rel else real_root
    resolved = Path(os.path.realpath(candidate))
    if resolved != real_root and real_root not in resolved.parents:
        raise ForbiddenError(f"path {path!r} resolves outside the site root")
    return resolved
