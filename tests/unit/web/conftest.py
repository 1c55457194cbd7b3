"""The server app in FastAPI's TestClient over fake clusters, users with
passwords, and browsers (each with its own cookies) on it."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from computenet.client import Client
from computenet.web.transport import AppTransport
from tests.unit.api.conftest import TOKEN, cheap_password_hashes, clocked_settings

__all__ = ["cheap_password_hashes"]

PASSWORD = "portal password 1"
UPLOAD_LIMIT = 4096


@dataclass
class Browser:
    """One browser: its own cookie jar, sharing the app's TestClient."""

    tc: TestClient
    jar: httpx2.Cookies = field(default_factory=httpx2.Cookies)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        self.tc.cookies = self.jar
        try:
            return self.tc.request(method, url, follow_redirects=False, **kwargs)
        finally:
            self.jar = self.tc.cookies
            self.tc.cookies = httpx2.Cookies()

    def get(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx2.Response:
        return self.request("POST", url, **kwargs)


@dataclass
class Portal:
    tc: TestClient
    admin: Client
    sdk: dict[str, Client]

    def browser(self) -> Browser:
        return Browser(self.tc)

    def signed_in(self, name: str, password: str = PASSWORD) -> Browser:
        b = self.browser()
        form = b.get("/portal/login")
        assert form.status_code == 200
        resp = b.post(
            "/portal/login",
            data={"username": name, "password": password, "csrf": csrf_of(form.text)},
        )
        assert resp.status_code == 303, resp.text
        return b


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    with portal_on(tmp_path, UPLOAD_LIMIT) as made:
        yield made


@contextlib.contextmanager
def portal_on(tmp_path: Path, upload_limit: int) -> Iterator[Portal]:
    """The app with users alice (chem) and bob (phys), each with an SDK client."""
    from computenet.api.app import create_app
    from computenet.core.runtime import Runtime

    app = create_app(Runtime(clocked_settings(tmp_path, max_upload_bytes=upload_limit)))
    with TestClient(app, base_url="http://testserver") as tc:
        assert tc.portal is not None
        transport = AppTransport(app, ("127.0.0.1", 1), run=tc.portal.call)
        admin = Client("http://testserver", TOKEN, transport=transport)
        admin.set_password("admin", PASSWORD)
        sdk = {"admin": admin}
        for name, project in (("alice", "chem"), ("bob", "phys")):
            token = admin.add_user(name, project=project)["token"]
            admin.set_password(name, PASSWORD)
            sdk[name] = Client("http://testserver", token, transport=transport)
        yield Portal(tc, admin, sdk)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)
