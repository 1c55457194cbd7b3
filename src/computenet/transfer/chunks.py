"""Chunk plans, BLAKE3 digests and compression of chunk payloads."""

from __future__ import annotations

import re
from dataclasses import dataclass

import blake3

from computenet.errors import IntegrityError, SpecError

DEFAULT_CHUNK_BYTES = 8 * 2**20
SMALL_FILE_BYTES = 256 * 2**10  # files this small travel whole, in batches
# small enough that the destination starts writing while the next batches are read
# (2,000-file batches left it idle for the first ~0.3 s of a 20,000-file tree)
BATCH_BYTES = 4 * 2**20
BATCH_FILES = 500


@dataclass(frozen=True)
class Chunk:
    index: int
    offset: int
    length: int


def plan(size: int, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> list[Chunk]:
    """Chunks covering ``size`` bytes; an empty file has no chunks."""
    return [
        Chunk(i, off, min(chunk_bytes, size - off))
        for i, off in enumerate(range(0, size, chunk_bytes))
    ]


def digest(data: bytes | memoryview) -> str:
    return blake3.blake3(data).hexdigest()


def file_digest(chunk_digests: list[str], size: int) -> str:
    """The whole file's digest: BLAKE3 over its size and its chunks' digests.

    Two files with equal chunk plans have equal file digests exactly when every
    chunk digest agrees, so the end check compares chunk lists (which also says
    which chunks to send again) and never needs a second pass over the bytes."""
    h = blake3.blake3(str(size).encode())
    for d in chunk_digests:
        h.update(bytes.fromhex(d))
    return h.hexdigest()


def bad_chunks(expected: list[str], got: list[str]) -> list[int]:
    """Indices of chunks whose digests differ (a length mismatch marks the tail)."""
    bad = [i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b]
    bad += list(range(min(len(expected), len(got)), len(expected)))
    return bad


def check(data: bytes | memoryview, expected: str, what: str) -> None:
    got = digest(data)
    if got != expected:
        raise IntegrityError(
            f"checksum mismatch for {what}: got {got[:16]}, expected {expected[:16]}",
            transient=True,
        )


def compress(data: bytes) -> bytes | None:
    """zstd at a fast level; None when it would not save at least a tenth."""
    import zstandard

    out = zstandard.ZstdCompressor(level=1).compress(data)
    return out if len(out) < len(data) * 0.9 else None


def decompress(data: bytes, max_bytes: int) -> bytes:
    import zstandard

    try:
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=max_bytes)
    except zstandard.ZstdError as exc:
        raise IntegrityError(f"corrupt compressed chunk: {exc}", transient=True) from exc


_RATE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?[bB]?)(?:/s)?\s*$")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def parse_rate(text: str) -> int:
    """``50M`` -> 50_000_000 bytes/s; ``1Gi`` uses powers of two."""
    match = _RATE_RE.match(text)
    if not match:
        raise SpecError(f"bad rate {text!r}: expected e.g. 50M, 1G, 500k")
    number, unit, suffix = match.groups()
    base = (
        2 ** (10 * " kmgt".index(unit.lower()))
        if suffix.lower().startswith("i")
        else _UNITS[unit.lower()]
    )
    rate = int(float(number) * base)
    if rate <= 0:
        raise SpecError(f"rate {text!r} must be positive")
    return rate
