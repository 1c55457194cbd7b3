"""Cloud credentials: from a 0600 file or the environment, never logged.

A credentials file holds ``key = ...`` and ``secret = ...`` lines (``#``
comments allowed), or one bare line taken as the key (an API token). A file
that others may read is refused: a secret in a world-readable file is
already lost. The values are kept in a ``Credentials`` whose ``repr`` hides
them, so no log line or error message can carry them by accident.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from computenet.errors import ConfigError

MAX_FILE_BYTES = 64 << 10


@dataclass(frozen=True)
class Credentials:
    key: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)
    source: str = ""  # where they came from, safe to show

    def __str__(self) -> str:
        return f"credentials from {self.source}"


def read_file(path: Path) -> Credentials:
    """Raises ``ConfigError`` for a missing, unreadable, oversized or too open file."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"credentials file {path} has mode {stat.S_IMODE(info.st_mode):04o}: others may "
            f"read it; make it private with: chmod 600 {path}"
        )
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
        raise ConfigError(f"credentials file {path} is not a small regular file")
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        raise ConfigError(f"cannot read credentials file {path}") from None
    values: dict[str, str] = {}
    bare: list[str] = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip().lower()] = value.strip().strip("'\"")
        else:
            bare.append(line)
    key = values.get("key") or (bare[0] if len(bare) == 1 and not values else None)
    if not key:
        raise ConfigError(f"credentials file {path} has no 'key = ...' line")
    return Credentials(key, values.get("secret"), f"file {path}")


def read_env(key_env: str, secret_env: str | None) -> Credentials:
    key = os.environ.get(key_env)
    if not key:
        raise ConfigError(f"environment variable {key_env} (the cloud key) is not set")
    secret = None
    if secret_env is not None:
        secret = os.environ.get(secret_env)
        if not secret:
            raise ConfigError(f"environment variable {secret_env} (the cloud secret) is not set")
    return Credentials(key, secret, f"environment {key_env}")


def load(file: str | None, key_env: str | None, secret_env: str | None) -> Credentials:
    """The file when one is named, else the environment variables."""
    if file is not None:
        return read_file(Path(file).expanduser())
    if key_env is not None:
        return read_env(key_env, secret_env)
    raise ConfigError("a cloud pool needs credentials_file or key_env")
