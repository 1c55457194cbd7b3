"""The telemetry loop: collect, roll up, expire, detect anomalies, notify."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from computenet.core.periodic import PeriodicService
from computenet.store.tables_telemetry import AlertRow
from computenet.telemetry import anomalies, rollup
from computenet.telemetry.collector import ClusterResult, Collector
from computenet.telemetry.settings import TelemetrySettings
from computenet.telemetry.webhook import post_alerts

if TYPE_CHECKING:
    from computenet.core.runtime import Runtime

log = logging.getLogger("computenet.telemetry")
EXPIRE_EVERY = 20  # collections between retention passes


class TelemetryService(PeriodicService):
    name = "telemetry"

    def __init__(self, runtime: Runtime, settings: TelemetrySettings | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.settings = settings or TelemetrySettings.from_env()
        embedded = {c.name for c in runtime.settings.clusters if c.kind == "embedded"}
        base = runtime.settings.state_dir / "clusters"

        def job_dirs(name: str) -> Path | None:
            return base / name / "jobs" if name in embedded else None

        self.collector = Collector(
            runtime.store, runtime.adapters, runtime.clock, self.settings, job_dirs=job_dirs
        )
        self.last_results: list[ClusterResult] = []
        self.passes = 0

    def period_s(self) -> float:
        return self.settings.interval_s

    async def tick(self) -> None:
        await self.step()

    async def step(self) -> list[ClusterResult]:
        """One collection and everything that follows from it."""
        self.last_results = await self.collector.collect()
        await asyncio.to_thread(self._maintain)
        if self.settings.webhook_url:
            await self.notify()
        self.passes += 1
        return self.last_results

    def _maintain(self) -> None:
        now = self.runtime.clock.now()
        with self.runtime.store.session() as s:
            rollup.roll_all(s, now)
            if self.passes % EXPIRE_EVERY == 0:
                rollup.expire(s, self.settings, now)
            findings = anomalies.detect(
                s, now, self.settings, dict(self.collector.consecutive_errors)
            )
            anomalies.sync_alerts(s, findings, now)

    async def notify(self) -> int:
        """Post alerts not yet sent to the webhook; mark them sent if it took them."""
        url = self.settings.webhook_url
        if not url:
            return 0
        with self.runtime.store.session() as s:
            rows = list(s.scalars(select(AlertRow).where(AlertRow.notified.is_(False)).limit(500)))
            payload = [anomalies.alert_to_dict(r) for r in rows]
        sent = await post_alerts(url, payload)
        if sent:
            with self.runtime.store.session() as s:
                for alert in s.scalars(
                    select(AlertRow).where(AlertRow.id.in_([p["id"] for p in payload]))
                ):
                    alert.notified = True
        return sent


def make_service(runtime: Runtime) -> TelemetryService:
    return TelemetryService(runtime)
