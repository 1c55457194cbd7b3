"""The accounting loop: record ended attempts, release reservations.

On start it catches up on every ended attempt without a record; after that
it follows ``job_events`` from a watermark, so a pass costs in proportion to
what changed, not to the history. The watermark only passes events older
than ``SETTLE_S`` (an event id taken by a transaction that commits late is
seen on a later pass); records are keyed by attempt, so seeing an event
twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from computenet.accounting import guard, ledger
from computenet.accounting.prices import DEFAULT_TIME_S, PriceTable
from computenet.core.periodic import PeriodicService
from computenet.errors import StoreError

if TYPE_CHECKING:
    from computenet.core.runtime import Runtime

log = logging.getLogger("computenet.accounting")
SETTLE_S = 30.0
BATCH = 2000


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class AccountingService(PeriodicService):
    name = "accounting"

    def __init__(self, runtime: Runtime, *, interval_s: float | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.interval_s = interval_s or _env_float("CN_ACCOUNTING_INTERVAL_S", 2.0)
        self.prices = PriceTable(
            runtime.settings.clusters,
            default_time_s=int(_env_float("CN_ACCOUNTING_DEFAULT_TIME_S", DEFAULT_TIME_S)),
        )
        guard.register_prices(runtime.store.engine, self.prices)
        self._watermark: int | None = None
        self.recorded = 0

    def period_s(self) -> float:
        return self.interval_s

    async def tick(self) -> None:
        await asyncio.to_thread(self.step)

    def step(self) -> int:
        """One pass; returns the number of usage records written."""
        now = self.runtime.clock.now()
        store = self.runtime.store
        written = 0
        try:
            if self._watermark is None:
                with store.session() as s:
                    mark = ledger.last_event_id(s)
                while True:  # catch up on everything ended before we started
                    with store.session() as s:
                        pairs = ledger.unaccounted_attempts(s, limit=BATCH)
                        written += ledger.record_attempts(s, pairs, self.prices, now)
                    if len(pairs) < BATCH:
                        break
                self._watermark = mark
            while True:
                with store.session() as s:
                    job_ids, last, seen = ledger.new_event_jobs(s, self._watermark, BATCH)
                    pairs = ledger.unaccounted_attempts(s, job_ids=job_ids, limit=BATCH * 4)
                    written += ledger.record_attempts(s, pairs, self.prices, now)
                    settled = ledger.settled_event_id(s, self._watermark, last, now - SETTLE_S)
                self._watermark = settled
                if seen < BATCH or settled < last:
                    break
            with store.session() as s:
                ledger.release_reservations(s)
        except (IntegrityError, StoreError) as exc:
            # another server wrote the same record first; the next pass goes on
            log.info("accounting pass conflicted, retrying: %s", exc)
        self.recorded += written
        return written


def make_service(runtime: Runtime) -> AccountingService:
    return AccountingService(runtime)
