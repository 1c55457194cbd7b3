"""SDK calls that move bytes: files at sites, and windows of a job's log.

Mixed into ``Client``. An upload streams from a file object in chunks, so a
file larger than memory can go to a site; the server writes it under a
temporary name and renames it only when whole (docs/portal.md).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import IO, Any
from urllib.parse import quote

import orjson

from computenet.client.calls import Content, Requests

UPLOAD_CHUNK_BYTES = 1 << 20
#: a log's tail is found by one-byte probes from this offset up (see ``log_tail``)
FIRST_PROBE_BYTES = 64 << 10


def _chunks(source: IO[bytes], size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        data = source.read(min(UPLOAD_CHUNK_BYTES, left))
        if not data:
            return
        left -= len(data)
        yield data


def _size_of(source: IO[bytes]) -> int:
    """Bytes from the file object's position to its end."""
    here = source.tell()
    end = source.seek(0, os.SEEK_END)
    source.seek(here)
    return end - here


def from_line_start(text: str, start: int) -> tuple[str, int]:
    """``text`` read from byte ``start`` of a log, cut to begin at a line
    (unless it starts the log or holds no line break), and its new start."""
    if start == 0:
        return text, 0
    cut = text.find("\n")
    if cut < 0 or cut == len(text) - 1:
        return text, start
    return text[cut + 1 :], start + len(text[: cut + 1].encode())


class FileCalls:
    # ----- files at sites ---------------------------------------------------
    def site_files(self: Requests, site: str, path: str = "") -> Any:
        """A directory of a site: ``{"site", "path", "entries", "truncated"}``."""
        return self.get(f"/sites/{quote(site, safe='')}/files", {"path": path})

    def download(self: Requests, site: str, path: str) -> bytes:
        """A file's bytes (held in memory: for files a page or a script reads)."""
        resp = self._send(
            "GET", f"/sites/{quote(site, safe='')}/files/content", params={"path": path}
        )
        return resp.content

    def upload(
        self: Requests, site: str, path: str, data: bytes | IO[bytes], *, size: int | None = None
    ) -> Any:
        """Write ``data`` as the file ``path`` at ``site`` through the transfer engine.

        ``data`` is bytes or a binary file object, read from its position in
        1 MiB chunks (``size`` bytes of it, by default up to its end), so
        memory holds one chunk at a time. The size is declared first: a file
        over the server's ``max_upload_bytes`` is refused (``LimitError``)
        before any of it is sent, and a refused or broken upload leaves
        nothing at the site."""
        if isinstance(data, bytes):
            body: Content = data
            size = len(data)
        else:
            size = _size_of(data) if size is None else size
            body = _chunks(data, size)
        resp = self._send(
            "PUT",
            f"/sites/{quote(site, safe='')}/files/content",
            params={"path": path},
            content=body,
            headers={"Content-Length": str(size)},
            timeout_s=3600.0,
        )
        return orjson.loads(resp.content)

    # ----- a job's log ------------------------------------------------------
    def log_range(
        self: Requests,
        job_id: int | str,
        stream: str = "stdout",
        offset: int = 0,
        limit: int = 1 << 20,
    ) -> Any:
        """Up to ``limit`` bytes of the log from byte ``offset``:
        ``{"data", "offset" (where the bytes read end), "eof", "state"}``."""
        return _read(self, job_id, stream, offset, limit)

    def log_tail(
        self: Requests, job_id: int | str, stream: str = "stdout", nbytes: int = 64 << 10
    ) -> dict[str, Any]:
        """About the last ``nbytes`` of the log as it is now, from a line's start:
        ``{"data", "start", "end", "eof", "state"}`` (byte offsets; read on
        from ``end`` to follow it, back from ``start`` for earlier lines).

        The logs route reads forward from an offset and tells no size, so the
        end is found by one-byte reads at doubling, then halving offsets:
        about two calls per doubling of the log's size over ``nbytes``."""
        first = _read(self, job_id, stream, 0, nbytes)
        lo, hi = int(first["offset"]), max(FIRST_PROBE_BYTES, 2 * nbytes)
        if lo < nbytes:  # the whole log fits
            return {**_window(first, 0), "end": lo}
        lo -= 1  # the log holds a byte at lo, none at hi (once found)
        while _has_byte(self, job_id, stream, hi):
            lo, hi = hi, hi * 2
        while hi - lo > nbytes:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if _has_byte(self, job_id, stream, mid) else (lo, mid)
        start = max(0, lo + 1 - nbytes)
        body = _read(self, job_id, stream, start, hi - start + nbytes)
        end = int(body["offset"])
        keep = max(0, end - nbytes)
        if keep > start:  # read more than asked: start at the window's lines
            data = str(body["data"]).encode()[keep - start :].decode("utf-8", "replace")
            body, start = {**body, "data": data}, keep
        return {**_window(body, start), "end": end}


def _read(client: Requests, job_id: int | str, stream: str, offset: int, limit: int) -> Any:
    params = {"stream": stream, "offset": offset, "limit": limit}
    return client.get(f"/jobs/{quote(str(job_id), safe='')}/logs", params)


def _has_byte(client: Requests, job_id: int | str, stream: str, offset: int) -> bool:
    return int(_read(client, job_id, stream, offset, 1)["offset"]) > offset


def _window(body: Mapping[str, Any], start: int) -> dict[str, Any]:
    data, start = from_line_start(str(body["data"]), start)
    return {"data": data, "start": start, "eof": body["eof"], "state": body["state"]}
