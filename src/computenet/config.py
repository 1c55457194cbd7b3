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

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
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
    #: nominal clock and FLOPs per cycle per core (peak FLOPS; embedded: read from the host)
    clock_ghz: float | None = Field(default=None, gt=0, le=20)
    flops_per_cycle: int | None = Field(default=None, ge=1, le=256)
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
                clock_ghz=self.clock_ghz,
                flops_per_cycle=self.flops_per_cycle,
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


class CloudConfig(BaseModel):
    """A pool's cloud nodes through Apache libcloud (``provider = "libcloud"``).

    Credentials never sit in this file: ``credentials_file`` names a 0600 file
    (``key = ...``, ``secret = ...`` lines, or a bare token), else
    ``key_env`` / ``secret_env`` name environment variables.
    """

    model_config = ConfigDict(extra="forbid")
    driver: str = Field(pattern=r"^[a-z0-9_]{1,40}$")  # libcloud's provider name: ec2, gce, ...
    size: str
    image: str
    location: str | None = None
    credentials_file: str | None = None
    key_env: str | None = None
    secret_env: str | None = None
    #: extra keyword arguments of the driver's constructor (region, project, ...)
    driver_options: dict[str, str | int | bool] = {}


class PoolConfig(BaseModel):
    """Nodes of one partition that exist only while needed (see clusters/pools)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
    partition: str
    #: at most this many nodes (default: the partition's node count)
    max_nodes: int | None = Field(None, ge=1, le=10_000)
    min_nodes: int = Field(0, ge=0)
    boot_delay_s: float = Field(0.0, ge=0, le=86_400)
    price_per_node_hour: float = Field(0.0, ge=0)
    idle_release_s: float = Field(300.0, ge=0, le=30 * 86_400)
    resume_timeout_s: float = Field(600.0, gt=0, le=86_400)
    provider: str = "local"  # a name in clusters.pools.registry.PROVIDERS: local, libcloud
    #: Slurm: the partition's State=CLOUD nodes as a hostlist (c1c[1-4]); embedded: unset
    nodes: str | None = None
    cloud: CloudConfig | None = None

    @model_validator(mode="after")
    def _check(self) -> PoolConfig:
        if self.max_nodes is not None and self.min_nodes > self.max_nodes:
            raise ValueError(f"pool {self.name}: min_nodes is over max_nodes")
        from computenet.clusters.pools.registry import PROVIDERS

        if self.provider not in PROVIDERS:
            known = ", ".join(sorted(PROVIDERS))
            raise ValueError(f"pool {self.name}: unknown provider {self.provider!r} ({known})")
        if (self.provider == "libcloud") != (self.cloud is not None):
            raise ValueError(f"pool {self.name}: provider libcloud and a [cloud] table go together")
        return self


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
    pools: list[PoolConfig] = []
    #: embedded clusters: a job whose stdout or stderr file grows past this is
    #: stopped (FAILED, the reason says so) and the file cut there with a marker;
    #: None: no limit (docs/reliability.md)
    max_output_bytes: int | None = Field(default=10 * 2**30, gt=0)

    @model_validator(mode="after")
    def _check_pools(self) -> ClusterConfig:
        """Each pool backs one partition of this cluster; its node names and
        counts agree with the partition's; a partition without its own price
        bills the pool's node price per core."""
        seen: set[str] = set()
        for pool in self.pools:
            where = f"cluster {self.name} pool {pool.name}"
            if pool.partition in seen:
                raise ValueError(f"{where}: partition {pool.partition} already has a pool")
            seen.add(pool.partition)
            part = next((p for p in self.partitions if p.name == pool.partition), None)
            if part is None and (self.kind != "slurm" or self.partitions):
                raise ValueError(f"{where}: no partition {pool.partition!r} in this cluster")
            names = None
            if pool.nodes is not None:
                from computenet.errors import SpecError
                from computenet.shims.hostlist import expand

                try:
                    names = expand(pool.nodes, limit=10_000)
                except SpecError as exc:
                    raise ValueError(f"{where}: nodes: {exc.message}") from None
            elif self.kind == "slurm":
                raise ValueError(f"{where}: set nodes to the partition's State=CLOUD hostlist")
            if (
                part is not None
                and pool.max_nodes is not None
                and "nodes" not in part.model_fields_set
            ):
                part.nodes = pool.max_nodes
            count = pool.max_nodes or (len(names) if names else None)
            if count is None and part is not None:
                count = part.nodes
            if names is not None and count is not None and count > len(names):
                raise ValueError(f"{where}: max_nodes {count} but only {len(names)} node names")
            if part is not None:
                if pool.max_nodes is not None and pool.max_nodes != part.nodes:
                    raise ValueError(
                        f"{where}: max_nodes {pool.max_nodes} differs from partition "
                        f"{part.name}'s nodes {part.nodes} (leave one unset)"
                    )
                if part.price_per_core_hour == 0 and pool.price_per_node_hour > 0:
                    part.price_per_core_hour = pool.price_per_node_hour / part.cores
            pool.max_nodes = count
            if pool.max_nodes is None:
                raise ValueError(f"{where}: set max_nodes")
            if pool.min_nodes > pool.max_nodes:
                raise ValueError(f"{where}: min_nodes is over max_nodes")
        return self

    def pool_for(self, partition: str | None) -> PoolConfig | None:
        return next((p for p in self.pools if p.partition == partition), None)

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
    #: the server log's level (debug also logs each request); secrets never reach it
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    user: str = Field(default_factory=lambda: os.environ.get("USER") or "local")
    project: str = "default"
    default_policy: str = "fastest"
    # The cluster jobs stay on under the local-first policy until its predicted
    # wait passes the threshold (bursting); None: no home.
    home_cluster: str | None = None
    #: local-first: leave home (or grow a pool) once its predicted wait passes this
    local_first_wait_s: float = Field(300.0, ge=0)
    #: the network's pool spending per hour: growth stops at the hard cap, warns at the soft one
    pool_spend_cap_per_hour: float | None = Field(None, ge=0)
    pool_spend_soft_cap_per_hour: float | None = Field(None, ge=0)
    #: pool nodes already up keep taking local-first jobs while home's wait is above
    #: this fraction of the threshold (so pools do not flap at the threshold)
    pool_hysteresis: float = Field(0.5, ge=0, le=1)
    controller_interval_s: float = 0.25
    #: a cluster that has not answered for this long is lost: jobs running there are
    #: requeued elsewhere and their attempts recorded as NODE_FAIL (docs/reliability.md)
    lost_cluster_grace_s: float = Field(1800.0, ge=0)
    #: the link assumed between a job's input data and a cluster at another site
    staging_bandwidth_bytes_per_s: float = 100e6
    max_script_bytes: int = 1 << 20
    max_upload_bytes: int = Field(64 << 20, gt=0)  # one file uploaded through the API
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
    #: admission control (docs/reliability.md): each user may make this many API
    #: requests a second, in bursts of up to ``request_burst``, before getting 429
    #: with Retry-After; 0 turns it off. Each server counts in its own memory.
    request_rate_per_s: float = Field(100.0, ge=0)
    request_burst: int = Field(200, ge=1)
    #: network administrators are not limited (they run the server's own tools)
    request_limit_admins: bool = False
    #: the server's C allocator (glibc only; docs/reliability.md, "Where the
    #: server's memory goes"): at most this many malloc arenas, and blocks of
    #: this size or more mapped and unmapped whole; 0 leaves glibc's default
    malloc_arena_max: int = Field(2, ge=0)
    malloc_mmap_threshold_bytes: int = Field(128 << 10, ge=0, le=32 << 20)
    #: sign-in with a site's OpenID Connect provider (docs/tenancy.md): all three
    #: set turn POST /api/v1/auth/oidc on; the JWKS is a file path or an https URL
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks: str | None = None
    oidc_username_claim: str = "preferred_username"
    #: container images: one store per site under this directory (default: data_dir/images)
    image_dir: Path | None = None
    #: the site whose store ``cnet image build`` fills; jobs elsewhere get a copy
    image_site: str = "local"
    #: the Debian suite and mirror images are built from (default: this host's suite
    #: and mmdebstrap's default mirror)
    image_suite: str | None = None
    image_mirror: str | None = None
    #: host paths under which --container-mounts may name a source
    container_mount_roots: list[str] = ["/home", "/tmp", "/scratch"]  # nosec B108
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

    def image_root(self, site: str) -> Path:
        """The directory of ``site``'s image store on this machine."""
        return (self.image_dir or self.data_dir / "images") / site

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
