"""A directory on a site's login node, over SFTP (asyncssh).

SSH encrypts and MACs every packet, so a chunk cannot change on the wire
unnoticed. sshd cannot hash for us, so a chunk written in this run is trusted
with the digest the sender checked just before writing it (the same trust as
an agent's digest taken on arrival); only chunks kept from an earlier run are
read back over SFTP and hashed here, since they may have rotted in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import posixpath
import stat as stat_mod
from dataclasses import dataclass
from typing import Any

from computenet.errors import ConfigError, NotFoundError, TransferError
from computenet.transfer import chunks
from computenet.transfer.endpoint import (
    BatchItem,
    Endpoint,
    Entry,
    FileStat,
    PartIdent,
    part_names,
)
from computenet.transfer.paths import clean_relative

#: Ciphers in order of preference. asyncssh seals each SSH packet (32 KiB at most from
#: OpenSSH) in Python: AES-GCM is one ``cryptography`` call per packet, ChaCha20-Poly1305
#: (asyncssh's and OpenSSH's first choice, which ``scp`` uses) several. A 1 GiB upload
#: took 5.1-6.9 s with AES-GCM against 7.9-9.6 s with ChaCha20 in the same run
#: (docs/benchmarks.md, "Third pass"). The others stay for servers without AES-GCM.
CIPHERS = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
)


@dataclass(frozen=True)
class SftpAccess:
    host: str
    port: int
    user: str
    root: str
    key_path: str
    known_hosts: str | None = None  # None: host key not checked (loopback/tests only)

    @classmethod
    def parse(cls, target: str, key_path: str, known_hosts: str | None = None) -> SftpAccess:
        """``USER@HOST[:PORT]:DIR``."""
        user, at, rest = target.partition("@")
        host, _, rest = rest.partition(":")
        port_text, sep, root = rest.partition(":")
        if not sep:
            port_text, root = "22", rest
        if not at or not user or not host or not root or not port_text.isdigit():
            raise ConfigError(f"bad SFTP target {target!r}: expected USER@HOST[:PORT]:DIR")
        return cls(host, int(port_text), user, root, key_path, known_hosts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "root": self.root,
            "key_path": self.key_path,
            "known_hosts": self.known_hosts,
        }


#: SFTP writes in flight per chunk (of up to the server's write limit, 255 KiB for
#: OpenSSH). With the engine's 4 streams that fills sshd's 2 MiB channel window; more
#: (asyncssh's 16) only wait for window adjusts, which cut the data into smaller
#: packets: 42,500 SSH packets per GiB instead of 33,700, each sealed in Python.
WRITE_REQUESTS = 2


def _translate(exc: Exception, what: str) -> Exception:
    import asyncssh

    if isinstance(exc, asyncssh.SFTPNoSuchFile):
        return NotFoundError(f"no such file: {what}")
    if isinstance(exc, asyncssh.SFTPFailure) and "space" in str(exc).lower():
        return TransferError(f"destination disk full while writing {what}")
    if isinstance(exc, asyncssh.SFTPError):
        return TransferError(f"SFTP {what}: {exc.reason}")
    return TransferError(f"SSH {what}: {exc}", transient=True)


class SftpEndpoint(Endpoint):
    remote = True

    def __init__(self, access: SftpAccess, *, name: str = "sftp") -> None:
        self.access = access
        self.name = name
        self._conn: Any = None
        self._sftp: Any = None
        self._lock = asyncio.Lock()
        #: chunks written by this endpoint, per part: {path: {index: digest}}
        self._written: dict[str, dict[int, str]] = {}

    def _abs(self, path: str) -> str:
        rel = clean_relative(path)  # paths stay under the site's directory
        return posixpath.join(self.access.root, rel) if rel else self.access.root

    async def _client(self) -> Any:
        import asyncssh

        async with self._lock:
            if self._sftp is None:
                try:
                    self._conn = await asyncssh.connect(
                        self.access.host,
                        port=self.access.port,
                        username=self.access.user,
                        client_keys=[self.access.key_path],
                        known_hosts=self.access.known_hosts,
                        compression_algs=None,
                        encryption_algs=list(CIPHERS),
                    )
                    self._sftp = await self._conn.start_sftp_client()
                except (OSError, asyncssh.Error) as exc:
                    raise TransferError(
                        f"cannot reach {self.access.user}@{self.access.host}:"
                        f"{self.access.port}: {exc}",
                        transient=True,
                    ) from exc
            return self._sftp

    async def close(self) -> None:
        if self._sftp is not None:
            self._sftp.exit()
            self._conn.close()
            await self._conn.wait_closed()
            self._sftp = self._conn = None

    async def _do(self, what: str, op: Any) -> Any:
        import asyncssh

        sftp = await self._client()
        try:
            return await op(sftp)
        except (OSError, asyncssh.Error) as exc:
            raise _translate(exc, what) from exc

    # ----- reading --------------------------------------------------------
    async def stat(self, path: str) -> FileStat | None:
        try:
            a = await self._do(path, lambda s: s.stat(self._abs(path)))
        except NotFoundError:
            return None
        return FileStat(
            a.size or 0,
            _mtime_ns(a),
            stat_mod.S_IMODE(a.permissions or 0),
            stat_mod.S_ISDIR(a.permissions or 0),
        )

    async def walk(self, path: str) -> list[Entry]:
        top = await self.stat(path)
        if top is None:
            raise NotFoundError(f"no such file: {path}")
        if not top.is_dir:
            return [Entry("", top.size, top.mtime_ns, top.mode, False)]
        out = [Entry("", 0, top.mtime_ns, top.mode, True)]
        stack = [""]
        while stack:
            rel = stack.pop()
            here = self._abs(posixpath.join(path, rel) if rel else path)
            names = await self._do(here, lambda s, h=here: s.readdir(h))
            for n in names:
                if n.filename in (".", "..") or n.filename.endswith(
                    (".cnet-part", ".cnet-manifest")
                ):
                    continue
                perm = n.attrs.permissions or 0
                if not (stat_mod.S_ISDIR(perm) or stat_mod.S_ISREG(perm)):
                    continue  # symlinks and devices are not followed
                sub = f"{rel}/{n.filename}" if rel else n.filename
                mtime_ns = _mtime_ns(n.attrs)
                is_dir = stat_mod.S_ISDIR(perm)
                out.append(
                    Entry(
                        sub,
                        0 if is_dir else n.attrs.size or 0,
                        mtime_ns,
                        stat_mod.S_IMODE(perm),
                        is_dir,
                    )
                )
                if is_dir:
                    stack.append(sub)
        return out

    async def read(self, path: str, offset: int, length: int) -> bytes:
        async def op(s: Any) -> bytes:
            async with s.open(self._abs(path), "rb") as fh:
                return bytes(await fh.read(length, offset))

        return bytes(await self._do(path, op))

    async def read_batch(self, paths: list[str]) -> list[bytes]:
        sem = asyncio.Semaphore(32)

        async def one(p: str) -> bytes:
            async with sem:
                st = await self.stat(p)
                return await self.read(p, 0, st.size if st else 0)

        return list(await asyncio.gather(*(one(p) for p in paths)))

    async def hash_chunks(self, path: str, chunk_size: int, *, part: bool = False) -> list[str]:
        target = part_names(path)[0] if part else path
        st = await self.stat(target)
        if st is None:
            raise NotFoundError(f"no such file: {target}")
        sem = asyncio.Semaphore(4)

        async def one(c: chunks.Chunk) -> str:
            async with sem:
                return chunks.digest(await self.read(target, c.offset, c.length))

        return list(await asyncio.gather(*(one(c) for c in chunks.plan(st.size, chunk_size))))

    # ----- writing --------------------------------------------------------
    async def mkdirs(self, path: str) -> None:
        await self._do(path, lambda s: s.makedirs(self._abs(path), exist_ok=True))

    async def begin(self, path: str, ident: PartIdent) -> dict[int, str]:
        part, manifest = part_names(path)
        try:
            text = await self._do(manifest, lambda s: _read_text(s, self._abs(manifest)))
            lines = text.splitlines()
            part_st = await self.stat(part)
            if (
                lines
                and json.loads(lines[0]) == ident.to_dict()
                and part_st
                and part_st.size == ident.size
            ):
                return {
                    int(i): d
                    for i, _, d in (ln.partition(" ") for ln in lines[1:])
                    if i.isdigit() and len(d) == 64
                }
        except (NotFoundError, ValueError):
            pass

        async def fresh(s: Any) -> None:
            async with s.open(self._abs(part), "wb") as fh:
                await fh.truncate(ident.size)
            async with s.open(self._abs(manifest), "wb") as fh:
                await fh.write(json.dumps(ident.to_dict()).encode() + b"\n")

        await self._do(path, fresh)
        self._written.pop(path, None)
        return {}

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
        if compressed:
            data = chunks.decompress(data, 1 << 30)
        # hashed off the event loop (BLAKE3 releases the GIL), which meanwhile seals packets
        await asyncio.to_thread(chunks.check, data, digest, f"{path} chunk {index}")
        part, manifest = part_names(path)

        async def op(s: Any) -> None:
            async with s.open(self._abs(part), "r+b", max_requests=WRITE_REQUESTS) as fh:
                await fh.write(data, offset)
            async with s.open(self._abs(manifest), "ab") as fh:
                await fh.write(f"{index} {digest}\n".encode())

        await self._do(path, op)
        self._written.setdefault(path, {})[index] = digest

    async def verify(self, path: str, chunk_size: int, digests: list[str]) -> list[int]:
        """Chunks written in this run count with the digest checked as they were
        written; the rest (kept from an earlier run) are read back and hashed."""
        part = part_names(path)[0]
        st = await self.stat(part)
        if st is None:
            raise TransferError(f"{path}: no transfer in progress (begin first)")
        written = self._written.get(path, {})
        sem = asyncio.Semaphore(4)

        async def one(c: chunks.Chunk) -> str:
            if c.index in written:
                return written[c.index]
            async with sem:
                return chunks.digest(await self.read(part, c.offset, c.length))

        plan = chunks.plan(st.size, chunk_size)
        return chunks.bad_chunks(digests, list(await asyncio.gather(*(one(c) for c in plan))))

    async def finish(self, path: str, mode: int, mtime_ns: int) -> None:
        import asyncssh

        part, manifest = part_names(path)

        async def op(s: Any) -> None:
            await s.setstat(
                self._abs(part),
                asyncssh.SFTPAttrs(
                    permissions=mode & 0o7777,
                    atime=mtime_ns // 10**9,
                    mtime=mtime_ns // 10**9,
                    atime_ns=mtime_ns,
                    mtime_ns=mtime_ns,
                ),
            )
            await s.posix_rename(self._abs(part), self._abs(path))
            await s.remove(self._abs(manifest))

        await self._do(path, op)
        self._written.pop(path, None)

    async def abort(self, path: str) -> None:
        self._written.pop(path, None)
        for p in part_names(path):
            with contextlib.suppress(NotFoundError):
                await self._do(p, lambda s, p=p: s.remove(self._abs(p)))

    async def write_batch(self, items: list[BatchItem], *, compressed: bool = False) -> int:
        import asyncssh

        for item in items:  # SSH's MAC guards the wire; a given digest is checked here
            if item.digest:
                chunks.check(item.data, item.digest, item.path)
        sem = asyncio.Semaphore(32)

        async def one(item: BatchItem) -> None:
            part = self._abs(part_names(item.path)[0])

            async def op(s: Any) -> None:
                async with s.open(part, "wb") as fh:
                    await fh.write(item.data)
                await s.setstat(
                    part,
                    asyncssh.SFTPAttrs(
                        permissions=item.mode & 0o7777,
                        atime=item.mtime_ns // 10**9,
                        mtime=item.mtime_ns // 10**9,
                        atime_ns=item.mtime_ns,
                        mtime_ns=item.mtime_ns,
                    ),
                )
                await s.posix_rename(part, self._abs(item.path))

            async with sem:
                await self._do(item.path, op)

        await asyncio.gather(*(one(i) for i in items))
        return sum(len(i.data) for i in items)


async def _read_text(sftp: Any, path: str) -> str:
    async with sftp.open(path, "rb") as fh:
        return bytes(await fh.read()).decode()


def _mtime_ns(attrs: Any) -> int:
    if attrs.mtime_ns is not None:
        return int(attrs.mtime_ns)
    return int(attrs.mtime or 0) * 10**9
