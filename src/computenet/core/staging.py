"""Moving a job's declared inputs to its site and its outputs back.

``spec.inputs``: each ``Staging(site, path, dest)`` copies ``site:path`` to
``dest`` under the job's working directory at the job's site. ``spec.outputs``:
each copies ``dest`` under the working directory back to ``site:path``.
A site missing from the sites table but named ``local`` is this machine.

Every step resumes (verified chunks are kept, files already in place are
skipped), so the controller may call these again after a crash. Each copy is
recorded as a transfer with the job's id.
"""

from __future__ import annotations

import asyncio
import posixpath
import threading
import time
from typing import Any

from computenet.errors import ComputeNetError, NotFoundError
from computenet.model import JobSpec, Staging
from computenet.store.db import Store
from computenet.transfer import records
from computenet.transfer.endpoint import Endpoint
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.sites import open_endpoint

LOCAL_SITE = "local"
SIZE_CACHE_S = 60.0
_sizes: dict[tuple[str, str], tuple[float, int]] = {}


def _endpoint(store: Store, site: str) -> Endpoint:
    with store.session() as session:
        try:
            row = records.get_site(session, site)
        except NotFoundError:
            if site == LOCAL_SITE:
                return LocalEndpoint(None, name=LOCAL_SITE)
            raise
        kind, config = row.kind, dict(row.config)
    return open_endpoint(site, kind, config)


def _under(workdir: str, dest: str) -> str:
    return dest if dest.startswith("/") else posixpath.join(workdir, dest)


async def _move(
    store: Store,
    *,
    job_id: str,
    direction: str,
    src_site: str,
    src_path: str,
    dst_site: str,
    dst_path: str,
    owner: str,
) -> int:
    source, dest = f"{src_site}:{src_path}", f"{dst_site}:{dst_path}"
    opts = CopyOptions(recursive=True, resume=True)
    with store.session() as session:
        row = records.create_transfer(
            session,
            owner=owner,
            project="staging",
            source=source,
            dest=dest,
            options={"resume": True, "recursive": True},
            job_id=job_id,
            direction=direction,
        )
        transfer_id = row.id
    try:
        async with _endpoint(store, src_site) as src, _endpoint(store, dst_site) as dst:
            parent = posixpath.dirname(dst_path.rstrip("/"))
            if parent:
                await dst.mkdirs(parent)
            result = await copy(src, src_path, dst, dst_path, opts)
    except ComputeNetError as exc:
        with store.session() as session:
            records.report(
                session,
                records.get_transfer(session, transfer_id),
                state="failed",
                message=exc.message,
            )
        raise
    with store.session() as session:
        records.report(
            session,
            records.get_transfer(session, transfer_id),
            state="completed",
            bytes_total=result.bytes_total,
            bytes_sent=result.bytes_sent,
            files=result.files,
            result=result.to_dict(),
        )
    return result.bytes_sent


async def move(
    store: Store,
    *,
    job_id: str,
    direction: str,
    src_site: str,
    src_path: str,
    dst_site: str,
    dst_path: str,
) -> int:
    """One recorded copy for a job (its owner sees it in ``cnet transfers``);
    bytes moved this call."""
    return await _move(
        store,
        job_id=job_id,
        direction=direction,
        src_site=src_site,
        src_path=src_path,
        dst_site=dst_site,
        dst_path=dst_path,
        owner=_owner(store, job_id),
    )


async def stage_in(store: Store, spec: JobSpec, *, job_id: str, site: str, workdir: str) -> int:
    """Copy every declared input to ``workdir`` at ``site``; returns bytes moved this call."""
    moved = 0
    for s in spec.inputs:
        moved += await _move(
            store,
            job_id=job_id,
            direction="in",
            src_site=s.site,
            src_path=s.path,
            dst_site=site,
            dst_path=_under(workdir, s.dest),
            owner=_owner(store, job_id),
        )
    return moved


async def stage_out(store: Store, spec: JobSpec, *, job_id: str, site: str, workdir: str) -> int:
    """Copy every declared output from ``workdir`` at ``site`` back to its site and path."""
    moved = 0
    for s in spec.outputs:
        moved += await _move(
            store,
            job_id=job_id,
            direction="out",
            src_site=site,
            src_path=_under(workdir, s.dest),
            dst_site=s.site,
            dst_path=s.path,
            owner=_owner(store, job_id),
        )
    return moved


def _owner(store: Store, job_id: str) -> str:
    """The job's owner, so the user sees staging copies in ``cnet transfers``."""
    from computenet.store.tables import JobRow

    if not job_id.isdigit():
        return "system"
    with store.session() as session:
        row = session.get(JobRow, int(job_id))
        return row.owner if row is not None else "system"


def input_bytes(store: Store, spec: JobSpec) -> int:
    """Declared input size in bytes (stat of each input; cached a minute).

    An input that cannot be reached counts as 0 here; staging will report it.
    Safe to call from inside a running event loop (it uses its own thread).
    """
    now = time.monotonic()
    total = 0
    missing: list[Staging] = []
    for s in spec.inputs:
        hit = _sizes.get((s.site, s.path))
        if hit and now - hit[0] < SIZE_CACHE_S:
            total += hit[1]
        else:
            missing.append(s)
    if missing:
        sizes = _in_thread(_sizes_of(store, missing))
        for s, size in zip(missing, sizes, strict=True):
            _sizes[(s.site, s.path)] = (now, size)
            total += size
    return total


async def _sizes_of(store: Store, items: list[Staging]) -> list[int]:
    async def one(s: Staging) -> int:
        try:
            async with _endpoint(store, s.site) as ep:
                return sum(e.size for e in await ep.walk(s.path) if not e.is_dir)
        except ComputeNetError:
            return 0

    return list(await asyncio.gather(*(one(s) for s in items)))


def _in_thread(coro: Any) -> Any:
    box: dict[str, Any] = {}

    def run() -> None:
        box["value"] = asyncio.run(coro)

    t = threading.Thread(target=run, name="cnet-input-bytes")
    t.start()
    t.join()
    return box["value"]
