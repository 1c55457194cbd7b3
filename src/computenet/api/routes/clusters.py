"""/clusters: what the network can run on, with health and features; admins
add clusters at run time and remove the ones they added."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from computenet.api.deps import current_user, get_runtime
from computenet.config import ClusterConfig, PartitionConfig
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ConfigError, NotFoundError, SpecError

router = APIRouter(tags=["clusters"])

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class ClusterAddRequest(BaseModel):
    """A cluster to add (v1). Slurm: ``slurm_conf`` (commands on this
    machine) and/or ``ssh`` (a login node); embedded and fake need partitions."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str = Field(pattern=NAME_PATTERN)
    kind: str = Field(pattern=r"^(slurm|embedded|fake)$")
    site: str = Field("local", max_length=256)
    region: str = Field("local", max_length=256)
    slurm_conf: str | None = Field(None, max_length=4096)
    ssh: str | None = Field(None, max_length=512)
    ssh_key: str | None = Field(None, max_length=4096)
    ssh_known_hosts: str | None = Field(None, max_length=4096)
    price_per_core_hour: float | None = Field(None, ge=0)
    price_per_gpu_hour: float | None = Field(None, ge=0)
    partitions: list[dict[str, Any]] = Field(default_factory=list, max_length=256)


def cluster_config(body: dict[str, Any]) -> ClusterConfig:
    """The request as a cluster configuration; a bad field is a ``SpecError``
    naming it (nothing is added)."""
    try:
        req = ClusterAddRequest.model_validate(body)
        parts = [PartitionConfig.model_validate(p) for p in req.partitions]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "request"
        hint = " (letters, digits, _ . -; at most 63)" if where == "name" else ""
        raise SpecError(f"bad cluster {where}: {first.get('msg')}{hint}") from None
    if req.kind == "slurm" and not (req.slurm_conf or req.ssh):
        raise SpecError("a slurm cluster needs --slurm-conf PATH or --ssh USER@HOST[:PORT]")
    if req.kind != "slurm" and (req.slurm_conf or req.ssh):
        raise SpecError(f"--slurm-conf and --ssh are for slurm clusters, not {req.kind}")
    if req.kind in ("embedded", "fake") and not parts:
        raise SpecError(f"a {req.kind} cluster needs at least one partition")
    if req.ssh:
        from computenet.clusters.slurm.ssh_transport import SshTarget

        try:
            SshTarget.parse(req.ssh)
        except ConfigError as exc:
            raise SpecError(exc.message) from None
    elif req.ssh_key or req.ssh_known_hosts:
        raise SpecError("--key and --known-hosts need --ssh USER@HOST[:PORT]")
    for p in parts:  # cluster-wide prices fill the partitions that name none
        if req.price_per_core_hour is not None and not p.price_per_core_hour:
            p.price_per_core_hour = req.price_per_core_hour
        if req.price_per_gpu_hour is not None and not p.price_per_gpu_hour:
            p.price_per_gpu_hour = req.price_per_gpu_hour
    fields = req.model_dump(exclude={"partitions"})
    return ClusterConfig(**fields, partitions=parts)


def _where(config: ClusterConfig | None) -> str | None:
    if config is None:
        return None
    if config.ssh:
        return f"ssh {config.ssh}"
    return f"slurm_conf {config.slurm_conf}" if config.slurm_conf else None


@router.get("/clusters")
async def clusters(
    _: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    states = runtime.controller.clusters
    await states.refresh()
    rows = states.describe()
    views = await states.views(with_snapshots=True)
    for row in rows:
        name = row["name"]
        config = runtime.cluster_configs.get(name)
        row["source"] = runtime.cluster_sources.get(name, "config")
        row["reason"] = row["last_error"] if row["health"] != "UP" else None
        row["where"] = _where(config)
        if not row["partitions"] and config is not None:
            row["price_per_core_hour"] = config.price_per_core_hour
            row["price_per_gpu_hour"] = config.price_per_gpu_hour
        row["pools"] = [
            {"name": st.name, "partition": st.config.partition, "max_nodes": st.config.max_nodes}
            for st in runtime.controller.pools.for_cluster(name)
        ]
        view = views.get(name)
        snap = getattr(view, "snapshot", None)
        if snap is not None:
            row["cpus_total"] = sum(n.cpus for n in snap.nodes)
            row["cpus_alloc"] = sum(n.cpus_alloc for n in snap.nodes)
            row["gpus_total"] = sum(n.gpus for n in snap.nodes)
            row["gpus_alloc"] = sum(n.gpus_alloc for n in snap.nodes)
            row["jobs_running"] = len(snap.running)
            row["jobs_pending"] = len(snap.pending)
    return {"clusters": rows}


@router.post("/clusters", status_code=201)
async def add(
    body: dict[str, Any] = Body(...),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    config = cluster_config(body)
    await runtime.add_cluster(config)
    rows = {r["name"]: r for r in runtime.controller.clusters.describe()}
    row = rows.get(config.name, {"name": config.name})
    row["source"] = "api"
    row["reason"] = row.get("last_error") if row.get("health") != "UP" else None
    return JSONResponse(row, status_code=201)


@router.delete("/clusters/{name}")
async def remove(
    name: str,
    force: bool = Query(False, description="cancel its live jobs there and requeue them"),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    return await runtime.remove_cluster(name, force=force)


@router.post("/clusters/{name}/drain")
async def drain(name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    """Place no new jobs on the cluster; those queued or running there go on."""
    return _set_drained(runtime, name, True)


@router.post("/clusters/{name}/resume")
async def resume(name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    """Undo a drain: the broker places jobs there again."""
    return _set_drained(runtime, name, False)


def _set_drained(runtime: Runtime, name: str, drained: bool) -> dict[str, Any]:
    states = runtime.controller.clusters
    if name not in states.adapters:
        raise NotFoundError(f"no cluster {name}")
    if drained:
        states.drained.add(name)
    else:
        states.drained.discard(name)
        runtime.controller.wake()  # jobs waiting for it may go now
    return {"name": name, "drained": drained}
