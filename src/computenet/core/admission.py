"""Admission control: a token bucket per caller, so one busy caller waits
instead of making the server slower for everybody.

Each caller (a user name: all of one user's tokens share a bucket) may make
``burst`` requests at once and ``rate_per_s`` a second after that; a request
over the bucket is refused at once with the time until one token is back,
which the API sends as ``429`` with ``Retry-After``. Refusing costs a
dictionary lookup and no database work, which is the point.

The buckets live in this server's memory: with several servers sharing a
database each applies its own, so a caller spreading requests over ``n``
servers gets up to ``n`` times the rate.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from computenet.clock import Clock
from computenet.errors import ConfigError, RateLimitError


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class Admission:
    """``rate_per_s`` 0 turns admission control off (every request passes)."""

    #: buckets kept before full ones (callers idle long enough) are dropped
    MAX_BUCKETS = 100_000

    def __init__(self, clock: Clock, rate_per_s: float, burst: int) -> None:
        if rate_per_s < 0 or burst < 1:
            raise ConfigError(f"admission: rate {rate_per_s}/s must be >= 0, burst {burst} >= 1")
        self.clock = clock
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate_per_s > 0

    def wait_s(self, key: str) -> float:
        """Take one token from ``key``'s bucket: 0.0 when the request may go
        ahead, else the seconds until a token is back (nothing is taken)."""
        if not self.enabled:
            return 0.0
        now = self.clock.now()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.MAX_BUCKETS:
                    self._sweep(now)
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            else:
                # max(): a clock that steps back refills nothing, takes nothing
                elapsed = max(0.0, now - bucket.updated_at)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate_per_s)
                bucket.updated_at = max(bucket.updated_at, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate_per_s

    def admit(self, key: str) -> None:
        """As ``wait_s``, raising ``RateLimitError`` (transient, with
        ``retry_after_s``) for a request over the bucket."""
        wait = self.wait_s(key)
        if wait > 0:
            raise RateLimitError(
                f"too many requests from {key}: the limit is {self.rate_per_s:g} a second "
                f"with bursts of {self.burst}; retry in {wait:.2f} s",
                retry_after_s=round(wait, 3),
            )

    def _sweep(self, now: float) -> None:
        """Drop buckets that have refilled: forgetting them changes nothing."""
        refill_s = self.burst / self.rate_per_s
        for key, bucket in list(self._buckets.items()):
            if now - bucket.updated_at >= refill_s:
                del self._buckets[key]
