"""Alert webhook: POST each new alert as JSON to a configured URL."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import httpx2

log = logging.getLogger("computenet.telemetry")


async def post_alerts(url: str, alerts: Sequence[dict[str, Any]], timeout_s: float = 5.0) -> int:
    """Send ``{"alerts": [...]}`` in one request; returns how many were delivered
    (0 when the receiver failed: the caller tries again later)."""
    if not alerts:
        return 0
    try:
        async with httpx2.AsyncClient(timeout=timeout_s) as client:
            resp = await client.post(url, json={"source": "computenet", "alerts": list(alerts)})
    except httpx2.HTTPError as exc:
        log.warning("alert webhook %s failed: %s", url, exc)
        return 0
    if resp.status_code >= 300:
        log.warning("alert webhook %s answered %s", url, resp.status_code)
        return 0
    return len(alerts)
