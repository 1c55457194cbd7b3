"""What every endpoint (local path, SFTP, site agent) can do.

Paths are strings in the endpoint's own namespace: an absolute path for this
machine, or a path under the site's root. A destination writes a file under
a temporary name with a manifest of verified chunks beside it, and only
``finish`` gives it its final name.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Self

from computenet.transfer.chunks import bad_chunks

PART_SUFFIX = ".cnet-part"
MANIFEST_SUFFIX = ".cnet-manifest"


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int
    mode: int  # permission bits only
    is_dir: bool = False


@dataclass(frozen=True)
class Entry:
    """One item of a tree; ``rel`` is "" for the root itself, "/"-separated."""

    rel: str
    size: int
    mtime_ns: int
    mode: int
    is_dir: bool


@dataclass(frozen=True)
class PartIdent:
    """What a partial file was made from; a manifest for another source is dropped."""

    size: int
    mtime_ns: int
    chunk_size: int
    source: str

    def to_dict(self) -> dict[str, object]:
        return {
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "chunk_size": self.chunk_size,
            "source": self.source,
        }


@dataclass(frozen=True)
class BatchItem:
    """A small file moved whole inside a batch. ``digest`` is empty when the batch
    is checked as a whole (see ``batch``) or never leaves this machine."""

    path: str
    data: bytes | memoryview
    digest: str
    mode: int
    mtime_ns: int


class Endpoint(abc.ABC):
    """Async file operations. Errors are computenet errors (TransferError etc.)."""

    name: str = "endpoint"
    remote: bool = False  # True when bytes cross a network to reach it

    @abc.abstractmethod
    async def stat(self, path: str) -> FileStat | None: ...

    @abc.abstractmethod
    async def walk(self, path: str) -> list[Entry]:
        """Every file and directory under ``path`` (symlinks are not followed)."""

    @abc.abstractmethod
    async def read(self, path: str, offset: int, length: int) -> bytes: ...

    @abc.abstractmethod
    async def read_batch(self, paths: list[str]) -> list[bytes]: ...

    @abc.abstractmethod
    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        """BLAKE3 of each chunk, computed next to the data (of the part file if ``part``)."""

    @abc.abstractmethod
    async def mkdirs(self, path: str) -> None: ...

    async def mkdirs_many(self, paths: list[str]) -> None:
        """Every directory of a tree (with parents); endpoints behind a network
        override this to make it one round trip rather than one per directory."""
        for path in paths:
            await self.mkdirs(path)

    @abc.abstractmethod
    async def begin(self, path: str, ident: PartIdent) -> dict[int, str]:
        """Prepare the part file; returns chunks already verified for this same source.

        Raises ``TransferError`` if the space cannot be reserved (disk full).
        """

    @abc.abstractmethod
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
        """Write one chunk of the part file; ``IntegrityError`` if ``digest`` is wrong."""

    async def verify(self, path: str, chunk_size: int, digests: list[str]) -> list[int]:
        """The end check: indices of the part file's chunks that differ from ``digests``
        (the source's). This default reads the whole part file back; endpoints that
        hash chunks on arrival answer from those digests instead."""
        return bad_chunks(digests, await self.hash_chunks(path, chunk_size, part=True))

    @abc.abstractmethod
    async def finish(self, path: str, mode: int, mtime_ns: int) -> None:
        """Give the part file its final name (atomic rename), mode and mtime."""

    @abc.abstractmethod
    async def abort(self, path: str) -> None:
        """Drop the part file and its manifest (nothing under the final name changes)."""

    @abc.abstractmethod
    async def write_batch(self, items: list[BatchItem], *, compressed: bool = False) -> int | None:
        """Write whole small files, each renamed into place once written (an item's
        ``digest``, when given, is checked first); the bytes that crossed (None:
        nothing crossed a wire)."""

    async def close(self) -> None:
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def part_names(path: str) -> tuple[str, str]:
    """(part file, manifest) beside ``path``: hidden, so tools skip them."""
    head, _, name = path.rstrip("/").rpartition("/")
    prefix = f"{head}/." if head or path.startswith("/") else "."
    return f"{prefix}{name}{PART_SUFFIX}", f"{prefix}{name}{MANIFEST_SUFFIX}"
