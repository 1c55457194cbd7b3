"""Writing and removing the shim scripts in a directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from computenet.errors import ConfigError
from computenet.shims import COMMANDS

#: marks a file as ours, so uninstall and a re-install never touch others'
MARKER = "# computenet shim"


def script_text(command: str, python: str | None = None) -> str:
    """The executable text for one command: the interpreter, then the
    module's ``main``."""
    interpreter = python or sys.executable
    return (
        f"#!{interpreter}\n"
        f"{MARKER}: {command}\n"
        "import sys\n"
        f"from computenet.shims.{command} import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )


def is_ours(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return MARKER.encode() in head


def install(directory: Path, *, force: bool = False) -> list[Path]:
    """Write every shim into ``directory`` (created if missing).

    A file there that is not a shim is replaced only with ``force``;
    otherwise ConfigError, and nothing is written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    targets = [directory / name for name in COMMANDS]
    clash = [t for t in targets if (t.exists() or t.is_symlink()) and not is_ours(t)]
    if clash and not force:
        names = ", ".join(str(t) for t in clash)
        raise ConfigError(f"{names} exist and are not computenet shims (use --force to replace)")
    for target, name in zip(targets, COMMANDS, strict=True):
        tmp = target.with_name(f".{name}.tmp.{os.getpid()}")
        tmp.write_text(script_text(name))
        tmp.chmod(0o755)
        os.replace(tmp, target)  # atomic: a running tool never sees half a file
    return targets


def uninstall(directory: Path) -> list[Path]:
    """Remove the shims from ``directory``; other files stay."""
    removed = []
    for name in COMMANDS:
        target = directory / name
        if target.is_file() and is_ours(target):
            target.unlink()
            removed.append(target)
    return removed
