"""The copy engine: files and trees between any two endpoints.

Small files travel whole in batches (one round trip per batch, not per
file). Larger files travel in chunks over ``parallel`` streams; each chunk is
checked by the destination on arrival, and before the atomic rename the
source's chunk digests are compared with the destination's (chunks kept from an
earlier run hashed again from disk), so a chunk spoiled on the wire or on disk
is found and sent again. A source whose size or mtime moves
during the copy fails it. ``bytes_sent`` counts only bytes that crossed in
this run, so a resumed copy shows what it saved.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from computenet.errors import IntegrityError, NotFoundError, SpecError, TransferError
from computenet.transfer import chunks
from computenet.transfer.endpoint import BatchItem, Endpoint, Entry, PartIdent
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.paths import parent_dir
from computenet.transfer.ratelimit import RateLimiter

Progress = Callable[[int], None]
OnTotal = Callable[[int, int], None]  # (bytes_total, files), once the source is walked
OnChunk = Callable[[str, int, str], None]  # (destination path, index, digest) once it passed


@dataclass(frozen=True)
class CopyOptions:
    recursive: bool = False
    resume: bool = False  # reuse verified chunks of a part file; skip identical files
    parallel: int = 4
    limit_bytes_per_s: int | None = None
    compress: bool = False
    checksum_only: bool = False  # compare by BLAKE3, move nothing
    chunk_bytes: int = chunks.DEFAULT_CHUNK_BYTES
    small_file_bytes: int = chunks.SMALL_FILE_BYTES
    retries: int = 3
    #: integrity-only data path where the site allows it (read when endpoints open)
    no_encrypt: bool = False


@dataclass
class CopyResult:
    bytes_total: int = 0
    bytes_sent: int = 0
    files: int = 0
    files_skipped: int = 0
    chunks_resent: int = 0
    seconds: float = 0.0
    verified: bool = True
    differing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "bytes_total": self.bytes_total,
            "bytes_sent": self.bytes_sent,
            "files": self.files,
            "files_skipped": self.files_skipped,
            "chunks_resent": self.chunks_resent,
            "seconds": round(self.seconds, 3),
            "verified": self.verified,
            "differing": self.differing,
            "rate_bytes_per_s": int(self.bytes_sent / self.seconds) if self.seconds else 0,
        }


def join(base: str, rel: str) -> str:
    if not rel:
        return base
    return f"{base.rstrip('/')}/{rel}" if base not in ("", ".") else rel


def target_path(src_path: str, src_is_dir: bool, dst_path: str, dst_is_dir: bool) -> str:
    """Where the copy lands: into ``dst`` when it ends with "/" (or is a directory and
    the source a file); otherwise ``dst`` is the copy's own name. A directory source
    thus lands at the same place on a rerun, which keeps resumes idempotent."""
    name = src_path.rstrip("/").rpartition("/")[2]
    if dst_path.endswith("/") or (dst_is_dir and not src_is_dir):
        return join(dst_path.rstrip("/") or "/", name)
    return dst_path


class Copier:
    """One copy between two endpoints; create per copy, then ``await run()``."""

    def __init__(
        self,
        src: Endpoint,
        src_path: str,
        dst: Endpoint,
        dst_path: str,
        opts: CopyOptions,
        progress: Progress | None = None,
        on_total: OnTotal | None = None,
        on_chunk: OnChunk | None = None,
    ) -> None:
        self.src, self.src_path, self.dst, self.dst_path = src, src_path, dst, dst_path
        self.on_chunk = on_chunk or (lambda _p, _i, _d: None)
        self.opts = opts
        self.progress = progress or (lambda _n: None)
        self.on_total = on_total or (lambda _b, _f: None)
        self.result = CopyResult()
        self.limiter = RateLimiter(opts.limit_bytes_per_s) if opts.limit_bytes_per_s else None
        self.slots = asyncio.Semaphore(max(1, opts.parallel))
        # both sides on this machine: chunks move in the kernel (copy_file_range)
        self.kernel_copy = isinstance(src, LocalEndpoint) and isinstance(dst, LocalEndpoint)
        self._dirs: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._dirs.set_result(None)
        #: a file's destination folder to make first (``plan``); None: it exists
        self._parent: str | None = None

    async def plan(self) -> tuple[list[Entry], str]:
        entries = await self.src.walk(self.src_path)
        root_is_dir = entries[0].is_dir
        if root_is_dir and not self.opts.recursive:
            raise SpecError(f"{self.src_path} is a directory (use -r)")
        dst_stat = await self.dst.stat(self.dst_path.rstrip("/") or "/")
        target = target_path(
            self.src_path, root_is_dir, self.dst_path, bool(dst_stat and dst_stat.is_dir)
        )
        if dst_stat is None and not root_is_dir:
            # as rsync --mkpath: a file copy makes its missing destination folders,
            # as a tree copy always did (docs/transfer.md)
            self._parent = parent_dir(target)
        return entries, target

    async def run(self) -> CopyResult:
        started = time.monotonic()
        entries, target = await self.plan()
        files = [e for e in entries if not e.is_dir]
        self.result.files = len(files)
        self.result.bytes_total = sum(e.size for e in files)
        self.on_total(self.result.bytes_total, len(files))
        if self.opts.checksum_only:
            await self._compare(files, target)
        else:
            await self._copy_tree(entries, files, target)
        self.result.seconds = time.monotonic() - started
        return self.result

    # ----- copying --------------------------------------------------------
    async def _existing(self, target: str) -> dict[str, Entry]:
        if not self.opts.resume:
            return {}
        try:
            return {e.rel: e for e in await self.dst.walk(target)}
        except NotFoundError:
            return {}

    async def _copy_tree(self, entries: list[Entry], files: list[Entry], target: str) -> None:
        have = await self._existing(target)
        # the directories are made while the first batches are read; writes wait for them
        dirs = [join(target, d.rel) for d in entries if d.is_dir]
        self._dirs = asyncio.ensure_future(
            self.dst.mkdirs_many([*dirs, self._parent] if self._parent else dirs)
        )
        todo: list[Entry] = []
        for f in files:
            old = have.get(f.rel)
            # whole seconds: SFTP (protocol 3) keeps no finer mtime
            if (
                old
                and not old.is_dir
                and old.size == f.size
                and old.mtime_ns // 10**9 == f.mtime_ns // 10**9
            ):
                self.result.files_skipped += 1
                self.progress(f.size)
            else:
                todo.append(f)
        small = [f for f in todo if f.size <= self.opts.small_file_bytes]
        large = [f for f in todo if f.size > self.opts.small_file_bytes]
        jobs = [self._send_batch(b, target) for b in _batches(small)]
        jobs += [self._copy_file(f, target) for f in large]
        try:
            await _bounded(jobs, max(1, self.opts.parallel))
        except BaseException:
            self._dirs.cancel()
            with contextlib.suppress(BaseException):
                await self._dirs
            raise
        await self._dirs  # a tree of directories only; or its error, if no job met it

    async def _send_batch(self, batch: list[Entry], target: str) -> None:
        async with self.slots:
            blobs = await self.src.read_batch([join(self.src_path, e.rel) for e in batch])
            items = []
            for e, data in zip(batch, blobs, strict=True):
                if len(data) != e.size:
                    raise TransferError(
                        f"source {join(self.src_path, e.rel)} changed "
                        f"during transfer (size {e.size} -> {len(data)})"
                    )
                # no digest per file: an agent checks the batch as one body, and a
                # local destination writes the very buffer that was read
                items.append(BatchItem(join(target, e.rel), data, "", e.mode, e.mtime_ns))
            nbytes = sum(e.size for e in batch)
            if self.limiter:
                await self.limiter.acquire(nbytes)
            await self._dirs
            sent = await self._retry(
                lambda: self.dst.write_batch(items, compressed=self.opts.compress)
            )
            self.result.bytes_sent += sent if isinstance(sent, int) else nbytes
            self.progress(nbytes)

    async def _copy_file(self, entry: Entry, target: str) -> None:
        src_path, dst_path = join(self.src_path, entry.rel), join(target, entry.rel)
        ident = PartIdent(
            entry.size, entry.mtime_ns, self.opts.chunk_bytes, f"{self.src.name}:{src_path}"
        )
        await self._dirs
        if not self.opts.resume:
            await self.dst.abort(dst_path)
        done = await self.dst.begin(dst_path, ident)
        plan = chunks.plan(entry.size, self.opts.chunk_bytes)
        digests: list[str | None] = [None] * len(plan)
        if done:
            digests = list(await self.src.hash_chunks(src_path, self.opts.chunk_bytes))
            if len(digests) != len(plan):
                raise self._changed(src_path)
        todo = [
            c for c in plan if digests[c.index] is None or done.get(c.index) != digests[c.index]
        ]
        for c in plan:
            if c not in todo:
                self.on_chunk(dst_path, c.index, done[c.index])
                self.progress(c.length)
        await asyncio.gather(*(self._send_chunk(src_path, dst_path, c, digests) for c in todo))
        after = await self.src.stat(src_path)
        if after is None or (after.size, after.mtime_ns) != (entry.size, entry.mtime_ns):
            await self.dst.abort(dst_path)
            raise self._changed(src_path)
        await self._verify(src_path, dst_path, plan, digests)
        await self.dst.finish(dst_path, entry.mode, entry.mtime_ns)

    def _changed(self, src_path: str) -> TransferError:
        return TransferError(f"source {src_path} changed during transfer; run the copy again")

    async def _send_chunk(
        self,
        src_path: str,
        dst_path: str,
        c: chunks.Chunk,
        digests: list[str | None],
        *,
        count: bool = True,
    ) -> None:
        async with self.slots:
            if self.kernel_copy:
                await self._copy_chunk_local(src_path, dst_path, c, digests)
                if count:
                    self.progress(c.length)
                return
            data = await self.src.read(src_path, c.offset, c.length)
            if len(data) != c.length:
                raise self._changed(src_path)
            dig = await asyncio.to_thread(chunks.digest, data)
            if digests[c.index] is not None and digests[c.index] != dig:
                raise self._changed(src_path)
            digests[c.index] = dig
            payload, compressed = data, False
            if self.opts.compress and self.dst.remote:
                packed = await asyncio.to_thread(chunks.compress, data)
                if packed is not None:
                    payload, compressed = packed, True
            if self.limiter:
                await self.limiter.acquire(len(payload))

            async def write() -> None:
                await self.dst.write_chunk(
                    dst_path, c.index, c.offset, payload, dig, compressed=compressed
                )
                self.result.bytes_sent += len(payload)
                self.on_chunk(dst_path, c.index, dig)

            await self._retry(write, on_integrity=self._count_resend)
        if count:
            self.progress(c.length)

    async def _copy_chunk_local(
        self, src_path: str, dst_path: str, c: chunks.Chunk, digests: list[str | None]
    ) -> None:
        assert isinstance(self.dst, LocalEndpoint) and isinstance(self.src, LocalEndpoint)
        if self.limiter:
            await self.limiter.acquire(c.length)
        src, dst = self.src, self.dst

        async def move() -> str:
            return await dst.copy_chunk_from(src, src_path, dst_path, c)

        dig = await self._retry(move, on_integrity=self._count_resend)
        if digests[c.index] is not None and digests[c.index] != dig:
            raise self._changed(src_path)
        digests[c.index] = str(dig)
        self.result.bytes_sent += c.length
        self.on_chunk(dst_path, c.index, str(dig))

    def _count_resend(self) -> None:
        self.result.chunks_resent += 1

    async def _retry(
        self, op: Callable[[], object], on_integrity: Callable[[], None] | None = None
    ) -> object:
        for attempt in range(self.opts.retries + 1):
            try:
                return await op()  # type: ignore[misc]
            except TransferError as exc:
                if not exc.transient or attempt == self.opts.retries:
                    raise
                if isinstance(exc, IntegrityError) and on_integrity:
                    on_integrity()
                await asyncio.sleep(min(2.0, 0.1 * 2**attempt))
        raise AssertionError("unreachable")

    async def _verify(
        self, src_path: str, dst_path: str, plan: list[chunks.Chunk], digests: list[str | None]
    ) -> None:
        want = [d or "" for d in digests]
        for _round in range(self.opts.retries + 1):
            bad = await self.dst.verify(dst_path, self.opts.chunk_bytes, want)
            if not bad:
                return
            self.result.chunks_resent += len(bad)
            await asyncio.gather(
                *(self._send_chunk(src_path, dst_path, plan[i], digests, count=False) for i in bad)
            )
        self.result.verified = False
        raise IntegrityError(f"{dst_path} failed verification after {self.opts.retries} resends")

    # ----- comparing ------------------------------------------------------
    async def _compare(self, files: list[Entry], target: str) -> None:
        async def one(f: Entry) -> None:
            a = await self.src.hash_chunks(join(self.src_path, f.rel), self.opts.chunk_bytes)
            try:
                b = await self.dst.hash_chunks(join(target, f.rel), self.opts.chunk_bytes)
            except NotFoundError:
                b = None
            if a != b:
                self.result.differing.append(f.rel or target)
            self.progress(f.size)

        await _bounded([one(f) for f in files], max(1, self.opts.parallel))
        self.result.differing.sort()
        self.result.verified = not self.result.differing


def _batches(files: list[Entry]) -> list[list[Entry]]:
    out: list[list[Entry]] = []
    cur: list[Entry] = []
    size = 0
    for f in files:
        if cur and (size + f.size > chunks.BATCH_BYTES or len(cur) >= chunks.BATCH_FILES):
            out.append(cur)
            cur, size = [], 0
        cur.append(f)
        size += f.size
    if cur:
        out.append(cur)
    return out


async def _bounded(jobs: list, limit: int) -> None:  # type: ignore[type-arg]
    """Run coroutines with at most ``limit`` in flight; the first error cancels the rest."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()

    tasks = [asyncio.create_task(worker()) for _ in range(min(limit, len(jobs)) or 0)]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        for t in tasks:
            t.cancel()
        for job in queue:
            job.close()
        raise


async def copy(
    src: Endpoint,
    src_path: str,
    dst: Endpoint,
    dst_path: str,
    opts: CopyOptions | None = None,
    progress: Progress | None = None,
    on_total: OnTotal | None = None,
    on_chunk: OnChunk | None = None,
) -> CopyResult:
    """Copy ``src_path`` on ``src`` to ``dst_path`` on ``dst`` (see ``target_path``).

    With two site agents the destination pulls from the source directly, so
    the bytes never pass through this machine.
    """
    from computenet.transfer.agent_client import AgentEndpoint

    opts = opts or CopyOptions()
    if isinstance(src, AgentEndpoint) and isinstance(dst, AgentEndpoint):
        from computenet.transfer.pull import third_party_copy

        return await third_party_copy(src, src_path, dst, dst_path, opts, progress, on_total)
    copier = Copier(src, src_path, dst, dst_path, opts, progress, on_total, on_chunk)
    return await copier.run()
