"""Answers a server gave recently, kept to answer reads while the database
is unreachable.

Only a caller's own earlier answers are replayed: the key holds the caller's
name, so nobody is shown an object the database never let them see. A
replayed answer carries ``Age`` (seconds since it was read) and
``X-Computenet-Stale`` (why it is not fresh).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi.responses import JSONResponse

from computenet.errors import StoreError

MAX_ENTRIES = 5_000


class LastGood:
    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], tuple[float, Any]] = OrderedDict()

    def put(self, caller: str, key: str, body: Any) -> None:
        with self._lock:
            self._items[(caller, key)] = (time.monotonic(), body)
            self._items.move_to_end((caller, key))
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def replay(self, caller: str, key: str, error: StoreError) -> JSONResponse:
        """The caller's last answer for ``key``; ``error`` again when there is none."""
        with self._lock:
            hit = self._items.get((caller, key))
        if hit is None or not error.transient:
            raise error
        age = time.monotonic() - hit[0]
        why = error.message[:200].encode("ascii", "replace").decode()
        headers = {"Age": str(int(age)), "X-Computenet-Stale": why}
        return JSONResponse(hit[1], headers=headers)
