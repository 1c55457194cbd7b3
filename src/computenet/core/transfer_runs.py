"""Copies carried out by the server: ``cnet cp`` hands a copy here and follows it.

The server is long-lived, so a copy it runs pays no interpreter start-up and
finds its thread pools and pinned TLS contexts warm, and it goes on when the
command that asked for it is closed. Each copy runs in a thread of one pool
with its own event loop (the engine's endpoints do their I/O, hashing and
TLS in threads of their own, with the GIL released). Every ``FLUSH_S`` the
copy's progress and the chunks that passed their checks are written to its
row, and a cancel request in the row (from any server sharing the database)
stops it. A copy whose server stopped keeps its part files and manifests at
the destination: ``resume`` runs it again with ``--resume``, which sends only
what is missing.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from computenet import runners
from computenet.errors import ComputeNetError, ConflictError
from computenet.store.db import Store
from computenet.store.tables_transfer import TransferRow
from computenet.transfer import records
from computenet.transfer.endpoint import Endpoint
from computenet.transfer.engine import CopyOptions, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.paths import Location, parse_location
from computenet.transfer.sites import open_endpoint

log = logging.getLogger("computenet.transfer_runs")

RUN_WORKERS = 4
FLUSH_S = 0.5
#: a running server copy whose row was not touched for this long lost its server
STALE_S = 30.0
INTERRUPTED = "interrupted: the server running it stopped; `cnet transfers resume {id}` goes on"

#: the options a client may set on a server-run copy, with their types
OPTION_TYPES: dict[str, type] = {
    "recursive": bool,
    "resume": bool,
    "parallel": int,
    "limit_bytes_per_s": int,
    "compress": bool,
    "checksum_only": bool,
    "chunk_bytes": int,
    "no_encrypt": bool,
}
MIN_CHUNK_BYTES, MAX_CHUNK_BYTES = 64 * 2**10, 256 * 2**20


def copy_options(options: dict[str, Any]) -> CopyOptions:
    """The engine's options from a transfer's stored ``options`` (unknown keys ignored)."""
    known = {k: v for k, v in options.items() if k in OPTION_TYPES and v is not None}
    return CopyOptions(**known)


@dataclass
class _Run:
    id: str
    loop: asyncio.AbstractEventLoop | None = None
    task: asyncio.Task[Any] | None = None
    bytes_done: int = 0
    bytes_total: int = 0
    files: int = 0
    manifest: dict[str, dict[str, str]] = field(default_factory=dict)
    cancelled: bool = False  # by a user (not by the server stopping)


class TransferRuns:
    """The server's copies in flight; ``submit`` a transfer row's id to run it."""

    def __init__(self, store: Store, *, workers: int = RUN_WORKERS) -> None:
        self.store = store
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="cnet-copy")
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = False

    # ----- the API's side -------------------------------------------------
    def recover(self, now: float | None = None) -> int:
        """Mark server copies whose server is gone as failed (resumable); how many.

        A copy run by a process of this machine is orphaned as soon as that
        process is gone; one run elsewhere once its row went ``STALE_S``
        without progress."""
        now = time.time() if now is None else now
        lost = 0
        with self.store.session() as session:
            for row in records.running_server_transfers(session):
                if self.running_here(row.id) or not _orphaned(str(row.runner), row.updated_at, now):
                    continue
                message = INTERRUPTED.format(id=row.id)
                records.report(session, row, state="failed", message=message)
                lost += 1
        return lost

    def submit(self, transfer_id: str) -> None:
        with self._lock:
            if self._stopping:
                raise ConflictError("the server is stopping; run the copy again")
            self._runs[transfer_id] = _Run(transfer_id)
        self._pool.submit(self._run_one, transfer_id)

    def cancel(self, transfer_id: str) -> bool:
        """Stop a copy this process runs (the row's flag reaches the others)."""
        with self._lock:
            run = self._runs.get(transfer_id)
            if run is None:
                return False
            run.cancelled = True
            if run.loop is not None and run.task is not None:
                run.loop.call_soon_threadsafe(run.task.cancel)
        return True

    def wait(self, timeout_s: float) -> None:
        """Block until some copy of this process reports, or ``timeout_s`` passes."""
        with self._changed:
            self._changed.wait(timeout_s)

    def running_here(self, transfer_id: str) -> bool:
        with self._lock:
            return transfer_id in self._runs

    def shutdown(self) -> None:
        """Stop every copy; each is left failed and resumable, parts kept."""
        with self._lock:
            self._stopping = True
            for run in self._runs.values():
                if run.loop is not None and run.task is not None:
                    run.loop.call_soon_threadsafe(run.task.cancel)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # ----- the copy's thread ----------------------------------------------
    def _run_one(self, transfer_id: str) -> None:
        try:
            asyncio.run(self._copy(self._runs[transfer_id]))
        except BaseException:  # a bug: the row must not stay running
            log.exception("transfer %s", transfer_id)
            self._end(transfer_id, "failed", "internal error; see the server log", None)
        finally:
            with self._changed:
                self._runs.pop(transfer_id, None)
                self._changed.notify_all()

    def _endpoint(self, loc: Location, opts: CopyOptions) -> Endpoint:
        if loc.site is None:
            return LocalEndpoint(None)
        with self.store.session() as session:
            row = records.get_site(session, loc.site)
            kind, config = row.kind, dict(row.config)
        return open_endpoint(
            loc.site, kind, config, parallel=opts.parallel, no_encrypt=opts.no_encrypt
        )

    async def _copy(self, run: _Run) -> None:
        with self.store.session() as session:
            row = records.get_transfer(session, run.id)
            source, dest, options = row.source, row.dest, dict(row.options)
        src_loc, dst_loc = parse_location(source), parse_location(dest)
        opts = copy_options(options)
        run.loop = asyncio.get_running_loop()

        def progress(n: int) -> None:
            run.bytes_done += n

        def on_total(nbytes: int, files: int) -> None:
            run.bytes_total, run.files = nbytes, files

        def on_chunk(path: str, index: int, digest: str) -> None:
            run.manifest.setdefault(path, {})[str(index)] = digest

        async def work() -> Any:
            async with (
                self._endpoint(src_loc, opts) as src,
                self._endpoint(dst_loc, opts) as dst,
            ):
                return await copy(
                    src, src_loc.path, dst, dst_loc.path, opts, progress, on_total, on_chunk
                )

        with self._lock:
            run.task = asyncio.ensure_future(work())
            if self._stopping:
                run.task.cancel()
        flusher = asyncio.ensure_future(self._flush_loop(run))
        try:
            result = await run.task
        except asyncio.CancelledError:
            if run.cancelled:
                self._end(run.id, "cancelled", "cancelled by its owner", run)
            else:
                self._end(run.id, "failed", INTERRUPTED.format(id=run.id), run)
            return
        except ComputeNetError as exc:
            self._end(run.id, "failed", exc.message, run, error=exc.to_dict())
            return
        finally:
            flusher.cancel()
        body = result.to_dict()
        body["id"] = run.id
        self._end(run.id, "completed", None, run, result=body, bytes_sent=result.bytes_sent)

    async def _flush_loop(self, run: _Run) -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            wanted = await asyncio.to_thread(self._flush, run, _copied(run.manifest))
            if wanted and run.task is not None:
                run.cancelled = True
                run.task.cancel()

    def _flush(self, run: _Run, manifest: dict[str, object]) -> bool:
        """Write progress to the row; whether someone asked for a cancel."""
        with self.store.session() as session:
            row = records.get_transfer(session, run.id)
            records.progress(
                session,
                row,
                bytes_done=run.bytes_done,
                bytes_total=run.bytes_total,
                files=run.files,
                manifest=manifest,
            )
            wanted = row.cancel_requested
        with self._changed:
            self._changed.notify_all()
        return wanted

    def _end(
        self,
        transfer_id: str,
        state: str,
        message: str | None,
        run: _Run | None,
        *,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
        bytes_sent: int | None = None,
    ) -> None:
        try:
            with self.store.session() as session:
                row: TransferRow = records.get_transfer(session, transfer_id)
                if row.state != "running":
                    return
                if run is not None:
                    row.bytes_done = run.bytes_done
                    row.manifest = _copied(run.manifest)
                if error is not None:
                    result = {"error": error}
                records.report(
                    session,
                    row,
                    state=state,
                    message=message,
                    bytes_total=run.bytes_total if run else None,
                    bytes_sent=bytes_sent,
                    files=run.files if run else None,
                    result=result,
                )
        except ComputeNetError:  # the row is gone, or the store failed: say so in the log
            log.exception("recording the end of transfer %s", transfer_id)


def runner_id() -> str:
    """Who runs a server copy: this machine and process (``records.SERVER_RUNNER``)."""
    return f"{records.SERVER_RUNNER}{runners.this_process()}"


def _orphaned(runner: str, updated_at: float, now: float) -> bool:
    name = runner.removeprefix(records.SERVER_RUNNER)
    if name == runners.this_process():
        return True  # this process does not run it (checked by the caller)
    ended = runners.gone(name)
    return updated_at < now - STALE_S if ended is None else ended


def _copied(manifest: dict[str, dict[str, str]]) -> dict[str, object]:
    """A snapshot, taken on the copy's loop (which adds to it) for another thread."""
    return {path: dict(chunks) for path, chunks in manifest.items()}
