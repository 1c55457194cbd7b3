"""Uploads stream: from the browser's form through the SDK to the site in
chunks, as large as the site's limit allows (not the API's body limit for
other routes), refused over it before anything is sent, and nothing left at
the site when one breaks off."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.errors import ComputeNetError, LimitError

from .conftest import Portal, csrf_of, portal_on

BODY_LIMIT = 64 << 10  # the API's limit for every other body, made small here
SITE_LIMIT = 1 << 20  # the site's upload limit, larger than that


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Portal]:
    monkeypatch.setattr("computenet.api.app.MAX_BODY_BYTES", BODY_LIMIT)
    with portal_on(tmp_path, SITE_LIMIT) as made:
        yield made


@pytest.fixture
def site(portal: Portal, tmp_path: Path) -> Path:
    root = tmp_path / "site-root"
    root.mkdir()
    portal.admin.post("/sites", {"name": "store", "kind": "path", "config": {"root": str(root)}})
    return root


class Reads(io.BytesIO):
    """A file that counts its reads and may break off after some bytes."""

    def __init__(self, data: bytes, break_after: int | None = None) -> None:
        super().__init__(data)
        self.sizes: list[int] = []
        self.break_after = break_after

    def read(self, size: int | None = -1) -> bytes:
        if self.break_after is not None and self.tell() >= self.break_after:
            raise OSError("the disk went away")
        data = super().read(size)
        self.sizes.append(len(data))
        return data


def test_the_portal_uploads_a_file_over_the_api_body_limit(portal: Portal, site: Path) -> None:
    data = bytes(range(256)) * (3 * BODY_LIMIT // 256)  # three times the body limit
    b = portal.signed_in("alice")
    page = b.get("/portal/files?site=store")
    resp = b.post(
        "/portal/files/upload",
        data={"csrf": csrf_of(page.text), "site": "store", "path": ""},
        files={"file": ("big.bin", data)},
    )
    assert resp.status_code == 303, resp.text
    assert (site / "big.bin").read_bytes() == data
    other = portal.tc.post("/api/v1/jobs", content=b"x" * (BODY_LIMIT + 1))
    assert other.status_code == 413  # every other route keeps the API's limit


def test_a_form_far_over_the_limit_gets_a_page_before_it_is_read(portal: Portal) -> None:
    b = portal.signed_in("alice")
    page = b.get("/portal/files?site=store")
    resp = b.post(
        "/portal/files/upload",
        data={"csrf": csrf_of(page.text), "site": "store", "path": ""},
        files={"file": ("huge.bin", b"h" * (SITE_LIMIT + (2 << 20)))},
    )
    assert resp.status_code == 413 and "<html" in resp.text
    assert f"request body over {SITE_LIMIT + (1 << 20)} bytes" in resp.text


def test_the_sdk_sends_a_file_in_chunks(
    portal: Portal, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("computenet.client.files.UPLOAD_CHUNK_BYTES", 64 << 10)
    data = b"y" * (SITE_LIMIT - 1)
    source = Reads(data)
    done = portal.sdk["alice"].upload("store", "in/data.bin", source)
    assert done["bytes"] == len(data) and (site / "in" / "data.bin").read_bytes() == data
    assert max(source.sizes) == 64 << 10 and sum(source.sizes) == len(data)


def test_a_file_over_the_site_limit_is_refused_before_it_is_read(
    portal: Portal, site: Path
) -> None:
    source = Reads(b"z" * (SITE_LIMIT + 1))
    with pytest.raises(LimitError, match="over the limit"):
        portal.sdk["alice"].upload("store", "big.bin", source)
    assert source.sizes == []  # not a byte read, so none sent
    assert list(site.iterdir()) == []


def test_an_upload_that_breaks_off_leaves_nothing_at_the_site(
    portal: Portal, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("computenet.client.files.UPLOAD_CHUNK_BYTES", 64 << 10)
    source = Reads(b"w" * (SITE_LIMIT - 10), break_after=1 << 19)
    with pytest.raises((ComputeNetError, OSError)):
        portal.sdk["alice"].upload("store", "half.bin", source)
    assert list(site.iterdir()) == []
    assert not list((tmp_path / "state").glob("cn-upload-*"))  # its staging copy is gone too
