"""What the API gained for the portal: newest-first job pages, waits by day,
GPUs per cluster, usage lines by cluster, and files at sites through the SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from computenet.errors import ForbiddenError, LimitError, SpecError

from .conftest import UPLOAD_LIMIT, Portal


def test_jobs_newest_first_page_by_page(portal: Portal) -> None:
    alice = portal.sdk["alice"]
    ids = alice.submit_many(
        [{"script": "#!/bin/sh\ntrue\n", "options": ["-H", "-J", f"j{i}"]} for i in range(7)]
    )
    got = [j["id"] for j in alice.jobs(page_size=3, newest_first=True, fields=("id",))]
    assert got == sorted(ids, reverse=True)
    assert [j["id"] for j in alice.jobs(page_size=3, fields=("id",))] == sorted(ids)


def test_waits_by_day_list_every_day_of_the_range(portal: Portal) -> None:
    rows = portal.sdk["alice"].waits(by="day", since="-3d")["rows"]
    assert len(rows) in (3, 4)  # the range's days, the first and last partly
    assert all(r["jobs"] == 0 and r["mean_s"] == 0.0 for r in rows)
    with pytest.raises(SpecError, match="waits group by cluster or day"):
        portal.sdk["alice"].waits(by="user")


def test_clusters_count_gpus(portal: Portal) -> None:
    for c in portal.sdk["alice"].clusters():
        assert c["gpus_total"] == 0 and c["gpus_alloc"] == 0


def test_files_round_trip_and_refusals(portal: Portal, tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    portal.admin.post("/sites", {"name": "s", "kind": "path", "config": {"root": str(root)}})
    alice = portal.sdk["alice"]
    done = alice.upload("s", "a/b/data.txt", b"12345")
    assert done["bytes"] == 5 and (root / "a" / "b" / "data.txt").read_bytes() == b"12345"
    assert alice.download("s", "/a/b/data.txt") == b"12345"  # absolute: under the root
    listing = alice.site_files("s", "a")
    assert [(e["name"], e["is_dir"]) for e in listing["entries"]] == [("b", True)]
    with pytest.raises(ForbiddenError, match="leaves the site root"):
        alice.upload("s", "../escaped.txt", b"x")
    assert not (tmp_path / "escaped.txt").exists()
    with pytest.raises(LimitError):
        alice.upload("s", "big.bin", b"x" * (UPLOAD_LIMIT + 1))
    assert not (root / "big.bin").exists()
