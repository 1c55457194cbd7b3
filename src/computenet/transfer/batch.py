"""The batch frame: many small files in one request.

Layout: 8-byte big-endian header length, a JSON header (one object per file:
path, size, digest, mode, mtime_ns), then the files' bytes back to back. Unlike
tar there is no 512-byte padding per file. A batch sent to an agent is checked
as one body (one BLAKE3 over the whole frame, taken by the sender and again on
arrival), so a file's own ``digest`` may be empty; one hash of 8 MiB costs far
less than 2,000 hashes of 4 KiB, and covers every byte of every file all the same.
"""

from __future__ import annotations

import json
import struct

from computenet.errors import TransferError
from computenet.transfer.endpoint import BatchItem

MAX_HEADER_BYTES = 64 * 2**20


def pack(items: list[BatchItem]) -> bytes:
    header = json.dumps(
        [
            {
                "path": i.path,
                "size": len(i.data),
                "digest": i.digest,
                "mode": i.mode,
                "mtime_ns": i.mtime_ns,
            }
            for i in items
        ]
    ).encode()
    return b"".join([struct.pack(">Q", len(header)), header, *(i.data for i in items)])


def unpack(blob: bytes | memoryview) -> list[BatchItem]:
    """The items of a frame; their data are views into ``blob`` (no copy per file)."""
    view = memoryview(blob)
    if len(view) < 8:
        raise TransferError("truncated batch")
    (hlen,) = struct.unpack(">Q", view[:8])
    if hlen > MAX_HEADER_BYTES or 8 + hlen > len(view):
        raise TransferError("truncated batch header")
    try:
        header = json.loads(bytes(view[8 : 8 + hlen]))
    except ValueError as exc:
        raise TransferError(f"corrupt batch header: {exc}") from exc
    items, pos = [], 8 + hlen
    for h in header:
        size = int(h["size"])
        if pos + size > len(view):
            raise TransferError("truncated batch body")
        items.append(
            BatchItem(
                str(h["path"]),
                view[pos : pos + size],
                str(h["digest"]),
                int(h["mode"]),
                int(h["mtime_ns"]),
            )
        )
        pos += size
    return items


def pack_blobs(blobs: list[bytes]) -> bytes:
    """Frame for read_batch replies: the same layout, digests computed by the reader."""
    return pack([BatchItem(str(i), b, "", 0, 0) for i, b in enumerate(blobs)])


def unpack_blobs(blob: bytes) -> list[bytes]:
    return [bytes(i.data) for i in unpack(blob)]
