"""A directory on this machine: the user's files, or a site's root (the agent's store).

With a ``root``, every path is confined to it (no ``..``, no symlink escape);
without one, paths are this machine's own (the user's side of ``cnet cp``).
"""

from __future__ import annotations

import asyncio
import errno
import json
import mmap
import os
import stat as stat_mod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from computenet.errors import ForbiddenError, IntegrityError, NotFoundError, TransferError
from computenet.transfer import chunks
from computenet.transfer.endpoint import (
    BatchItem,
    Endpoint,
    Entry,
    FileStat,
    PartIdent,
    part_names,
)
from computenet.transfer.paths import confine


def os_error(exc: OSError, what: str) -> Exception:
    """Translate an OSError into the error tree with a one-line message."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TransferError(f"destination disk full while writing {what}")
    if exc.errno == errno.ENOENT:
        return NotFoundError(f"no such file: {what}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ForbiddenError(f"permission denied: {what}")
    return TransferError(f"{what}: {exc.strerror or exc}")


class LocalEndpoint(Endpoint):
    remote = False

    def __init__(self, root: Path | None = None, *, name: str = "local") -> None:
        self.root = root.resolve() if root is not None else None
        self.name = name
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cnet-io")

    # ----- paths ----------------------------------------------------------
    def real(self, path: str) -> Path:
        if self.root is None:
            return Path(path).expanduser().absolute()
        return confine(self.root, path)

    def _part(self, path: str) -> tuple[Path, Path, Path]:
        final = self.real(path)
        part, manifest = part_names(str(final))
        return final, Path(part), Path(manifest)

    async def _run(self, fn, *args):  # type: ignore[no-untyped-def]
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
        out = []
        for p in paths:
            try:
                out.append(self.real(p).read_bytes())
            except OSError as exc:
                raise os_error(exc, p) from exc
        return out

    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        target = self._part(path)[1] if part else self.real(path)
        try:
            with open(target, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size == 0:
                    return []
                with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                    futures = [
                        self._run(_digest_range, mm, c.offset, c.length)
                        for c in chunks.plan(size, chunk_size)
                    ]
                    return list(await asyncio.gather(*futures))
        except OSError as exc:
            raise os_error(exc, path) from exc

    # ----- writing --------------------------------------------------------
    async def mkdirs(self, path: str) -> None:
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
        done = self._read_manifest(manifest, part, ident)
        if done is not None:
            return done
        try:
            fd = _create(part)
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

    @staticmethod
    def _read_manifest(manifest: Path, part: Path, ident: PartIdent) -> dict[int, str] | None:
        try:
            lines = manifest.read_text().splitlines()
            if not lines or json.loads(lines[0]) != ident.to_dict():
                return None
            if part.stat().st_size != ident.size:
                return None
        except (OSError, ValueError):
            return None
        done: dict[int, str] = {}
        for line in lines[1:]:
            index, _, dig = line.partition(" ")
            if index.isdigit() and len(dig) == 64:
                done[int(index)] = dig
        return done

    async def write_chunk(
        self,
        path: str,
        index: int,
        offset: int,
        data: bytes,
        digest: str,
        *,
        compressed: bool = False,
    ) -> None:
        await self._run(self._write_chunk, path, index, offset, data, digest, compressed)

    def _write_chunk(
        self, path: str, index: int, offset: int, data: bytes, digest: str, compressed: bool
    ) -> None:
        if compressed:
            data = chunks.decompress(data, 1 << 30)
        chunks.check(data, digest, f"{path} chunk {index}")
        _final, part, manifest = self._part(path)
        try:
            fd = os.open(part, os.O_WRONLY)
            try:
                os.pwrite(fd, data, offset)
            finally:
                os.close(fd)
            with open(manifest, "a") as fh:
                fh.write(f"{index} {digest}\n")
        except FileNotFoundError as exc:
            raise TransferError(f"{path}: no transfer in progress (begin first)") from exc
        except OSError as exc:
            raise os_error(exc, path) from exc

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

    def _write_batch(self, items: list[BatchItem]) -> None:
        for item in items:
            chunks.check(item.data, item.digest, item.path)
        for item in items:
            final, part, _ = self._part(item.path)
            try:
                fd = _create(part)
                try:
                    view = memoryview(item.data)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fchmod(fd, item.mode & 0o7777)
                    os.utime(fd, ns=(item.mtime_ns, item.mtime_ns))
                finally:
                    os.close(fd)
                os.replace(part, final)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise os_error(exc, item.path) from exc


def _create(path: Path) -> int:
    """A new, empty file. Not O_TRUNC: on ext4 a truncate-then-rename makes close
    start writeback of every file (auto_da_alloc), which costs ~1 ms per small file."""
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.unlink(path)
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _digest_range(mm: mmap.mmap, offset: int, length: int) -> str:
    with memoryview(mm) as whole, whole[offset : offset + length] as view:
        return chunks.digest(view)


def verify_digests(expected: list[str], got: list[str]) -> list[int]:
    """Indices of chunks whose digests differ (a length mismatch marks the tail)."""
    bad = [i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b]
    bad += list(range(min(len(expected), len(got)), len(expected)))
    return bad


__all__ = ["IntegrityError", "LocalEndpoint", "os_error", "verify_digests"]
