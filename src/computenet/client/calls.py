"""What the SDK's call groups (mixed into ``Client``) need of it: its requests."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import httpx2

#: what a request body may be: bytes, or chunks sent one after another
Content = bytes | Iterable[bytes]


class Requests(Protocol):
    """The JSON calls of ``Client`` (``request``, ``get``) and its raw ``_send``."""

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        timeout_s: float | None = None,
    ) -> Any: ...

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: Content | None = None,
        headers: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> httpx2.Response: ...
