"""The baseline of benchmarks/load_mix.py: a plain FastAPI app over the same tables.

The four routes the load mix calls, at the same paths, written as anyone
would write them with FastAPI and SQLAlchemy and nothing more: a token is a
dictionary lookup (no scopes, roles or projects), a submission is stored as
given (no parsing, feasibility, budgets or controller), a log tail reads the
job and its latest attempt and returns no data (no cluster to ask), a cancel
is one conditional UPDATE and an event. What computenet costs beyond this is
the figure.

    python benchmarks/_plain_app.py --database URL --tokens FILE --server-file FILE

``FILE`` of tokens: a JSON object token -> user name.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, cast

import uvicorn
from fastapi import Body, Depends, FastAPI, Header, HTTPException, Query
from sqlalchemy import Table, create_engine, event, insert, select, update
from sqlalchemy.engine import Engine

from computenet.store.tables import AttemptRow, JobEventRow, JobRow

JOBS = cast(Table, JobRow.__table__)
EVENTS = cast(Table, JobEventRow.__table__)
ATTEMPTS = cast(Table, AttemptRow.__table__)
ACTIVE = ("PENDING", "STAGING_IN", "QUEUED", "RUNNING", "STAGING_OUT")
LISTED = [JOBS.c[n] for n in ("id", "name", "owner", "project", "state", "reason", "cluster")]


def _engine(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

    def pragmas(conn: Any, _: Any) -> None:  # the same as computenet's store
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "busy_timeout=10000",
            "foreign_keys=ON",
        ):
            conn.execute(f"PRAGMA {pragma}")

    event.listen(engine, "connect", pragmas)
    return engine


def create_plain_app(url: str, tokens: dict[str, str]) -> FastAPI:
    engine = _engine(url)
    app = FastAPI()

    def owner(authorization: str = Header("")) -> str:
        user = tokens.get(authorization.removeprefix("Bearer "))
        if user is None:
            raise HTTPException(401, "bad token")
        return user

    # Each route opens its connection inside itself, not through a yield
    # dependency: FastAPI ends those in another worker thread, and with every
    # worker waiting for a pooled connection, the requests holding the
    # connections could never end (the stall a first version of this app hit).

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/api/v1/jobs", status_code=201)
    def submit(body: dict[str, Any] = Body(), user: str = Depends(owner)) -> dict[str, Any]:
        now = time.time()
        with engine.begin() as conn:
            job_id = conn.execute(
                insert(JOBS).values(
                    owner=user,
                    project="load",
                    name="wrap",
                    state="PENDING",
                    version=1,
                    spec=body,
                    summary={},
                    submit_time=now,
                    attempt_count=0,
                    cancel_requested=False,
                    updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                insert(EVENTS).values(
                    job_id=job_id, time=now, to_state="PENDING", reason="submitted"
                )
            )
        return {"id": job_id, "state": "PENDING"}

    @app.get("/api/v1/jobs")
    def list_jobs(
        user: str = Depends(owner),
        all: bool = False,
        cursor: int = Query(0, ge=0),
        limit: int = Query(1000, ge=1, le=10_000),
    ) -> dict[str, Any]:
        query = select(*LISTED).where(JOBS.c.owner == user, JOBS.c.id > cursor)
        if not all:
            query = query.where(JOBS.c.state.in_(ACTIVE))
        with engine.connect() as conn:
            result = conn.execute(query.order_by(JOBS.c.id).limit(limit + 1))
            rows = [dict(r._mapping) for r in result]
        more = len(rows) > limit
        return {"jobs": rows[:limit], "next_cursor": rows[limit - 1]["id"] if more else None}

    @app.get("/api/v1/jobs/{job_id}/logs")
    def logs(
        job_id: int, offset: int = Query(0, ge=0), user: str = Depends(owner)
    ) -> dict[str, Any]:
        with engine.connect() as conn:
            job = conn.execute(
                select(JOBS.c.state, JOBS.c.attempt_count).where(
                    JOBS.c.id == job_id, JOBS.c.owner == user
                )
            ).first()
            if job is None:
                raise HTTPException(404, f"no job {job_id}")
            conn.execute(
                select(ATTEMPTS.c.cluster, ATTEMPTS.c.native_id).where(
                    ATTEMPTS.c.job_id == job_id, ATTEMPTS.c.number == job.attempt_count
                )
            ).first()
        return {"data": "", "offset": offset, "eof": job.state not in ACTIVE, "state": job.state}

    @app.post("/api/v1/jobs/{job_id}/cancel")
    def cancel(job_id: int, user: str = Depends(owner)) -> dict[str, Any]:
        now = time.time()
        with engine.begin() as conn:
            changed = conn.execute(
                update(JOBS)
                .where(JOBS.c.id == job_id, JOBS.c.owner == user, JOBS.c.state.in_(ACTIVE))
                .values(state="CANCELLED", updated_at=now, version=JOBS.c.version + 1)
            ).rowcount
            if changed:
                conn.execute(insert(EVENTS).values(job_id=job_id, time=now, to_state="CANCELLED"))
        return {"results": [{"id": job_id, "changed": bool(changed)}]}

    return app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--tokens", required=True)
    parser.add_argument("--server-file", required=True)
    args = parser.parse_args()
    tokens = json.loads(Path(args.tokens).read_text())
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    tmp = args.server_file + ".tmp"
    Path(tmp).write_text(json.dumps({"url": f"http://127.0.0.1:{port}", "pid": os.getpid()}))
    os.replace(tmp, args.server_file)
    config = uvicorn.Config(
        create_plain_app(args.database, tokens),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=3,
        timeout_keep_alive=75,  # as computenet's server (api/serve.py)
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
