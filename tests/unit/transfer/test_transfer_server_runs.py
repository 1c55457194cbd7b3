"""Copies carried out by the server: created over REST, followed, cancelled, resumed.

A real server (uvicorn in a thread) over fake clusters; the copies are real
(local files and a ``path`` site under the test's directory).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import Settings
from computenet.errors import ConflictError, ForbiddenError, NotFoundError, SpecError
from computenet.transfer.chunks import digest

TOKEN = "cn_test_admin_token"
MIB = 2**20


@pytest.fixture
def live(
    tmp_path: Path, make_live_server: Callable[[Any], Any], fake_cluster_configs: list[Any]
) -> Any:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        clusters=fake_cluster_configs,
        token=TOKEN,
        user="admin",
    )
    return make_live_server(settings)


@pytest.fixture
def admin(live: Any, tmp_path: Path) -> Iterator[Client]:
    with live.client(TOKEN) as c:
        (tmp_path / "site").mkdir()
        c.post(
            "/sites",
            {"name": "scratch", "kind": "path", "config": {"root": str(tmp_path / "site")}},
        )
        yield c


def _user(live: Any, admin: Client, name: str, project: str) -> Client:
    admin.post("/projects", {"name": project})
    token = admin.post("/users", {"name": name, "project": project})["token"]
    return live.client(token)  # type: ignore[no-any-return]


def _until_end(client: Client, row: dict[str, Any], timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while row["state"] == "running":
        assert time.monotonic() < deadline, f"transfer still running: {row}"
        row = client.get(
            f"/transfers/{row['id']}", params={"wait_s": 5, "since": row["updated_at"]}
        )
    return row


def _file(path: Path, size: int) -> bytes:
    data = os.urandom(size)
    path.write_bytes(data)
    return data


def test_the_server_copies_a_local_file_and_records_its_chunks(
    admin: Client, tmp_path: Path
) -> None:
    data = _file(tmp_path / "big.bin", 5 * MIB + 7)
    row = admin.post(
        "/transfers",
        {
            "source": str(tmp_path / "big.bin"),
            "dest": str(tmp_path / "copy.bin"),
            "options": {"chunk_bytes": MIB},
            "run": True,
        },
    )
    assert row["runner"].startswith("server:")
    done = _until_end(admin, row)
    assert done["state"] == "completed", done
    assert (tmp_path / "copy.bin").read_bytes() == data
    assert done["result"]["verified"] is True
    assert done["bytes_done"] == done["bytes_total"] == len(data)
    full = admin.get(f"/transfers/{row['id']}", params={"manifest": True})
    chunks = full["manifest"][str(tmp_path / "copy.bin")]
    assert full["chunks_verified"] == 6
    assert chunks["5"] == digest(data[5 * MIB :])


def test_a_tree_to_a_site_lands_whole(admin: Client, tmp_path: Path) -> None:
    src = tmp_path / "tree"
    for i in range(30):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}" / f"f{i}").write_bytes(os.urandom(1000 + i))
    row = admin.post(
        "/transfers",
        {"source": str(src), "dest": "scratch:tree", "options": {"recursive": True}, "run": True},
    )
    done = _until_end(admin, row)
    assert done["state"] == "completed", done
    assert done["result"]["files"] == 30
    for f in src.rglob("f*"):
        assert (tmp_path / "site/tree" / f.relative_to(src)).read_bytes() == f.read_bytes()


def test_a_failing_copy_records_the_error_with_its_code(admin: Client, tmp_path: Path) -> None:
    row = admin.post(
        "/transfers",
        {"source": "scratch:../etc/passwd", "dest": str(tmp_path / "x"), "run": True},
    )
    done = _until_end(admin, row)
    assert done["state"] == "failed"
    assert done["result"]["error"]["code"] == "forbidden"
    assert not (tmp_path / "x").exists()


def test_bad_requests_change_nothing(admin: Client, tmp_path: Path) -> None:
    before = len(admin.get("/transfers")["transfers"])
    with pytest.raises(SpecError, match="absolute"):
        admin.post("/transfers", {"source": "rel/path", "dest": "scratch:x", "run": True})
    with pytest.raises(SpecError, match="unknown copy option"):
        admin.post(
            "/transfers",
            {"source": "/tmp", "dest": "scratch:x", "options": {"speed": 9}, "run": True},
        )
    with pytest.raises(SpecError, match="chunk_bytes"):
        admin.post(
            "/transfers",
            {"source": "/tmp", "dest": "scratch:x", "options": {"chunk_bytes": 1}, "run": True},
        )
    with pytest.raises(NotFoundError, match="no site named 'nowhere'"):
        admin.post("/transfers", {"source": "nowhere:a", "dest": "scratch:x", "run": True})
    assert len(admin.get("/transfers")["transfers"]) == before


def test_only_the_servers_own_user_names_its_files_and_others_see_404(
    live: Any, admin: Client, tmp_path: Path
) -> None:
    _file(tmp_path / "site/in.bin", 4096)
    with _user(live, admin, "alice", "chem") as alice, _user(live, admin, "bob", "phys") as bob:
        with pytest.raises(ForbiddenError, match="server's machine"):
            alice.post(
                "/transfers", {"source": "/etc/passwd", "dest": "scratch:stolen", "run": True}
            )
        assert not (tmp_path / "site/stolen").exists()
        row = alice.post(
            "/transfers", {"source": "scratch:in.bin", "dest": "scratch:out.bin", "run": True}
        )
        assert _until_end(alice, row)["state"] == "completed"
        for call in (
            lambda: bob.get(f"/transfers/{row['id']}"),
            lambda: bob.post(f"/transfers/{row['id']}/cancel"),
            lambda: bob.post(f"/transfers/{row['id']}/resume"),
        ):
            with pytest.raises(NotFoundError):
                call()
        assert row["id"] not in {r["id"] for r in bob.get("/transfers")["transfers"]}
        assert admin.get(f"/transfers/{row['id']}")["owner"] == "alice"


def test_cancel_keeps_verified_chunks_and_resume_sends_only_the_rest(
    admin: Client, tmp_path: Path
) -> None:
    data = _file(tmp_path / "big.bin", 8 * MIB)
    row = admin.post(
        "/transfers",
        {
            "source": str(tmp_path / "big.bin"),
            "dest": "scratch:big.bin",
            # a cap slow enough to cancel in the middle
            "options": {"chunk_bytes": MIB, "parallel": 1, "limit_bytes_per_s": 2 * MIB},
            "run": True,
        },
    )
    deadline = time.monotonic() + 20
    seen = row
    while seen["chunks_verified"] < 2:
        assert time.monotonic() < deadline and seen["state"] == "running", seen
        seen = admin.get(
            f"/transfers/{row['id']}", params={"wait_s": 2, "since": seen["updated_at"]}
        )
    admin.post(f"/transfers/{row['id']}/cancel")
    ended = _until_end(admin, seen)
    assert ended["state"] == "cancelled"
    assert not (tmp_path / "site/big.bin").exists()
    assert (tmp_path / "site/.big.bin.cnet-part").exists()
    kept = ended["chunks_verified"]
    assert 2 <= kept < 8
    with pytest.raises(ConflictError, match="cancelled"):
        admin.post(f"/transfers/{row['id']}/cancel")

    again = admin.post(f"/transfers/{row['id']}/resume", {"options": {"limit_bytes_per_s": None}})
    assert again["state"] == "running"
    done = _until_end(admin, again)
    assert done["state"] == "completed", done
    assert (tmp_path / "site/big.bin").read_bytes() == data
    assert done["result"]["bytes_sent"] == (8 - kept) * MIB
    assert [e["message"] for e in done["events"]].count("resumed") == 1
    with pytest.raises(ConflictError, match="completed"):
        admin.post(f"/transfers/{row['id']}/resume")


def test_a_client_run_transfer_cannot_be_cancelled_or_resumed_by_the_server(
    admin: Client,
) -> None:
    row = admin.post("/transfers", {"source": "scratch:a", "dest": "scratch:b"})
    with pytest.raises(ConflictError, match="command"):
        admin.post(f"/transfers/{row['id']}/cancel")
    admin.post(f"/transfers/{row['id']}/events", {"state": "failed", "message": "x"})
    with pytest.raises(ConflictError, match="command"):
        admin.post(f"/transfers/{row['id']}/resume")


def test_a_link_out_of_a_site_is_refused_by_a_server_copy(admin: Client, tmp_path: Path) -> None:
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/key").write_text("private")
    (tmp_path / "site/out").symlink_to(tmp_path / "secret")
    row = admin.post(
        "/transfers", {"source": "scratch:out/key", "dest": str(tmp_path / "got"), "run": True}
    )
    done = _until_end(admin, row)
    assert done["state"] == "failed"
    assert done["result"]["error"]["code"] == "forbidden"
    assert not (tmp_path / "got").exists()
