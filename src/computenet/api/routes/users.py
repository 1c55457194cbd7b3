"""/whoami and /users: who is calling, and the network's users (rules: api/authz.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime
from computenet.api.schemas_tenancy import PasswordSet, UserCreate, UserPatch
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.errors import ConflictError, ForbiddenError, SpecError
from computenet.model.tenancy import Role, ordered_scopes
from computenet.store import projects, users
from computenet.store.tables_tenancy import UserRow

router = APIRouter(tags=["users"])


def whoami_dict(who: Principal) -> dict[str, Any]:
    """The caller as the portal and ``cnet whoami`` show it (docs/tenancy.md)."""
    return {
        "name": who.name,
        "display_name": who.display_name,
        "is_admin": who.is_admin,
        "default_project": who.project,
        "project": who.project,  # the default project, under its earlier name
        "projects": [{"name": p, "role": r} for p, r in sorted(who.roles.items())],
        "scopes": ordered_scopes(who.scopes),
        "expires_at": who.expires_at,
        "token_id": who.token_id,
        "token_kind": who.token_kind,
    }


def user_dict(row: UserRow, roles: dict[str, str]) -> dict[str, Any]:
    return {
        "name": row.name,
        "display_name": row.display_name,
        "email": row.email,
        "is_admin": row.is_admin,
        "default_project": row.default_project,
        "disabled": row.disabled,
        "has_password": row.password_hash is not None,
        "created_at": row.created_at,
        "projects": [{"name": p, "role": r} for p, r in sorted(roles.items())],
    }


@router.get("/whoami")
def whoami(who: Principal = Depends(current_user)) -> Any:
    return whoami_dict(who)


@router.get("/users")
def list_users(runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        rows = users.list_users(s)
        return {"users": [user_dict(r, projects.roles_of(s, r.name)) for r in rows]}


@router.post("/users", status_code=201)
def create_user(req: UserCreate, runtime: Runtime = Depends(get_runtime)) -> Any:
    """A new user, in ``project`` (made if missing) with ``role``; the answer
    holds their first token, shown this once."""
    now = runtime.clock.now()
    with runtime.store.session() as s:
        token = users.add_user(
            s,
            req.name,
            now=now,
            project=req.project,
            is_admin=req.is_admin,
            display_name=req.display_name,
            email=req.email,
            password=req.password,
            role=Role(req.role),
        )
        body = user_dict(users.get_user(s, req.name), projects.roles_of(s, req.name))
    runtime.tenancy.forget_project(req.project)
    return JSONResponse(
        {"name": req.name, "project": req.project, "token": token, "user": body}, status_code=201
    )


@router.get("/users/{name}")
def show_user(name: str, runtime: Runtime = Depends(get_runtime)) -> Any:
    with runtime.store.session() as s:
        return user_dict(users.get_user(s, name), projects.roles_of(s, name))


@router.patch("/users/{name}")
def set_user(
    name: str,
    req: UserPatch,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    who = granted.who
    if req.is_admin is not None or req.disabled is not None:
        granted.need_admin("changing the admin or disabled flag")
        if name == who.name and (req.is_admin is False or req.disabled):
            raise ConflictError("administrators cannot demote or disable themselves")
    with runtime.store.session() as s:
        row = users.get_user(s, name)
        roles = projects.roles_of(s, name)
        if req.default_project is not None:
            if req.default_project not in roles:
                raise SpecError(
                    f"{name} is not in project {req.default_project}; "
                    f"their projects: {', '.join(sorted(roles)) or 'none'}"
                )
            row.default_project = req.default_project
        for field in ("display_name", "email", "is_admin", "disabled"):
            value = getattr(req, field)
            if value is not None:
                setattr(row, field, value)
        body = user_dict(row, roles)
    runtime.tenancy.forget_user(name)
    return body


@router.put("/users/{name}/password")
def set_password(
    name: str,
    req: PasswordSet,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
) -> Any:
    """Users change their own (giving the current one if they have one);
    administrators set anyone's. The user's other sessions end."""
    who = granted.who
    with runtime.store.session() as s:
        row = users.get_user(s, name)
        own = name == who.name and row.password_hash is not None
        if own and not users.verify_password(row.password_hash, req.current_password or ""):
            raise ForbiddenError("the current password is wrong")
        users.set_password(s, name, req.password)
        keep = who.token_id if name == who.name else None
        ended = users.revoke_sessions(s, name, now=runtime.clock.now(), keep=keep)
    runtime.tenancy.forget_user(name)
    return {"name": name, "password_set": True, "sessions_ended": ended}  # nosec B105
