"""/sites and /transfers: where data lives, and the record of every copy.

A copy created with ``run: true`` is carried out by this server (see
``core/transfer_runs.py``): the caller follows it with ``GET
/transfers/{id}?wait_s=N&since=T`` (answers when the row changes), and may
cancel or resume it. Other copies run where the bytes are (a command run
against a remote server, a site agent, the controller's staging) and report
here, so every transfer has a record with its states and events.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from computenet.api.authz import Access, authorize
from computenet.api.deps import current_user, get_runtime, get_session
from computenet.core.runtime import Runtime
from computenet.core.service import Principal
from computenet.core.transfer_runs import (
    MAX_CHUNK_BYTES,
    MIN_CHUNK_BYTES,
    OPTION_TYPES,
    runner_id,
)
from computenet.errors import ForbiddenError, SpecError
from computenet.transfer import records
from computenet.transfer.paths import parse_location

router = APIRouter(tags=["transfers"])

#: committed before the response leaves (FastAPI's default ends a dependency
#: after it): a client's next call must see what this one wrote, e.g. a site
#: added and at once copied to
SESSION = Depends(get_session, scope="function")

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
    #: carried out by this server (else the caller copies and reports)
    run: bool = False


class TransferReport(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    state: Literal["running", "completed", "failed", "cancelled"]
    message: str | None = Field(None, max_length=4096)
    bytes_total: int | None = Field(None, ge=0, le=2**62)
    bytes_sent: int | None = Field(None, ge=0, le=2**62)
    files: int | None = Field(None, ge=0, le=2**62)
    result: dict[str, Any] | None = None


@router.get("/sites")
def list_sites(session: Session = SESSION) -> Any:
    return {"sites": [records.site_dict(r) for r in records.list_sites(session)]}


@router.post("/sites", status_code=201)
def add_site(
    body: SiteIn, who: Principal = Depends(current_user), session: Session = SESSION
) -> Any:
    return records.site_dict(
        records.add_site(session, body.name, body.kind, body.config, by=who.name)
    )


@router.delete("/sites/{name}")
def remove_site(name: str, session: Session = SESSION) -> Any:
    records.remove_site(session, name)
    return {"removed": name}


@router.post("/sites/{name}/access")
async def site_access(name: str, session: Session = SESSION) -> Any:
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
    session: Session = SESSION,
) -> Any:
    user = None if (all_users and who.is_admin) else who.name
    rows = records.list_transfers(session, user=user, job_id=job_id, limit=max(1, min(limit, 1000)))
    return {"transfers": [records.transfer_dict(r) for r in rows]}


def _check_options(options: dict[str, Any]) -> None:
    for key, value in options.items():
        kind = OPTION_TYPES.get(key)
        if kind is None:
            raise SpecError(f"unknown copy option {key!r}")
        if value is not None and (type(value) is not kind):
            raise SpecError(f"copy option {key} must be {kind.__name__}")
    chunk = options.get("chunk_bytes")
    if chunk is not None and not MIN_CHUNK_BYTES <= chunk <= MAX_CHUNK_BYTES:
        raise SpecError(
            f"chunk_bytes must be between {MIN_CHUNK_BYTES} and {MAX_CHUNK_BYTES}, not {chunk}"
        )
    parallel = options.get("parallel")
    if parallel is not None and not 1 <= parallel <= 64:
        raise SpecError(f"parallel must be between 1 and 64, not {parallel}")


def _check_run(body: TransferIn, who: Principal, runtime: Runtime, session: Session) -> None:
    """What a server-run copy may name: sites that exist, and local paths (this
    server's files, read and written as its own user) only for that user."""
    _check_options(body.options)
    for text in (body.source, body.dest):
        loc = parse_location(text)
        if loc.site is not None:
            records.get_site(session, loc.site)
            continue
        if who.name != runtime.settings.user:
            raise ForbiddenError(
                f"{text} is a path on the server's machine: only its own user "
                f"({runtime.settings.user}) may copy its files; name a site (SITE:PATH)"
            )
        if not loc.path.startswith("/"):
            raise SpecError(f"a local path in a server-run copy must be absolute: {text}")


@router.post("/transfers", status_code=201)
def create_transfer(
    body: TransferIn,
    who: Principal = Depends(current_user),
    runtime: Runtime = Depends(get_runtime),
    session: Session = SESSION,
) -> Any:
    if body.run:
        _check_run(body, who, runtime, session)
    row = records.create_transfer(
        session,
        owner=who.name,
        project=who.project,
        source=body.source,
        dest=body.dest,
        options=body.options,
        runner=runner_id() if body.run else None,
    )
    out = records.transfer_dict(row)
    if body.run:
        session.commit()  # the copy's thread reads the row
        runtime.transfer_runs.submit(row.id)
    return out


MAX_WAIT_S = 30.0


@router.get("/transfers/{transfer_id}")
def get_transfer(
    transfer_id: str,
    wait_s: float = Query(0.0, ge=0.0, le=MAX_WAIT_S),
    since: float | None = None,
    manifest: bool = False,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
    session: Session = SESSION,
) -> Any:
    """With ``wait_s``, answers once the row was updated after ``since`` (its
    ``updated_at`` as last seen), once the copy ended, or when ``wait_s`` passed."""
    row = records.get_transfer(session, transfer_id)
    granted.check(row.owner, row.project, f"no transfer {transfer_id!r}")
    deadline = time.monotonic() + wait_s
    runs = runtime.transfer_runs
    while row.state == "running" and since is not None and row.updated_at <= since:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        if runs.running_here(row.id):
            runs.wait(min(left, 1.0))
        else:  # another server runs it (shared database), or it is ending
            time.sleep(min(left, 0.2))
        session.expire(row)
        session.commit()  # a fresh snapshot for the next read
        row = records.get_transfer(session, row.id)
    if row.state == "running" and records.is_server_run(row) and not runs.running_here(row.id):
        runs.recover()  # its server may be gone: say so rather than run forever
        session.expire(row)
    return records.transfer_dict(row, records.events_of(session, row.id), manifest=manifest)


@router.post("/transfers/{transfer_id}/cancel")
def cancel_transfer(
    transfer_id: str,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
    session: Session = SESSION,
) -> Any:
    """Stop a server-run copy; its verified chunks stay for a resume."""
    row = records.get_transfer(session, transfer_id)
    granted.check(row.owner, row.project, f"no transfer {transfer_id!r}")
    records.request_cancel(session, row)
    session.commit()
    runtime.transfer_runs.cancel(row.id)
    return records.transfer_dict(row)


class ResumeIn(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    #: options to change for this run (say, ``{"limit_bytes_per_s": null}``)
    options: dict[str, Any] = {}


@router.post("/transfers/{transfer_id}/resume")
def resume_transfer(
    transfer_id: str,
    body: ResumeIn | None = None,
    granted: Access = Depends(authorize),
    runtime: Runtime = Depends(get_runtime),
    session: Session = SESSION,
) -> Any:
    """Run an interrupted, failed or cancelled server copy again, keeping what arrived."""
    row = records.get_transfer(session, transfer_id)
    granted.check(row.owner, row.project, f"no transfer {transfer_id!r}")
    options = body.options if body is not None else {}
    _check_options(options)
    records.reopen(session, row, runner=runner_id(), options=options)
    session.commit()
    runtime.transfer_runs.submit(row.id)
    return records.transfer_dict(row)


@router.post("/transfers/{transfer_id}/events")
def report_transfer(
    transfer_id: str,
    body: TransferReport,
    granted: Access = Depends(authorize),
    session: Session = SESSION,
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
