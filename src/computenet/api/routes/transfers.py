"""/sites and /transfers: where data lives, and the record of every copy.

Copies themselves run where the bytes are (the CLI, a site agent, the
controller's staging); they report here, so every transfer has a record with
its states and events.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_session
from computenet.core.service import Principal
from computenet.transfer import records

router = APIRouter(tags=["transfers"])

ACCESS_TOKEN_TTL_S = 12 * 3600
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"


class SiteIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    name: str = Field(pattern=NAME_PATTERN)
    kind: Literal["agent", "path", "sftp"]
    config: dict[str, Any]


class TransferIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    source: str = Field(max_length=4096)
    dest: str = Field(max_length=4096)
    options: dict[str, Any] = {}


class TransferReport(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    state: Literal["running", "completed", "failed", "cancelled"]
    message: str | None = Field(None, max_length=4096)
    bytes_total: int | None = Field(None, ge=0, le=2**62)
    bytes_sent: int | None = Field(None, ge=0, le=2**62)
    files: int | None = Field(None, ge=0, le=2**62)
    result: dict[str, Any] | None = None


@router.get("/sites")
def list_sites(session: Session = Depends(get_session)) -> Any:
    return {"sites": [records.site_dict(r) for r in records.list_sites(session)]}


@router.post("/sites", status_code=201)
def add_site(
    body: SiteIn, who: Principal = Depends(current_user), session: Session = Depends(get_session)
) -> Any:
    return records.site_dict(
        records.add_site(session, body.name, body.kind, body.config, by=who.name)
    )


@router.delete("/sites/{name}")
def remove_site(name: str, session: Session = Depends(get_session)) -> Any:
    records.remove_site(session, name)
    return {"removed": name}


@router.post("/sites/{name}/access")
async def site_access(name: str, session: Session = Depends(get_session)) -> Any:
    """What a client needs to reach the site. For an agent, a token minted for this
    request (12 h) rather than the site's own long-lived token."""
    row = records.get_site(session, name)
    config = dict(row.config)
    if row.kind == "agent":
        from computenet.transfer.agent_client import AgentAccess, AgentEndpoint

        async with AgentEndpoint(AgentAccess.from_dict(config), name=name) as agent:
            config["token"] = await agent.mint_token(ttl_s=ACCESS_TOKEN_TTL_S, scope="rw")
    return {"name": row.name, "kind": row.kind, "config": config}


@router.get("/transfers")
def list_transfers(
    all_users: bool = False,
    job_id: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    who: Principal = Depends(current_user),
    session: Session = Depends(get_session),
) -> Any:
    user = None if (all_users and who.is_admin) else who.name
    rows = records.list_transfers(session, user=user, job_id=job_id, limit=max(1, min(limit, 1000)))
    return {"transfers": [records.transfer_dict(r) for r in rows]}


@router.post("/transfers", status_code=201)
def create_transfer(
    body: TransferIn,
    who: Principal = Depends(current_user),
    session: Session = Depends(get_session),
) -> Any:
    row = records.create_transfer(
        session,
        owner=who.name,
        project=who.project,
        source=body.source,
        dest=body.dest,
        options=body.options,
    )
    return records.transfer_dict(row)


@router.get("/transfers/{transfer_id}")
def get_transfer(
    transfer_id: str,
    granted: Access = Depends(authorize),
    session: Session = Depends(get_session),
) -> Any:
    row = records.get_transfer(session, transfer_id)
    granted.check(row.owner, row.project, f"no transfer {transfer_id!r}")
    return records.transfer_dict(row, records.events_of(session, row.id))


@router.post("/transfers/{transfer_id}/events")
def report_transfer(
    transfer_id: str,
    body: TransferReport,
    granted: Access = Depends(authorize),
    session: Session = Depends(get_session),
) -> Any:
    row = records.get_transfer(session, transfer_id)
    granted.check(row.owner, row.project, f"no transfer {transfer_id!r}")
    records.report(
        session,
        row,
        state=body.state,
        message=body.message,
        bytes_total=body.bytes_total,
        bytes_sent=body.bytes_sent,
        files=body.files,
        result=body.result,
    )
    return records.transfer_dict(row)
