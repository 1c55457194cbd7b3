"""/projects: projects, their members and roles, and their cluster identities.

Administrators make projects and say which clusters and partitions each may
use; managers manage their project's members; everyone in a project reads
it. Rules: api/authz.py.
"""

from __future__ import annotations

import os
import pwd
from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from computenet.api.deps import current_user, get_runtime
from computenet.api.schemas_tenancy import (
    IdentitySet,
    MemberSet,
    ProjectCreate,
    ProjectPatch,
)
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ConflictError, NotFoundError, SpecError
from computenet.model.tenancy import ClusterIdentity, Role
from computenet.store import projects

router = APIRouter(tags=["projects"])


def _check_places(runtime: Runtime, clusters: list[str], partitions: list[str]) -> None:
    """Every named cluster exists; every ``cluster:partition`` names a known partition."""
    known = set(runtime.adapters)
    for name in [*clusters, *(p.split(":", 1)[0] for p in partitions)]:
        if name not in known:
            raise SpecError(f"no cluster named {name!r} (known: {', '.join(sorted(known))})")
    infos = {i.name: i for i in runtime.controller.clusters.infos()}
    for item in partitions:
        cluster, _, partition = item.partition(":")
        info = infos.get(cluster)
        if info is not None and info.partitions and info.partition(partition) is None:
            have = ", ".join(p.name for p in info.partitions)
            raise SpecError(f"cluster {cluster} has no partition {partition!r} (has: {have})")


def _project_body(runtime: Runtime, name: str, role: str | None = None) -> dict[str, Any]:
    with runtime.store.session() as s:
        body = projects.project_to_dict(projects.get_project(s, name))
        body["members"] = [projects.member_to_dict(m) for m in projects.members(s, name)]
    body["identities"] = [i.to_dict() for i in runtime.tenancy.identities() if i.project == name]
    if role is not None:
        body["role"] = role
    return body


@router.get("/projects")
def list_projects(
    who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    """Every project for an administrator; else the caller's, with their role."""
    with runtime.store.session() as s:
        rows = projects.list_projects(s, None if who.is_admin else list(who.roles))
        return {
            "projects": [{**projects.project_to_dict(r), "role": who.role(r.name)} for r in rows]
        }


@router.post("/projects", status_code=201)
def create_project(req: ProjectCreate, runtime: Runtime = Depends(get_runtime)) -> Any:
    _check_places(runtime, req.clusters, req.partitions)
    with runtime.store.session() as s:
        projects.add_project(
            s,
            req.name,
            now=runtime.clock.now(),
            description=req.description,
            clusters=req.clusters,
            partitions=req.partitions,
        )
    runtime.tenancy.forget_project(req.name)
    return JSONResponse(_project_body(runtime, req.name), status_code=201)


@router.get("/projects/{name}")
def show_project(
    name: str, who: Principal = Depends(current_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    return _project_body(runtime, name, who.role(name))


@router.patch("/projects/{name}")
def set_project(name: str, req: ProjectPatch, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        row = projects.get_project(s, name)
        _check_places(
            runtime,
            req.clusters if req.clusters is not None else [],
            req.partitions if req.partitions is not None else [],
        )
        if req.description is not None:
            row.description = req.description
        if req.clusters is not None:
            row.clusters = sorted(set(req.clusters))
        if req.partitions is not None:
            row.partitions = sorted(set(req.partitions))
    runtime.tenancy.forget_project(name)
    return _project_body(runtime, name)


@router.get("/projects/{name}/members")
def list_members(name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        projects.get_project(s, name)
        return {"members": [projects.member_to_dict(m) for m in projects.members(s, name)]}


@router.put("/projects/{name}/members/{user}")
def set_member(
    name: str, user: str, req: MemberSet, runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as s:
        projects.set_member(s, name, user, Role(req.role), now=runtime.clock.now())
    runtime.tenancy.forget_user(user)
    return {"user": user, "project": name, "role": req.role}


@router.delete("/projects/{name}/members/{user}")
def remove_member(name: str, user: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        projects.remove_member(s, name, user)
    runtime.tenancy.forget_user(user)
    return {"removed": user, "project": name}


# ----- cluster identities ------------------------------------------------------------


def _check_identity(runtime: Runtime, identity: ClusterIdentity) -> None:
    """The cluster exists, can submit as someone else, and the file does not
    already say who submits for this project there."""
    config = runtime.cluster_configs.get(identity.cluster)
    if config is None or identity.cluster not in runtime.adapters:
        known = ", ".join(sorted(runtime.adapters))
        raise SpecError(f"no cluster named {identity.cluster!r} (known: {known})")
    if config.kind not in ("slurm", "fake"):
        raise SpecError(
            f"cluster {identity.cluster} is {config.kind}: identities are for Slurm clusters"
        )
    if identity.project in config.identities:
        raise ConflictError(
            f"the configuration file sets project {identity.project}'s identity at cluster "
            f"{identity.cluster}; change it there"
        )
    if config.kind == "slurm" and not config.ssh:
        if identity.ssh_key is not None:
            raise SpecError(f"cluster {identity.cluster} is not reached over SSH: no key applies")
        if identity.user is None:
            raise SpecError("a local Slurm cluster needs the Unix account to submit as")
        if not _may_run_as(identity.user):
            raise SpecError(
                f"sbatch can run as {identity.user} only when the computenet server runs as "
                f"root (it runs as {pwd.getpwuid(os.geteuid()).pw_name})"
            )


def _may_run_as(user: str) -> bool:
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        raise SpecError(f"no Unix account {user!r} on this machine") from None
    return os.geteuid() in (0, uid)


@router.get("/projects/{name}/identities")
def project_identities(name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        projects.get_project(s, name)
    return {"identities": [i.to_dict() for i in runtime.tenancy.identities() if i.project == name]}


@router.put("/projects/{name}/identities/{cluster}")
def set_identity(
    name: str,
    cluster: str,
    req: IdentitySet,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    try:
        identity = ClusterIdentity(
            cluster=cluster, project=name, user=req.user, ssh_key=req.ssh_key
        )
    except ValueError as exc:
        raise SpecError(str(exc)) from None
    _check_identity(runtime, identity)
    with runtime.store.session() as s:
        projects.set_identity(s, identity, now=runtime.clock.now(), by=who.name)
    runtime.identities_changed()
    return identity.to_dict()


@router.delete("/projects/{name}/identities/{cluster}")
def remove_identity(name: str, cluster: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    config = runtime.cluster_configs.get(cluster)
    if config is not None and name in config.identities:
        raise ConflictError(
            f"the configuration file sets project {name}'s identity at cluster {cluster}; "
            "remove it there"
        )
    with runtime.store.session() as s:
        projects.remove_identity(s, cluster, name)
    runtime.identities_changed()
    return {"removed": {"cluster": cluster, "project": name}}


@router.get("/identities")
def all_identities(
    cluster: str | None = Query(None, description="one cluster's"),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    found = [i for i in runtime.tenancy.identities() if cluster is None or i.cluster == cluster]
    if cluster is not None and cluster not in runtime.adapters:
        raise NotFoundError(f"no cluster named {cluster!r}")
    return {"identities": [i.to_dict() for i in found]}
