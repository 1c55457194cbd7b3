"""Third-party copies: the destination agent pulls straight from the source agent.

The control side mints a short-lived read-only token on the source agent and
hands it to the destination agent, so the bytes go site to site and never
through the user's machine, and the source's own token never travels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from computenet.errors import ComputeNetError, TransferError, from_dict
from computenet.transfer.agent_client import AgentAccess, AgentEndpoint
from computenet.transfer.engine import Copier, CopyOptions, CopyResult
from computenet.transfer.local import LocalEndpoint

PULL_TOKEN_TTL_S = 6 * 3600


def options_to_dict(opts: CopyOptions) -> dict[str, Any]:
    return {
        "recursive": opts.recursive,
        "resume": opts.resume,
        "parallel": opts.parallel,
        "limit_bytes_per_s": opts.limit_bytes_per_s,
        "compress": opts.compress,
        "checksum_only": opts.checksum_only,
        "chunk_bytes": opts.chunk_bytes,
    }


async def start_pull(local: LocalEndpoint, req: dict[str, Any], status: dict[str, Any]) -> None:
    """Run on the destination agent: copy from the source agent into this root."""

    def progress(n: int) -> None:
        status["bytes_done"] += n

    try:
        source = AgentEndpoint(
            AgentAccess.from_dict(req["source"]),
            name="source",
            parallel=int(req["options"].get("parallel", 4)),
        )
        async with source:

            def on_total(nbytes: int, files: int) -> None:
                status.update(bytes_total=nbytes, files=files)

            result = await Copier(
                source,
                str(req["src_path"]),
                local,
                str(req["dst_path"]),
                CopyOptions(**req["options"]),
                progress,
                on_total,
            ).run()
        status.update(state="completed", result=result.to_dict())
    except ComputeNetError as exc:
        status.update(state="failed", error=exc.to_dict())
    except Exception as exc:  # reported to the caller, who turns it into an error
        status.update(state="failed", error=TransferError(f"pull failed: {exc}").to_dict())


async def third_party_copy(
    src: AgentEndpoint,
    src_path: str,
    dst: AgentEndpoint,
    dst_path: str,
    opts: CopyOptions,
    progress: Callable[[int], None] | None = None,
    on_total: Callable[[int, int], None] | None = None,
    poll_s: float = 0.2,
) -> CopyResult:
    """Ask ``dst`` to pull ``src_path`` from ``src``; wait, relaying progress."""
    token = await src.mint_token(ttl_s=PULL_TOKEN_TTL_S, scope="r")
    access = AgentAccess(
        src.access.url, token, src.access.fingerprint, bulk_url=src.access.bulk_url
    )
    pull_id = await dst.start_pull(
        {
            "source": access.to_dict(),
            "src_path": src_path,
            "dst_path": dst_path,
            "options": options_to_dict(opts),
        }
    )
    reported, totalled = 0, False
    while True:
        status = await dst.pull_status(pull_id)
        if on_total and not totalled and "bytes_total" in status:
            on_total(int(status["bytes_total"]), int(status["files"]))
            totalled = True
        done = int(status.get("bytes_done", 0))
        if progress and done > reported:
            progress(done - reported)
            reported = done
        if status["state"] == "completed":
            r = status["result"]
            return CopyResult(
                bytes_total=r["bytes_total"],
                bytes_sent=r["bytes_sent"],
                files=r["files"],
                files_skipped=r["files_skipped"],
                chunks_resent=r["chunks_resent"],
                seconds=r["seconds"],
                verified=r["verified"],
                differing=list(r["differing"]),
            )
        if status["state"] == "failed":
            raise from_dict(status["error"])
        await asyncio.sleep(poll_s)
