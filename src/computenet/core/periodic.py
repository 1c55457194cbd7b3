"""A background service that runs one pass every interval until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod

from computenet.errors import StoreError

log = logging.getLogger("computenet.services")


class PeriodicService(ABC):
    """Subclasses give ``name``, ``period_s()`` and ``tick()``; a failing pass
    is logged and the next one runs as usual, so a service never takes the
    server down."""

    name = "service"

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    def period_s(self) -> float: ...

    @abstractmethod
    async def tick(self) -> None: ...

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except StoreError as exc:  # the store logs an outage once, not every pass
                log.debug("%s pass skipped: %s", self.name, exc.message)
            except Exception:
                log.exception("%s pass failed", self.name)
            await asyncio.sleep(self.period_s())
