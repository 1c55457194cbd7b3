"""A directory on this machine: the user's files, or a site's root (the agent's store).

With a ``root``, every path is confined to it (no ``..``, no symlink escape);
without one, paths are this machine's own (the user's side of ``cnet cp``).

Each chunk is hashed once on arrival (a chunk copied in the kernel from a local
source: the source range, see ``copy_chunk_from``), and its manifest line is
written only after that check. The end check (``verify``) trusts those lines and hashes
from disk only chunks kept from an earlier run (above the manifest's
``resumed`` line), which may have rotted since; so a fresh copy is never read
back. The whole file's check is the list of chunk digests (``chunks.file_digest``).
"""

from __future__ import annotations

import asyncio
import json
import os
import stat as stat_mod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from computenet.errors import IntegrityError, TransferError
from computenet.transfer import batch, chunks, local_io
from computenet.transfer.endpoint import (
    PART_SUFFIX,
    BatchItem,
    Endpoint,
    Entry,
    FileStat,
    PartIdent,
    part_names,
)
from computenet.transfer.local_io import os_error
from computenet.transfer.paths import confine

R = TypeVar("R")


class LocalEndpoint(Endpoint):
    remote = False

    def __init__(self, root: Path | None = None, *, name: str = "local") -> None:
        self.root = root.resolve() if root is not None else None
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cnet-io")
        self._umask = local_io.current_umask()

    # ----- paths ----------------------------------------------------------
    def real(self, path: str) -> Path:
        if self.root is None:
            return Path(path).expanduser().absolute()
        return confine(self.root, path)

    def _part(self, path: str) -> tuple[Path, Path, Path]:
        final = self.real(path)
        part, manifest = part_names(str(final))
        return final, Path(part), Path(manifest)

    async def _run(self, fn: Callable[..., R], *args: Any) -> R:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def close(self) -> None:
        self._pool.shutdown(wait=False)

    # ----- reading --------------------------------------------------------
    async def stat(self, path: str) -> FileStat | None:
        return await self._run(self._stat, path)

    def _stat(self, path: str) -> FileStat | None:
        try:
            st = os.stat(self.real(path))
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise os_error(exc, path) from exc
        return FileStat(
            st.st_size, st.st_mtime_ns, stat_mod.S_IMODE(st.st_mode), stat_mod.S_ISDIR(st.st_mode)
        )

    async def walk(self, path: str) -> list[Entry]:
        return await self._run(self._walk, path)

    def _walk(self, path: str) -> list[Entry]:
        top = self.real(path)
        try:
            st = os.stat(top)
        except OSError as exc:
            raise os_error(exc, path) from exc
        if not stat_mod.S_ISDIR(st.st_mode):
            return [Entry("", st.st_size, st.st_mtime_ns, stat_mod.S_IMODE(st.st_mode), False)]
        out = [Entry("", 0, st.st_mtime_ns, stat_mod.S_IMODE(st.st_mode), True)]
        stack = [("", str(top))]
        while stack:
            rel, here = stack.pop()
            with os.scandir(here) as it:
                for de in it:
                    if de.name.endswith((".cnet-part", ".cnet-manifest")):
                        continue
                    if de.is_symlink():
                        continue  # never followed: a link could point anywhere
                    sub = f"{rel}/{de.name}" if rel else de.name
                    est = de.stat(follow_symlinks=False)
                    is_dir = stat_mod.S_ISDIR(est.st_mode)
                    if not is_dir and not stat_mod.S_ISREG(est.st_mode):
                        continue
                    out.append(
                        Entry(
                            sub,
                            0 if is_dir else est.st_size,
                            est.st_mtime_ns,
                            stat_mod.S_IMODE(est.st_mode),
                            is_dir,
                        )
                    )
                    if is_dir:
                        stack.append((sub, de.path))
        return out

    async def read(self, path: str, offset: int, length: int) -> bytes:
        return await self._run(self._read, path, offset, length)

    def _read(self, path: str, offset: int, length: int) -> bytes:
        try:
            fd = os.open(self.real(path), os.O_RDONLY)
            try:
                return os.pread(fd, length, offset)
            finally:
                os.close(fd)
        except OSError as exc:
            raise os_error(exc, path) from exc

    async def read_batch(self, paths: list[str]) -> list[bytes]:
        return await self._run(self._read_batch, paths)

    def _read_batch(self, paths: list[str]) -> list[bytes]:
        """Each directory is resolved (and confined) once, then its files are read with
        ``openat``; O_NOFOLLOW keeps a link planted under a file's name from leading out."""
        out: list[bytes] = [b""] * len(paths)
        for where, group in local_io.by_directory(local_io.Indexed.of(paths)).items():
            try:
                dir_fd = os.open(self.real(where), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                raise os_error(exc, where) from exc
            try:
                for name, item in group:
                    try:
                        out[item.index] = local_io.read_small_at(dir_fd, name, 64 * 2**10)
                    except OSError as exc:
                        raise os_error(exc, item.path) from exc
            finally:
                os.close(dir_fd)
        return out

    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        target = self._part(path)[1] if part else self.real(path)
        try:
            fd = os.open(target, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise os_error(exc, path) from exc
        try:
            size = os.fstat(fd).st_size
            futures = [
                self._run(local_io.digest_range, fd, c.offset, c.length)
                for c in chunks.plan(size, chunk_size)
            ]
            return list(await asyncio.gather(*futures))
        except OSError as exc:
            raise os_error(exc, path) from exc
        finally:
            os.close(fd)

    # ----- writing --------------------------------------------------------
    async def mkdirs(self, path: str) -> None:
        await self.mkdirs_many([path])

    async def mkdirs_many(self, paths: list[str]) -> None:
        await self._run(self._mkdirs, paths)

    def _mkdirs(self, paths: list[str]) -> None:
        for path in paths:
            try:
                self.real(path).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise os_error(exc, path) from exc

    async def begin(self, path: str, ident: PartIdent) -> dict[int, str]:
        return await self._run(self._begin, path, ident)

    def _begin(self, path: str, ident: PartIdent) -> dict[int, str]:
        final, part, manifest = self._part(path)
        if final.is_dir():
            raise TransferError(f"destination {path} is a directory")
        done = local_io.read_manifest(manifest, part, ident.to_dict(), ident.size)
        if done is not None:
            try:  # chunks above this line were checked by an earlier run; verify re-reads them
                with open(manifest, "a") as fh:
                    fh.write(local_io.MANIFEST_RESUMED + "\n")
            except OSError as exc:
                raise os_error(exc, path) from exc
            return done
        try:
            fd = local_io.create_at(None, str(part), 0o600)
            try:
                if ident.size:
                    # reserve the space now: a full disk fails here, before any byte moves
                    os.posix_fallocate(fd, 0, ident.size)
            finally:
                os.close(fd)
            manifest.write_text(json.dumps(ident.to_dict()) + "\n")
        except OSError as exc:
            part.unlink(missing_ok=True)
            manifest.unlink(missing_ok=True)
            raise os_error(exc, path) from exc
        return {}

    async def write_chunk(
        self,
        path: str,
        index: int,
        offset: int,
        data: bytes | Sequence[local_io.Buffer],
        digest: str,
        *,
        compressed: bool = False,
    ) -> None:
        """Check and write one chunk; ``data`` may be a list of pieces (never joined)."""
        pieces = [data] if isinstance(data, bytes | bytearray | memoryview) else list(data)
        await self._run(self._write_chunk, path, index, offset, pieces, digest, compressed)

    def _write_chunk(
        self,
        path: str,
        index: int,
        offset: int,
        pieces: list[local_io.Buffer],
        digest: str,
        compressed: bool,
    ) -> None:
        if compressed:
            pieces = [chunks.decompress(b"".join(pieces), 1 << 30)]
        got = local_io.digest_pieces(pieces)
        if got != digest:
            raise IntegrityError(
                f"checksum mismatch for {path} chunk {index}: "
                f"got {got[:16]}, expected {digest[:16]}",
                transient=True,
            )
        _final, part, manifest = self._part(path)
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CLOEXEC)
            try:
                written = local_io.pwrite_all(fd, pieces, offset)
                if written >= local_io.WRITE_BACK_MIN_BYTES:
                    local_io.write_back(fd, offset, written)
            finally:
                os.close(fd)
            self._record(manifest, index, digest)
        except FileNotFoundError as exc:
            raise TransferError(f"{path}: no transfer in progress (begin first)") from exc
        except OSError as exc:
            raise os_error(exc, path) from exc

    @staticmethod
    def _record(manifest: Path, index: int, digest: str) -> None:
        with open(manifest, "a") as fh:
            fh.write(f"{index} {digest}\n")

    async def copy_chunk_from(
        self, src: LocalEndpoint, src_path: str, path: str, chunk: chunks.Chunk
    ) -> str:
        """Copy one chunk from a file on this machine in the kernel; its source digest.

        The source range is hashed (from the page cache) and its digest goes to
        the manifest, so a resume and the end check know the chunk. The copy is
        not hashed again: no wire or buffer of ours lies between the two files,
        and re-reading the destination right away would read the very pages the
        kernel just filled (it would check the kernel's copy loop, not the disk).
        Chunks kept from an interrupted run are still hashed from disk at the end.
        """
        return await self._run(self._copy_chunk_from, src, src_path, path, chunk)

    def _copy_chunk_from(
        self, src: LocalEndpoint, src_path: str, path: str, chunk: chunks.Chunk
    ) -> str:
        _final, part, manifest = self._part(path)
        try:
            sfd = os.open(src.real(src_path), os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise os_error(exc, src_path) from exc
        try:
            dfd = os.open(part, os.O_WRONLY | os.O_CLOEXEC)
            try:
                copied = local_io.copy_range(sfd, dfd, chunk.offset, chunk.length)
            finally:
                os.close(dfd)
            if copied != chunk.length:
                raise TransferError(
                    f"source {src_path} changed during transfer; run the copy again"
                )
            want = local_io.digest_range(sfd, chunk.offset, chunk.length)
            self._record(manifest, chunk.index, want)
            return want
        except FileNotFoundError as exc:
            raise TransferError(f"{path}: no transfer in progress (begin first)") from exc
        except OSError as exc:
            raise os_error(exc, path) from exc
        finally:
            os.close(sfd)

    async def verify(self, path: str, chunk_size: int, digests: list[str]) -> list[int]:
        return await self._run(self._verify, path, chunk_size, digests)

    def _verify(self, path: str, chunk_size: int, digests: list[str]) -> list[int]:
        _final, part, manifest = self._part(path)
        try:
            lines = manifest.read_text().splitlines()[1:]
            fd = os.open(part, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise TransferError(f"{path}: no transfer in progress (begin first)") from exc
        except OSError as exc:
            raise os_error(exc, path) from exc
        try:
            plan = chunks.plan(os.fstat(fd).st_size, chunk_size)
            trusted = local_io.arrival_digests(lines)
            got = [
                trusted.get(c.index) or local_io.digest_range(fd, c.offset, c.length) for c in plan
            ]
        except OSError as exc:
            raise os_error(exc, path) from exc
        finally:
            os.close(fd)
        return chunks.bad_chunks(digests, got)

    async def finish(self, path: str, mode: int, mtime_ns: int) -> None:
        await self._run(self._finish, path, mode, mtime_ns)

    def _finish(self, path: str, mode: int, mtime_ns: int) -> None:
        final, part, manifest = self._part(path)
        try:
            os.chmod(part, mode & 0o7777)
            os.utime(part, ns=(mtime_ns, mtime_ns))
            os.replace(part, final)
            manifest.unlink(missing_ok=True)
        except OSError as exc:
            raise os_error(exc, path) from exc

    async def abort(self, path: str) -> None:
        _final, part, manifest = self._part(path)
        part.unlink(missing_ok=True)
        manifest.unlink(missing_ok=True)

    async def write_batch(self, items: list[BatchItem], *, compressed: bool = False) -> None:
        await self._run(self._write_batch, items)

    async def write_frame(self, frame: bytes, digest: str, *, compressed: bool = False) -> None:
        """Write a batch as it arrived (``batch`` frame): checked whole against ``digest``
        (when given; old senders give a digest per file instead), then unpacked
        without copying and written."""
        await self._run(self._write_frame, frame, digest, compressed)

    def _write_frame(self, frame: bytes, digest: str, compressed: bool) -> None:
        if compressed:
            frame = chunks.decompress(frame, 1 << 30)
        if digest:
            chunks.check(frame, digest, "batch")
        self._write_batch(batch.unpack(frame))

    def _write_batch(self, items: list[BatchItem]) -> None:
        for item in items:
            if item.digest:
                chunks.check(item.data, item.digest, item.path)
        for where, group in local_io.by_directory(items).items():
            # one confinement and one directory open per directory, then *at() calls
            try:
                dir_fd = os.open(self.real(where), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except OSError as exc:
                raise os_error(exc, where) from exc
            try:
                for name, item in group:
                    try:
                        local_io.write_file_at(
                            dir_fd,
                            name,
                            f".{name}{PART_SUFFIX}",
                            item.data,
                            item.mode,
                            item.mtime_ns,
                            self._umask,
                        )
                    except OSError as exc:
                        raise os_error(exc, item.path) from exc
            finally:
                os.close(dir_fd)


__all__ = ["IntegrityError", "LocalEndpoint", "os_error"]
