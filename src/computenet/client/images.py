"""SDK calls for container images: list, build (an id at once), follow, remove.

Mixed into ``Client`` (docs/containers.md). A build answers with its record
at once; ``follow_build`` polls its status and hands each new part of the
log to a callback until the build has ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from computenet.client.calls import Requests
from computenet.errors import ImageError


class ImageCalls:
    def images(self: Requests, site: str | None = None) -> list[dict[str, Any]]:
        """The site's images (each with ``state`` ``ready``)."""
        return list(self.get("/images", {"site": site} if site else None)["images"])

    def image_builds(self: Requests, site: str | None = None) -> list[dict[str, Any]]:
        """The site's builds running now, and failed ones newer than their image."""
        return list(self.get("/images", {"site": site} if site else None)["builds"])

    def build_image(
        self: Requests, name: str, packages: Sequence[str], *, suite: str | None = None
    ) -> dict[str, Any]:
        """Start building an image from Debian packages: the build's record
        (``id``, ``state`` ``building``), at once. Bad input or an unknown
        package raises here, and nothing is recorded."""
        body: dict[str, Any] = {"name": name, "packages": list(packages)}
        if suite:
            body["suite"] = suite
        result: dict[str, Any] = self.request("POST", "/images", json=body)
        return result

    def image_build(self: Requests, build_id: str, offset: int = 0) -> dict[str, Any]:
        """A build's record with its ``log`` from byte ``offset`` and ``log_offset``."""
        return _status(self, build_id, offset)

    def follow_build(
        self: Requests,
        build_id: str,
        on_log: Callable[[str], None] | None = None,
        *,
        poll_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> dict[str, Any]:
        """Poll until the build has ended; its last status. Each new part of
        its log goes to ``on_log``. A failed build raises ImageError with its
        message (the log stays at the server: ``image_build(id)``)."""
        offset = 0
        while True:
            status = _status(self, build_id, offset)
            if status["log"] and on_log is not None:
                on_log(status["log"])
            offset = int(status["log_offset"])
            if status["state"] == "failed":
                raise ImageError(str(status["message"]), build=build_id)
            if status["state"] != "building":
                return status
            sleep(poll_s)

    def remove_image(self: Requests, name: str, site: str | None = None) -> dict[str, Any]:
        """Forget the image ``name`` and its ended builds (``builds_forgotten``)."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/images/{quote(name, safe='')}", params={"site": site} if site else None
        )
        return result


def _status(client: Requests, build_id: str, offset: int) -> dict[str, Any]:
    result: dict[str, Any] = client.get(
        f"/images/builds/{quote(build_id, safe='')}", {"offset": offset}
    )
    return result
