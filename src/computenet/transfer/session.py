"""One user-facing copy: locations to endpoints, the copy, and its record.

Used by ``cnet cp``; ``resolve`` asks the server how to reach each site, and
``reporter`` posts the transfer's states so ``cnet transfers`` shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from computenet.transfer.endpoint import Endpoint
from computenet.transfer.engine import CopyOptions, CopyResult, OnTotal, Progress, copy
from computenet.transfer.local import LocalEndpoint
from computenet.transfer.paths import Location, parse_location
from computenet.transfer.sites import open_endpoint


class ApiClient(Protocol):
    def post(self, path: str, json: Any = None) -> Any: ...


def endpoint_for(
    client: ApiClient, loc: Location, parallel: int, no_encrypt: bool = False
) -> Endpoint:
    if loc.site is None:
        return LocalEndpoint(None)
    access = client.post(f"/sites/{loc.site}/access")
    return open_endpoint(
        loc.site,
        str(access["kind"]),
        dict(access["config"]),
        parallel=parallel,
        no_encrypt=no_encrypt,
    )


async def _resolve(client: ApiClient, loc: Location, opts: CopyOptions) -> Endpoint | BaseException:
    import asyncio

    try:
        return await asyncio.to_thread(endpoint_for, client, loc, opts.parallel, opts.no_encrypt)
    except Exception as exc:  # raised after the record exists, so the failure is recorded
        return exc


async def run_copy(
    client: ApiClient,
    src: str,
    dst: str,
    opts: CopyOptions,
    *,
    progress: Progress | None = None,
    on_total: OnTotal | None = None,
    report: Callable[[str, dict[str, Any]], None] | None = None,
) -> CopyResult:
    """Copy ``src`` to ``dst`` (each a local path or ``SITE:PATH``), recorded on the server."""
    import asyncio

    from computenet.errors import ComputeNetError

    src_loc, dst_loc = parse_location(src), parse_location(dst)
    options = {
        "recursive": opts.recursive,
        "resume": opts.resume,
        "parallel": opts.parallel,
        "limit_bytes_per_s": opts.limit_bytes_per_s,
        "compress": opts.compress,
        "checksum_only": opts.checksum_only,
        "no_encrypt": opts.no_encrypt,
    }
    # the record and both sites' access details are independent server calls: one wait
    record, s_end, d_end = await asyncio.gather(
        asyncio.to_thread(
            client.post,
            "/transfers",
            {"source": str(src_loc), "dest": str(dst_loc), "options": options},
        ),
        _resolve(client, src_loc, opts),
        _resolve(client, dst_loc, opts),
    )
    path = f"/transfers/{record['id']}/events"
    try:
        if not isinstance(s_end, Endpoint) or not isinstance(d_end, Endpoint):
            for end in (s_end, d_end):
                if isinstance(end, Endpoint):
                    await end.close()
            raise s_end if isinstance(s_end, BaseException) else d_end  # type: ignore[misc]
        async with s_end as s_ep, d_end as d_ep:
            result = await copy(s_ep, src_loc.path, d_ep, dst_loc.path, opts, progress, on_total)
    except ComputeNetError as exc:
        await asyncio.to_thread(client.post, path, {"state": "failed", "message": exc.message})
        raise
    except BaseException:
        await asyncio.to_thread(client.post, path, {"state": "cancelled", "message": "interrupted"})
        raise
    body = result.to_dict()
    body["id"] = record["id"]
    await asyncio.to_thread(
        client.post,
        path,
        {
            "state": "completed",
            "bytes_total": result.bytes_total,
            "bytes_sent": result.bytes_sent,
            "files": result.files,
            "result": {k: v for k, v in body.items() if k != "differing"},
        },
    )
    return result
