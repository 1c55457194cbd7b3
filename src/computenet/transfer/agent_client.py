"""An endpoint on a site agent, over HTTPS pinned to the agent's certificate.

Small JSON calls go through an async client to the agent's control listener.
Bulk bytes (chunks and batches) go to its bulk listener (``bulk_url``, served
by threads: ``agent_data``; an agent without one takes them on the control
listener) through a blocking client in a thread pool: a blocking ``ssl`` socket
encrypts inside ``SSL_write`` with the GIL released, so each stream encrypts
on its own core and no memory BIO copies the data, where one event loop would
encrypt every stream on a single core. Every connection sets TCP_NODELAY, since
headers and body leave in separate writes and Nagle would hold the second one
back for a delayed ACK.
"""

from __future__ import annotations

import asyncio
import json
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2

from computenet import errors
from computenet.errors import TransferError
from computenet.transfer import batch, chunks
from computenet.transfer.endpoint import BatchItem, Endpoint, Entry, FileStat, PartIdent
from computenet.transfer.tls import pinned_context

NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
DATA_TOKEN_TTL_S = 12 * 3600


@dataclass(frozen=True)
class AgentAccess:
    """How to reach an agent: its URL, a token, the pinned certificate fingerprint."""

    url: str
    token: str
    fingerprint: str
    #: the agent's plain data listener (integrity-only copies), when it runs one
    data_url: str | None = None
    #: the agent's bulk listener (TLS, same certificate); None: the control listener
    bulk_url: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentAccess:
        try:
            data_url, bulk_url = data.get("data_url"), data.get("bulk_url")
            return cls(
                str(data["url"]),
                str(data["token"]),
                str(data["fingerprint"]),
                str(data_url) if data_url else None,
                str(bulk_url) if bulk_url else None,
            )
        except KeyError as exc:
            raise errors.ConfigError(f"agent info lacks {exc.args[0]!r}") from exc

    def to_dict(self) -> dict[str, str]:
        out = {"url": self.url, "token": self.token, "fingerprint": self.fingerprint}
        if self.data_url:
            out["data_url"] = self.data_url
        if self.bulk_url:
            out["bulk_url"] = self.bulk_url
        return out


class AgentEndpoint(Endpoint):
    remote = True

    def __init__(
        self,
        access: AgentAccess,
        *,
        name: str = "agent",
        parallel: int = 4,
        timeout_s: float = 300.0,
        integrity_only: bool = False,
    ) -> None:
        """``integrity_only``: chunks and batches go to the agent's plain data
        listener (BLAKE3-checked, not encrypted) with a data token minted over TLS;
        every other call stays on TLS."""
        if integrity_only and not access.data_url:
            raise errors.ConfigError(
                f"agent {name} runs no data listener (cnet agent --data-listen) "
                "for integrity-only copies"
            )
        self.access = access
        self.integrity_only = integrity_only
        self.name = name
        self._parallel = parallel
        self._timeout_s = timeout_s
        self._client: httpx2.AsyncClient | None = None
        self._bulk: httpx2.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()

    async def _http(self) -> httpx2.AsyncClient:
        async with self._lock:
            if self._client is None:
                bulk_url = self.access.bulk_url or self.access.url
                _https_host(bulk_url)  # checked here; the control host's pin covers it
                host, port = _https_host(self.access.url)
                ctx = await asyncio.to_thread(pinned_context, host, port, self.access.fingerprint)
                limits = httpx2.Limits(
                    max_connections=self._parallel + 2,
                    max_keepalive_connections=self._parallel + 2,
                )
                common: dict[str, Any] = {
                    "base_url": self.access.url.rstrip("/") + "/v1",
                    "headers": {"authorization": f"Bearer {self.access.token}"},
                    "timeout": httpx2.Timeout(self._timeout_s, connect=15.0),
                }
                self._client = httpx2.AsyncClient(
                    transport=httpx2.AsyncHTTPTransport(
                        verify=ctx, limits=limits, socket_options=NODELAY
                    ),
                    **common,
                )
                if self.integrity_only:
                    self._bulk = await self._data_client(limits)
                else:
                    # the bulk listener presents the same certificate: the same pin holds
                    self._bulk = httpx2.Client(
                        transport=httpx2.HTTPTransport(
                            verify=ctx, limits=limits, socket_options=NODELAY
                        ),
                        **{**common, "base_url": bulk_url.rstrip("/") + "/v1"},
                    )
                self._pool = ThreadPoolExecutor(
                    max_workers=self._parallel + 2, thread_name_prefix="cnet-agent"
                )
            return self._client

    async def _data_client(self, limits: httpx2.Limits) -> httpx2.Client:
        """The plain-HTTP client for bulk bytes, with a data token (scope ``d``: the
        agent's TLS listener refuses it, so seeing it on the wire opens no control
        route). Called with the TLS client made, under the lock."""
        assert self._client is not None and self.access.data_url
        body = json.dumps({"ttl_s": DATA_TOKEN_TTL_S, "scope": "d"}).encode()
        resp = await self._client.post("/tokens", content=body)
        if resp.status_code >= 400:
            raise errors.from_dict(resp.json())
        token = str(resp.json()["token"])
        return httpx2.Client(
            base_url=self.access.data_url.rstrip("/") + "/v1",
            headers={"authorization": f"Bearer {token}"},
            timeout=httpx2.Timeout(self._timeout_s, connect=15.0),
            transport=httpx2.HTTPTransport(limits=limits, socket_options=NODELAY),
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._bulk is not None:
            self._bulk.close()
            self._bulk = None
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        content: bytes | None = None,
        bulk: bool = False,
    ) -> httpx2.Response:
        """One request; ``bulk`` sends it from a pool thread over a blocking connection."""
        client = await self._http()
        try:
            if bulk:
                resp = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._send_bulk, method, path, params, content
                )
            else:
                resp = await client.request(method, path, params=params, content=content)
        except httpx2.TransportError as exc:
            raise TransferError(
                f"agent {self.name} ({self.access.url}): {exc or type(exc)}", transient=True
            ) from exc
        if resp.status_code >= 400:
            try:
                raise errors.from_dict(resp.json())
            except ValueError:
                raise TransferError(
                    f"agent {self.name} answered {resp.status_code}",
                    transient=resp.status_code >= 500,
                ) from None
        return resp

    def _send_bulk(
        self, method: str, path: str, params: dict[str, Any] | None, content: bytes | None
    ) -> httpx2.Response:
        assert self._bulk is not None
        return self._bulk.request(method, path, params=params, content=content)

    async def _json(self, method: str, path: str, **kw: Any) -> Any:
        return (await self._call(method, path, **kw)).json()

    # ----- reading --------------------------------------------------------
    async def stat(self, path: str) -> FileStat | None:
        data = await self._json("GET", "/stat", params={"path": path})
        return FileStat(**data) if data else None

    async def walk(self, path: str) -> list[Entry]:
        rows = await self._json("GET", "/walk", params={"path": path})
        return [Entry(str(r[0]), int(r[1]), int(r[2]), int(r[3]), bool(r[4])) for r in rows]

    async def read(self, path: str, offset: int, length: int) -> bytes:
        params = {"path": path, "offset": offset, "length": length}
        return (await self._call("GET", "/read", params=params, bulk=True)).content

    async def read_batch(self, paths: list[str]) -> list[bytes]:
        resp = await self._call(
            "POST", "/read-batch", content=json.dumps(paths).encode(), bulk=True
        )
        return batch.unpack_blobs(resp.content)

    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        params = {"path": path, "chunk_size": chunk_size, "part": "1" if part else "0"}
        return [str(d) for d in await self._json("GET", "/hash", params=params)]

    # ----- writing --------------------------------------------------------
    async def mkdirs(self, path: str) -> None:
        await self._call("POST", "/mkdirs", params={"path": path})

    async def mkdirs_many(self, paths: list[str]) -> None:
        if paths:
            await self._call("POST", "/mkdirs", content=json.dumps(paths).encode())

    async def begin(self, path: str, ident: PartIdent) -> dict[int, str]:
        body = json.dumps(ident.to_dict()).encode()
        done = await self._json("POST", "/begin", params={"path": path}, content=body)
        return {int(k): str(v) for k, v in done.items()}

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
        params = {
            "path": path,
            "index": index,
            "offset": offset,
            "digest": digest,
            "z": "1" if compressed else "0",
        }
        await self._call("PUT", "/chunk", params=params, content=data, bulk=True)

    async def verify(self, path: str, chunk_size: int, digests: list[str]) -> list[int]:
        """The agent compares against the digests it took on arrival (an agent too old
        to know ``/verify`` answers 404, and the part file is hashed there instead)."""
        params = {"path": path, "chunk_size": chunk_size}
        try:
            bad = await self._json(
                "POST", "/verify", params=params, content=json.dumps(digests).encode()
            )
        except TransferError as exc:
            if "answered 404" not in exc.message:
                raise
            return await super().verify(path, chunk_size, digests)
        return [int(i) for i in bad]

    async def finish(self, path: str, mode: int, mtime_ns: int) -> None:
        await self._call(
            "POST", "/finish", params={"path": path, "mode": mode, "mtime_ns": mtime_ns}
        )

    async def abort(self, path: str) -> None:
        await self._call("POST", "/abort", params={"path": path})

    async def write_batch(self, items: list[BatchItem], *, compressed: bool = False) -> int:
        """One request; the agent checks the whole frame against its BLAKE3 on arrival."""
        await self._http()
        body, params = await asyncio.get_running_loop().run_in_executor(
            self._pool, _frame, items, compressed
        )
        await self._call("POST", "/batch", params=params, content=body, bulk=True)
        return len(body)

    # ----- agent-only -----------------------------------------------------
    async def mint_token(self, *, ttl_s: float = 3600, scope: str = "r") -> str:
        body = json.dumps({"ttl_s": ttl_s, "scope": scope}).encode()
        return str((await self._json("POST", "/tokens", content=body))["token"])

    async def start_pull(self, request: dict[str, Any]) -> str:
        body = json.dumps(request).encode()
        return str((await self._json("POST", "/pull", content=body))["id"])

    async def pull_status(self, pull_id: str) -> dict[str, Any]:
        return dict(await self._json("GET", f"/pull/{pull_id}"))


def _https_host(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise errors.ConfigError(f"agent url {url!r} must be https://")
    return parts.hostname, parts.port or 443


def _frame(items: list[BatchItem], compressed: bool) -> tuple[bytes, dict[str, str]]:
    """A batch's body and query: the digest is of the frame before compression."""
    body = batch.pack(items)
    params = {"z": "0", "digest": chunks.digest(body)}
    if compressed:
        packed = chunks.compress(body)
        if packed is not None:
            body, params["z"] = packed, "1"
    return body, params
