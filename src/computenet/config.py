"""Settings: a TOML file (``$CN_CONFIG`` or ``~/.config/computenet/config.toml``)
plus ``CN_*`` environment variables (which win).

With no configuration at all, the network is two embedded clusters carved
from this machine, ``local-a`` and ``local-b``, with different node types and
prices, so every command works out of the box.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from computenet.errors import ConfigError

if TYPE_CHECKING:
    from computenet.model import ClusterInfo, PartitionInfo


def _xdg(var: str, fallback: str) -> Path:
    return Path(os.environ.get(var) or Path.home() / fallback)


def default_config_path() -> Path:
    return Path(
        os.environ.get("CN_CONFIG")
        or _xdg("XDG_CONFIG_HOME", ".config") / "computenet" / "config.toml"
    )


class PartitionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    nodes: int = Field(1, ge=1)
    cores: int = Field(2, ge=1)
    threads_per_core: int = Field(1, ge=1)
    mem_bytes: int = 4 * 2**30
    gpus: int = 0
    gpu_model: str | None = None
    arch: str = "x86_64"
    features: list[str] = []
    speed: float = 1.0
    max_time_s: int | None = None
    default: bool = False
    price_per_core_hour: float = 0.0
    price_per_gpu_hour: float = 0.0

    def to_info(self) -> PartitionInfo:
        # Imported here: every cnet command reads settings, few need the model.
        from computenet.model import NodeType, PartitionInfo

        return PartitionInfo(
            name=self.name,
            node_type=NodeType(
                cores=self.cores,
                threads_per_core=self.threads_per_core,
                mem_bytes=self.mem_bytes,
                gpus=self.gpus,
                gpu_model=self.gpu_model,
                arch=self.arch,
                features=tuple(self.features),
                speed=self.speed,
            ),
            nodes=self.nodes,
            max_time_s=self.max_time_s,
            default=self.default,
            price_per_core_hour=self.price_per_core_hour,
            price_per_gpu_hour=self.price_per_gpu_hour,
        )


class IdentityConfig(BaseModel):
    """Who submits for one project at a cluster: a Unix account and/or an SSH
    key (None: the cluster's own ``ssh`` user or key). See docs/tenancy.md."""

    model_config = ConfigDict(extra="forbid")
    user: str | None = Field(None, pattern=r"^[a-z_][a-z0-9_-]{0,31}\$?$")
    ssh_key: str | None = Field(None, min_length=1, max_length=4096)


class ClusterConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    kind: Literal["embedded", "slurm", "fake"] = "embedded"
    site: str = "local"
    region: str = "local"
    scheduler: Literal["fcfs", "easy", "conservative"] = "easy"
    partitions: list[PartitionConfig] = []
    # slurm
    slurm_conf: str | None = None
    ssh: str | None = None  # USER@HOST[:PORT]
    ssh_key: str | None = None
    ssh_known_hosts: str | None = None
    price_per_core_hour: float | None = None
    price_per_gpu_hour: float | None = None
    #: project -> the identity that submits for it here; once any is listed,
    #: projects without one are not placed on this cluster
    identities: dict[str, IdentityConfig] = {}

    def to_info(self) -> ClusterInfo:
        from computenet.model import ClusterInfo

        return ClusterInfo(
            name=self.name,
            kind=self.kind,
            site=self.site,
            region=self.region,
            scheduler=self.scheduler,
            partitions=tuple(p.to_info() for p in self.partitions),
        )


def default_clusters() -> list[ClusterConfig]:
    """Two embedded clusters: plain cores (dearer) and SMT nodes (cheaper, slower)."""
    return [
        ClusterConfig(
            name="local-a",
            kind="embedded",
            site="local",
            scheduler="easy",
            partitions=[
                PartitionConfig(
                    name="compute",
                    nodes=2,
                    cores=4,
                    threads_per_core=1,
                    mem_bytes=4 * 2**30,
                    default=True,
                    price_per_core_hour=0.04,
                )
            ],
        ),
        ClusterConfig(
            name="local-b",
            kind="embedded",
            site="local",
            scheduler="easy",
            partitions=[
                PartitionConfig(
                    name="smt",
                    nodes=2,
                    cores=2,
                    threads_per_core=2,
                    mem_bytes=4 * 2**30,
                    default=True,
                    speed=0.8,
                    price_per_core_hour=0.02,
                )
            ],
        ),
    ]


class Settings(BaseSettings):
    """All settings. Paths default to the XDG directories of the user."""

    model_config = SettingsConfigDict(env_prefix="CN_", extra="forbid", env_nested_delimiter="__")

    data_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_DATA_HOME", ".local/share") / "computenet"
    )
    state_dir: Path = Field(
        default_factory=lambda: _xdg("XDG_STATE_HOME", ".local/state") / "computenet"
    )
    database_url: str | None = None  # default: SQLite under data_dir
    server_url: str | None = None  # a remote server; None = start a local one
    token: str | None = None
    host: str = "127.0.0.1"
    port: int = 0  # 0 = pick a free port
    user: str = Field(default_factory=lambda: os.environ.get("USER") or "local")
    project: str = "default"
    default_policy: str = "fastest"
    # The cluster jobs stay on under the local-first policy until its predicted
    # wait passes the threshold (bursting); None: no home.
    home_cluster: str | None = None
    controller_interval_s: float = 0.25
    #: the link assumed between a job's input data and a cluster at another site
    staging_bandwidth_bytes_per_s: float = 100e6
    max_script_bytes: int = 1 << 20
    max_bulk_jobs: int = 20_000
    max_array_size: int = 10_001
    metrics_public_loopback: bool = True
    #: a site's application files (docs/apps.md); one named like a shipped one replaces it
    apps_dir: Path | None = None
    #: how long a portal login (a session token) lasts
    session_ttl_s: float = Field(12 * 3600.0, gt=0)
    #: how long a server trusts what it read about a token (its revocation,
    #: expiry, the user's roles) before reading it again: the bound for
    #: changes made through another server sharing the database
    auth_cache_ttl_s: float = Field(5.0, ge=0)
    #: failed logins allowed per user name and per client address in the window
    login_max_failures: int = Field(5, ge=1)
    login_window_s: float = Field(900.0, gt=0)
    #: sign-in with a site's OpenID Connect provider (docs/tenancy.md): all three
    #: set turn POST /api/v1/auth/oidc on; the JWKS is a file path or an https URL
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None
    oidc_username_claim: str = "preferred_username"
    clusters: list[ClusterConfig] = Field(default_factory=default_clusters)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        path = default_config_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @cached_property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'computenet.db'}"

    @property
    def token_file(self) -> Path:
        return self.data_dir / "token"

    @property
    def server_file(self) -> Path:
        return self.state_dir / "server.json"

    def cluster(self, name: str) -> ClusterConfig:
        for c in self.clusters:
            if c.name == name:
                return c
        raise ConfigError(f"no cluster named {name!r} in the configuration")


def load_settings(**overrides: Any) -> Settings:
    """Read settings; a broken file or variable is a ``ConfigError``, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ConfigError(
            f"bad setting {where or '(root)'}: {first.get('msg')} "
            f"(config file {default_config_path()}, or CN_* variables)"
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read configuration: {exc}") from exc
