"""Files at a site in the portal: browse, download, upload through the transfer
engine, pick a form's input; oversized uploads and escaping paths refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import UPLOAD_LIMIT, Portal, csrf_of


@pytest.fixture
def site(portal: Portal, tmp_path: Path) -> Path:
    root = tmp_path / "site-root"
    (root / "inputs").mkdir(parents=True)
    (root / "inputs" / "in.data").write_text("atoms 42\n")
    (tmp_path / "secret.txt").write_text("outside the root\n")
    (root / "inputs" / "leak").symlink_to(tmp_path / "secret.txt")
    portal.admin.post("/sites", {"name": "store", "kind": "path", "config": {"root": str(root)}})
    return root


def test_browse_and_download(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    top = b.get("/portal/files?site=store")
    assert top.status_code == 200 and 'data-path="inputs"' in top.text
    inside = b.get("/portal/files?site=store&path=inputs")
    assert 'data-path="inputs/in.data"' in inside.text
    assert 'data-path="inputs/leak"' not in inside.text  # links are not followed
    got = b.get("/portal/files/download?site=store&path=inputs/in.data")
    assert got.status_code == 200 and got.content == b"atoms 42\n"
    assert "attachment" in got.headers["content-disposition"]


def test_upload_goes_through_the_transfer_engine(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    page = b.get("/portal/files?site=store&path=inputs")
    resp = b.post(
        "/portal/files/upload",
        data={"csrf": csrf_of(page.text), "site": "store", "path": "inputs"},
        files={"file": ("../../new.in", b"units lj\n")},
    )
    assert resp.status_code == 303, resp.text
    assert (site / "inputs" / "new.in").read_bytes() == b"units lj\n"  # its plain name only
    assert not list(site.rglob("*.cnet-part"))


def test_an_oversized_upload_is_refused_and_nothing_is_written(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    page = b.get("/portal/files?site=store")
    resp = b.post(
        "/portal/files/upload",
        data={"csrf": csrf_of(page.text), "site": "store", "path": ""},
        files={"file": ("big.bin", b"x" * (UPLOAD_LIMIT + 1))},
    )
    assert resp.status_code == 413 and "over the limit" in resp.text
    assert not (site / "big.bin").exists()
    assert sorted(p.name for p in site.iterdir()) == ["inputs"]


def test_paths_that_escape_the_site_root_are_refused(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    up = b.get("/portal/files?site=store&path=../")
    assert up.status_code == 403 and "leaves the site root" in up.text
    leak = b.get("/portal/files/download?site=store&path=inputs/leak")
    assert leak.status_code == 403 and "outside the site root" in leak.text
    assert b"outside the root" not in leak.content
    page = b.get("/portal/files?site=store")
    resp = b.post(
        "/portal/files/upload",
        data={"csrf": csrf_of(page.text), "site": "store", "path": "../elsewhere"},
        files={"file": ("x.in", b"data\n")},
    )
    assert resp.status_code == 403
    assert not (site.parent / "elsewhere").exists()


def test_an_upload_without_the_csrf_token_is_refused(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    resp = b.post(
        "/portal/files/upload",
        data={"site": "store", "path": ""},
        files={"file": ("x.in", b"data\n")},
    )
    assert resp.status_code == 403
    assert not (site / "x.in").exists()


def test_a_form_input_is_chosen_from_a_site(portal: Portal, site: Path) -> None:
    b = portal.signed_in("alice")
    form = b.get("/portal/apps/python")
    assert 'href="/portal/files?field=p_script&amp;app=python"' in form.text
    picker = b.get("/portal/files?site=store&path=inputs&field=p_script&app=python")
    link = re.search(r'class="use" href="([^"]+)"', picker.text)
    assert link, picker.text
    target = link.group(1).replace("&amp;", "&")
    assert target == "/portal/apps/python?p_script=store%3Ainputs/in.data"
    chosen = b.get(target)
    assert 'name="p_script" value="store:inputs/in.data"' in chosen.text
