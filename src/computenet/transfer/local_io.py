"""System-call level helpers for the local endpoint: few copies, few lookups.

- Chunk bodies arrive as a list of pieces (as the HTTP server hands them over):
  they are hashed piece by piece and written with one ``pwritev``, never joined.
- A received chunk of ``WRITE_BACK_MIN_BYTES`` or more is written back and its
  pages dropped as soon as it is written (``write_back``), so a big file passes
  through a few chunks' worth of page cache instead of filling it. On a VM whose
  host takes back guest memory left free (virtio-balloon free page reporting),
  page cache that grows into such memory costs a host fault per page on first
  touch: about 2.5 s of kernel time per GiB written here, against 0.4 s when
  the pages are recycled (docs/benchmarks.md, "Fourth pass").
- Local-to-local chunks move with ``copy_file_range`` (the kernel copies page
  to page); the source range is hashed from the page cache for the manifest.
- Small files are read and written relative to an open directory
  (``openat``/``renameat``), so a batch resolves and confines each directory
  once, not each file.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import mmap
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar, cast

import blake3

from computenet.errors import ForbiddenError, NotFoundError, TransferError

Buffer = bytes | bytearray | memoryview


class _Named(Protocol):
    @property
    def path(self) -> str: ...


T = TypeVar("T", bound=_Named)
IOV_MAX = 1024
MANIFEST_RESUMED = "resumed"  # manifest line: chunk lines above it come from an earlier run
#: received chunks this large or larger are written back and dropped from the page cache
WRITE_BACK_MIN_BYTES = 2**20
_SYNC_RANGE_WAIT = 1 | 2 | 4  # SYNC_FILE_RANGE_WAIT_BEFORE | _WRITE | _WAIT_AFTER


def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range`` (Linux), or None where there is none."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (AttributeError, OSError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return cast("Callable[[int, int, int, int], int]", fn)


_SYNC_RANGE = _sync_file_range()


def os_error(exc: OSError, what: str) -> Exception:
    """Translate an OSError into the error tree with a one-line message."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return TransferError(f"destination disk full while writing {what}")
    if exc.errno == errno.ENOENT:
        return NotFoundError(f"no such file: {what}")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ForbiddenError(f"permission denied: {what}")
    return TransferError(f"{what}: {exc.strerror or exc}")


def digest_pieces(pieces: Sequence[Buffer]) -> str:
    h = blake3.blake3()
    for p in pieces:
        h.update(p)
    return h.hexdigest()


def pwrite_all(fd: int, pieces: Sequence[Buffer], offset: int) -> int:
    """Write ``pieces`` back to back at ``offset`` (short writes resumed); bytes written."""
    views = [memoryview(p).cast("B") for p in pieces if len(p)]
    total = 0
    while views:
        n = os.pwritev(fd, views[:IOV_MAX], offset + total)
        total += n
        while views and n >= len(views[0]):
            n -= len(views[0])
            views.pop(0)
        if n:
            views[0] = views[0][n:]
    return total


def write_back(fd: int, offset: int, length: int) -> None:
    """Write ``length`` bytes at ``offset`` back to the disk, then drop their pages
    from the page cache, so the next chunks reuse them. Not a durability promise:
    ``sync_file_range`` flushes neither metadata nor the disk's cache (where libc
    has no such call, ``fdatasync`` writes the whole file back instead)."""
    if _SYNC_RANGE is None:
        os.fdatasync(fd)
    elif _SYNC_RANGE(fd, offset, length, _SYNC_RANGE_WAIT) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    os.posix_fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)


def digest_range(fd: int, offset: int, length: int) -> str:
    """BLAKE3 of ``length`` bytes at ``offset``, read through a mapping (no copy)."""
    if length == 0:
        return blake3.blake3().hexdigest()
    start = offset - offset % mmap.ALLOCATIONGRANULARITY
    with (
        mmap.mmap(fd, length + offset - start, offset=start, access=mmap.ACCESS_READ) as mm,
        memoryview(mm) as whole,
        whole[offset - start :] as view,
    ):
        return blake3.blake3(view).hexdigest()


def copy_range(src_fd: int, dst_fd: int, offset: int, length: int) -> int:
    """Copy a range between two files in the kernel; bytes copied (less at EOF)."""
    done = 0
    while done < length:
        n = os.copy_file_range(src_fd, dst_fd, length - done, offset + done, offset + done)
        if n == 0:
            break
        done += n
    return done


@dataclass(frozen=True)
class Indexed:
    """A path and its place in a request (to group paths by directory, then answer in order)."""

    path: str
    index: int

    @staticmethod
    def of(paths: Sequence[str]) -> list[Indexed]:
        return [Indexed(p, i) for i, p in enumerate(paths)]


def read_small_at(dir_fd: int, name: str, size_hint: int) -> bytes:
    """A whole (small) file ``name`` in ``dir_fd``, not following a link there."""
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW, dir_fd=dir_fd)
    return _read_all(fd, size_hint)


def _read_all(fd: int, size_hint: int) -> bytes:
    """The rest of ``fd`` (then closed), usually in one read of ``size_hint + 1`` bytes."""
    try:
        data = os.read(fd, size_hint + 1)
        if len(data) <= size_hint:
            return data
        parts = [data]
        while more := os.read(fd, 1 << 20):
            parts.append(more)
        return b"".join(parts)
    finally:
        os.close(fd)


def read_manifest(
    manifest: Path, part: Path, ident: dict[str, object], size: int
) -> dict[int, str] | None:
    """Chunks a manifest calls verified, when it was made for this same source
    (``ident``) and its part file is whole; None when it must start afresh."""
    try:
        lines = manifest.read_text().splitlines()
        if not lines or json.loads(lines[0]) != ident or part.stat().st_size != size:
            return None
    except (OSError, ValueError):
        return None
    done: dict[int, str] = {}
    for line in lines[1:]:
        index, _, dig = line.partition(" ")
        if index.isdigit() and len(dig) == 64:
            done[int(index)] = dig
    return done


def arrival_digests(manifest_lines: list[str]) -> dict[int, str]:
    """Chunk digests taken on arrival since the last ``resumed`` line (later lines win);
    chunks recorded before it were written by an earlier run and must be read again."""
    trusted: dict[int, str] = {}
    for line in manifest_lines:
        if line == MANIFEST_RESUMED:
            trusted.clear()
            continue
        index, _, dig = line.partition(" ")
        if index.isdigit() and len(dig) == 64:
            trusted[int(index)] = dig
    return trusted


def by_directory(items: Sequence[T]) -> dict[str, list[tuple[str, T]]]:
    """Batch items grouped by their parent directory ("." for none), with their names."""
    groups: dict[str, list[tuple[str, T]]] = {}
    for item in items:
        path = item.path
        head, _, name = path.rstrip("/").rpartition("/")
        check_name(name, path)
        where = head or ("/" if path.startswith("/") else ".")
        groups.setdefault(where, []).append((name, item))
    return groups


def check_name(name: str, path: str) -> None:
    """A single, plain path component: what ``openat`` under a confined directory needs."""
    if not name or name in (".", "..") or "/" in name or "\x00" in name:
        raise ForbiddenError(f"path {path!r} has no plain file name")


def create_at(dir_fd: int | None, name: str, mode: int) -> int:
    """A new, empty file in ``dir_fd``. Not O_TRUNC: on ext4 a truncate-then-rename
    makes close start writeback of every file (auto_da_alloc), ~1 ms per small file.
    O_EXCL also refuses to follow a symlink planted under the part name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
    try:
        return os.open(name, flags, mode, dir_fd=dir_fd)
    except FileExistsError:
        os.unlink(name, dir_fd=dir_fd)
        return os.open(name, flags, mode, dir_fd=dir_fd)


#: anonymous files (O_TMPFILE) linked in by name through /proc; without /proc the part path
_ANONYMOUS = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
#: what open(O_TMPFILE) answers on a file system without it
_NO_TMPFILE = (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL)


def write_file_at(
    dir_fd: int, name: str, part: str, data: Buffer, mode: int, mtime_ns: int, umask: int
) -> None:
    """Write ``data`` to a new file in ``dir_fd`` that appears under ``name`` whole (atomic).

    The file is written unnamed (O_TMPFILE) and then linked in under ``name``:
    one directory change per file instead of a create and a rename (a 20,000-file
    tree wrote in about 30% less time), and a crash leaves nothing behind. When
    ``name`` exists (or the file system has no O_TMPFILE) the file goes in under
    the hidden ``part`` name and is renamed over ``name``: a link planted at
    either name is replaced, never followed. The file is created with its final
    permission bits when the umask keeps them, which saves an ``fchmod``.
    """
    want = mode & 0o7777
    fd = _anonymous_at(dir_fd, want & 0o777)
    if fd is None:
        _write_named_at(dir_fd, name, part, data, want, mtime_ns, umask)
        return
    try:
        _fill(fd, data, want, mtime_ns, umask)
        proc = f"/proc/self/fd/{fd}"
        try:
            os.link(proc, name, dst_dir_fd=dir_fd, follow_symlinks=True)
        except FileExistsError:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(part, dir_fd=dir_fd)
            os.link(proc, part, dst_dir_fd=dir_fd, follow_symlinks=True)
            os.rename(part, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    finally:
        os.close(fd)


def _anonymous_at(dir_fd: int, mode: int) -> int | None:
    """An unnamed file in ``dir_fd`` (O_TMPFILE), or None where there is none."""
    if not _ANONYMOUS:
        return None
    try:
        return os.open(".", os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _NO_TMPFILE:
            return None
        raise


def _fill(fd: int, data: Buffer, want: int, mtime_ns: int, umask: int) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    if want & ~umask != want or want & ~0o777:
        os.fchmod(fd, want)
    os.utime(fd, ns=(mtime_ns, mtime_ns))


def _write_named_at(
    dir_fd: int, name: str, part: str, data: Buffer, want: int, mtime_ns: int, umask: int
) -> None:
    """Write under ``part`` (O_EXCL: a link planted there is not followed), then rename."""
    fd = create_at(dir_fd, part, want & 0o777)
    try:
        _fill(fd, data, want, mtime_ns, umask)
    except BaseException:
        os.close(fd)
        os.unlink(part, dir_fd=dir_fd)
        raise
    os.close(fd)
    os.rename(part, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)


def current_umask() -> int:
    """The process umask (read once at start; setting it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
