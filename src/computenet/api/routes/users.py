"""/users and /whoami: tokens for more users of one server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from computenet.api.deps import admin_user, current_user, get_runtime
from computenet.api.schemas import UserCreate
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.store.users import add_user

router = APIRouter(tags=["users"])


@router.get("/whoami")
def whoami(who: Principal = Depends(current_user)) -> Any:
    return {"name": who.name, "is_admin": who.is_admin, "project": who.project}


@router.post("/users", status_code=201)
def create_user(
    req: UserCreate, _: Principal = Depends(admin_user), runtime: Runtime = Depends(get_runtime)
) -> Any:
    with runtime.store.session() as session:
        token = add_user(
            session, req.name, now=runtime.clock.now(), project=req.project, is_admin=req.is_admin
        )
    return {"name": req.name, "project": req.project, "token": token}
