"""Sites as endpoints: a site's kind and config become an Endpoint.

Kinds: ``agent`` (url, token, fingerprint), ``path`` (root: a directory this
machine sees, e.g. a shared file system) and ``sftp`` (host, port, user,
root, key_path, known_hosts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from computenet.errors import ConfigError, ForbiddenError, SpecError
from computenet.transfer.endpoint import Endpoint

SITE_KINDS = ("agent", "path", "sftp")
SECRET_KEYS = ("token",)


def open_endpoint(
    name: str,
    kind: str,
    config: dict[str, Any],
    *,
    parallel: int = 4,
    no_encrypt: bool = False,
) -> Endpoint:
    """An endpoint for a site (not connected yet; it connects on first use).

    ``no_encrypt`` asks for the integrity-only data path: only an agent site whose
    administrator allowed it (``allow_no_encrypt`` in its config) grants it
    (``ForbiddenError`` otherwise); SSH always encrypts, and a path site has no wire.
    """
    if kind == "agent":
        from computenet.transfer.agent_client import AgentAccess, AgentEndpoint

        if no_encrypt and not config.get("allow_no_encrypt"):
            raise ForbiddenError(
                f"site {name} does not allow --no-encrypt (an administrator allows it: "
                f"cnet sites add {name} --agent-info PATH --allow-no-encrypt)"
            )
        return AgentEndpoint(
            AgentAccess.from_dict(config), name=name, parallel=parallel, integrity_only=no_encrypt
        )
    if kind == "sftp" and no_encrypt:
        raise SpecError(
            f"site {name} is reached over SSH, which always encrypts: drop --no-encrypt"
        )
    if kind == "path":
        from computenet.transfer.local import LocalEndpoint

        return LocalEndpoint(Path(str(config["root"])), name=name)
    if kind == "sftp":
        from computenet.transfer.sftp import SftpAccess, SftpEndpoint

        try:
            access = SftpAccess(
                str(config["host"]),
                int(config.get("port", 22)),
                str(config["user"]),
                str(config["root"]),
                str(config["key_path"]),
                config.get("known_hosts"),
            )
        except KeyError as exc:
            raise ConfigError(f"site {name}: SFTP config lacks {exc.args[0]!r}") from exc
        return SftpEndpoint(access, name=name)
    raise ConfigError(f"site {name}: unknown kind {kind!r} (expected one of {SITE_KINDS})")


REQUIRED_KEYS = {
    "agent": ("url", "token", "fingerprint"),
    "path": ("root",),
    "sftp": ("host", "user", "root", "key_path"),
}


def check_config(kind: str, config: dict[str, Any]) -> None:
    """``SpecError`` when a site's config lacks what its kind needs."""
    if kind not in REQUIRED_KEYS:
        raise SpecError(f"unknown site kind {kind!r} (expected one of {SITE_KINDS})")
    missing = [k for k in REQUIRED_KEYS[kind] if not config.get(k)]
    if missing:
        raise SpecError(f"{kind} site config lacks {', '.join(missing)}")
    if config.get("allow_no_encrypt"):
        if kind != "agent":
            raise SpecError("allow_no_encrypt applies to agent sites only")
        if not str(config.get("data_url") or "").startswith("http://"):
            raise SpecError(
                "allow_no_encrypt needs the agent's data_url (start it with --data-listen)"
            )


def public_config(config: dict[str, Any]) -> dict[str, Any]:
    """The config without secrets, for listings."""
    return {k: ("***" if k in SECRET_KEYS else v) for k, v in config.items()}
