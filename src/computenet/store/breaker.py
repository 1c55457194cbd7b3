"""A circuit breaker in front of the database.

After a call finds the database unreachable, the breaker *opens*: for
``open_s`` every session fails at once with a transient ``StoreError``
(nothing is sent, so no request waits on a connect timeout), saying when to
retry. Then calls go through again (*half-open*); the first success closes
the breaker, a failure opens it for twice as long, up to ``max_open_s``.

The waits are short: a refused connection costs nothing, and the server
should be back within ``max_open_s`` of the database. What the breaker saves
is every request waiting out ``connect_timeout`` on a database that drops
packets instead of refusing them.

Written here rather than taken from pybreaker: pybreaker holds its lock for
the whole guarded call, which would let only one thread at a time talk to
the database. This one takes its lock only to change state.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

from computenet.errors import StoreError


class Breaker:
    def __init__(
        self,
        *,
        open_s: float = 0.5,
        max_open_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.open_s = open_s
        self.max_open_s = max_open_s
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._opened_at = 0.0
        self._next_open_s = open_s
        self._failing = False
        #: why the database was last found unreachable (None while healthy)
        self.reason: str | None = None
        #: times the breaker opened, since the start
        self.trips = 0

    @property
    def failing(self) -> bool:
        """True from the first failure until a call succeeds again."""
        return self._failing

    def retry_after_s(self) -> float:
        return max(0.0, self._open_until - self._clock())

    def check(self) -> float:
        """Raise a transient ``StoreError`` (nothing was done) while open; else
        return the time of the check, for ``succeeded``."""
        now = self._clock()
        wait = self._open_until - now
        if wait > 0:
            raise StoreError(
                f"database unreachable ({self.reason}); retry in {math.ceil(wait)} s",
                retry_after_s=wait,
            )
        return now

    def failed(self, reason: str) -> float:
        """The database was found unreachable; returns how long the breaker stays open."""
        with self._lock:
            now = self._clock()
            self.reason = reason
            if now < self._open_until:
                return self._open_until - now  # another thread's failure already opened it
            wait = self._next_open_s
            self._open_until = now + wait
            self._opened_at = now
            self._next_open_s = min(self.max_open_s, wait * 2)
            self._failing = True
            self.trips += 1
            return wait

    def succeeded(self, checked_at: float) -> bool:
        """A call checked at ``checked_at`` got through. It closes the breaker
        only if it began after the last failure (a call already under way
        then proves nothing). Returns True when this closed it."""
        if not self._failing or checked_at < self._opened_at:
            return False
        with self._lock:
            if not self._failing:
                return False
            self._failing = False
            self._open_until = 0.0
            self._next_open_s = self.open_s
            self.reason = None
            return True
