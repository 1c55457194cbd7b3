"""Image builds in the server's build thread: an id at once, a state, a log
kept when the build fails; through the REST API and the SDK.

mmdebstrap is replaced by a script of the same name on PATH that prints
progress lines and writes a tiny root filesystem tarball (or fails as apt
does for an unknown package), so the real build path runs: the checks, the
subprocess, the log file, the store."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import Settings
from computenet.containers import ImageStore
from computenet.containers.builds import INTERRUPTED, STOPPED, BuildRecord, ImageBuilds
from computenet.errors import ConflictError, ImageError, NotFoundError, SpecError
from tests.support.clusters import fake_configs
from tests.support.live import TOKEN

from .conftest import make_tarball

SUITE = "cn-test"  # not the host's: apt-cache is not asked

FAKE_MMDEBSTRAP = """#!/bin/sh
for a in "$@"; do case $a in --include=*) pk=${a#--include=};; esac; target=$a; done
echo "I: automatically chosen mode: root"
echo "I: installing packages: $pk"
case ",$pk," in *,broken,*) echo "E: Unable to locate package broken" >&2; exit 100;; esac
while [ -e "$CN_TEST_GATE" ]; do sleep 0.02; done
cp "$CN_TEST_TARBALL" "$target"
echo "I: success"
"""


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake mmdebstrap on PATH; while the returned file exists, builds wait."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "mmdebstrap"
    script.write_text(FAKE_MMDEBSTRAP)
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("CN_TEST_TARBALL", str(make_tarball(tmp_path / "tiny.tar")))
    gate = tmp_path / "gate"
    monkeypatch.setenv("CN_TEST_GATE", str(gate))
    return gate


@pytest.fixture
def admin(tmp_path: Path, make_live_server: Callable[[Any], Any]) -> Iterator[Client]:
    settings = Settings(
        data_dir=tmp_path / "data",
        state_dir=tmp_path / "state",
        image_dir=tmp_path / "images",
        clusters=fake_configs(),
        token=TOKEN,
        user="admin",
    )
    with make_live_server(settings).client(TOKEN) as c:
        yield c


def _until_ended(client: Client, build_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (status := client.image_build(build_id))["state"] == "building":
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


def test_a_build_answers_at_once_and_its_log_can_be_followed(admin: Client, gate: Path) -> None:
    gate.touch()
    started = admin.build_image("tiny", ["hello"], suite=SUITE)
    assert started["state"] == "building" and len(started["id"]) == 12
    (listed,) = admin.image_builds()
    assert (listed["id"], listed["state"], listed["name"]) == (started["id"], "building", "tiny")
    assert admin.images() == []
    with pytest.raises(ConflictError, match="being built"):
        admin.build_image("tiny", ["hello"], suite=SUITE)
    gate.unlink()
    parts: list[str] = []
    done = admin.follow_build(started["id"], parts.append, poll_s=0.05)
    assert done["state"] == "ready" and done["image"]["digest"] == done["digest"]
    log = "".join(parts)
    assert "installing packages: hello" in log and "I: success" in log
    (image,) = admin.images()
    assert (image["name"], image["state"], image["packages"]) == ("tiny", "ready", ["hello"])
    assert admin.image_builds() == []  # a build that made its image is no longer listed


def test_a_failed_build_keeps_its_log_until_forgotten(admin: Client, gate: Path) -> None:
    started = admin.build_image("bad", ["broken"], suite=SUITE)
    with pytest.raises(ImageError, match="Unable to locate package broken"):
        admin.follow_build(started["id"], poll_s=0.05)
    status = admin.image_build(started["id"])
    assert status["state"] == "failed" and status["ended_at"] >= status["started_at"]
    assert "E: Unable to locate package broken" in status["log"]
    (listed,) = admin.image_builds()
    assert (listed["id"], listed["state"]) == (started["id"], "failed")
    assert admin.images() == []
    forgotten = admin.remove_image("bad")
    assert forgotten == {"name": "bad", "site": "local", "builds_forgotten": 1}
    with pytest.raises(NotFoundError, match="no image build"):
        admin.image_build(started["id"])
    assert admin.image_builds() == []


@pytest.mark.parametrize(
    ("name", "packages", "error"),
    [("Bad Name", ["hello"], SpecError), ("ok", ["rm -rf /"], SpecError)],
)
def test_bad_input_is_refused_at_once_and_nothing_is_recorded(
    admin: Client, gate: Path, tmp_path: Path, name: str, packages: list[str], error: type
) -> None:
    with pytest.raises(error):
        admin.build_image(name, packages, suite=SUITE)
    assert admin.image_builds() == []
    assert not (tmp_path / "images" / "local" / "builds").exists()


def test_an_unknown_build_id_is_refused(admin: Client) -> None:
    with pytest.raises(SpecError, match="not an image build id"):
        admin.image_build("..etc")
    with pytest.raises(NotFoundError):
        admin.image_build("0123456789ab")


def test_a_member_may_look_but_not_build(admin: Client, gate: Path) -> None:
    from computenet.errors import ForbiddenError

    token = admin.add_user("alice", project="chem")["token"]
    alice = Client(admin.url, token)
    with pytest.raises(ForbiddenError):
        alice.build_image("tiny", ["hello"], suite=SUITE)
    started = admin.build_image("tiny", ["hello"], suite=SUITE)
    assert _until_ended(alice, started["id"])["state"] == "ready"


def test_a_build_whose_server_is_gone_is_reported_failed(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "site")
    builds = ImageBuilds()
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = BuildRecord(
        id="00000000000a",
        name="x",
        packages=(),
        suite=SUITE,
        state="building",
        runner=f"{socket.gethostname()}:{dead.pid}",
        started_at=time.time(),
    )
    builds._write(store, record)
    got = builds.get(store, record.id)
    assert (got.state, got.message) == ("failed", INTERRUPTED)
    assert builds.get(store, record.id).ended_at == got.ended_at  # written once


def test_a_server_stopping_ends_its_build_and_records_why(tmp_path: Path, gate: Path) -> None:
    gate.touch()
    store = ImageStore(tmp_path / "site")
    builds = ImageBuilds()
    started = builds.start(store, "tiny", ["hello"], suite=SUITE)
    deadline = time.monotonic() + 30
    while "installing" not in builds.log(store, started.id).decode():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    builds.shutdown()
    ended = builds.get(store, started.id)
    assert (ended.state, ended.message) == ("failed", STOPPED)
    assert "installing packages: hello" in builds.log(store, started.id).decode()
    assert store.list() == []
    with pytest.raises(ConflictError, match="stopping"):
        builds.start(store, "tiny", ["hello"], suite=SUITE)


# ----- cnet image ------------------------------------------------------------------


@pytest.fixture
def cli(admin: Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from typer.testing import CliRunner

    from computenet.cli import context

    monkeypatch.setenv("CN_SERVER_URL", admin.url)
    monkeypatch.setenv("CN_TOKEN", TOKEN)
    monkeypatch.setattr(context, "_client", None)
    yield CliRunner()
    monkeypatch.setattr(context, "_client", None)


def test_cnet_image_build_follows_and_no_wait_prints_the_id(
    cli: Any, admin: Client, gate: Path
) -> None:
    import json

    from computenet.cli.main import app

    out = cli.invoke(app, ["image", "build", "tiny", "--packages", "hello", "--suite", SUITE])
    assert out.exit_code == 0, out.output
    assert "I: success" in out.output and "built image tiny blake3-" in out.output
    gate.touch()
    queued = cli.invoke(
        app, ["image", "build", "tiny:v2", "--packages", "hello", "--suite", SUITE, "--no-wait"]
    )
    build_id = queued.stdout.strip()
    assert queued.exit_code == 0 and admin.image_build(build_id)["state"] == "building"
    shown = cli.invoke(app, ["image", "ls"])
    assert "tiny:v2" in shown.output and "building" in shown.output and "ready" in shown.output
    gate.unlink()
    followed = cli.invoke(app, ["image", "status", build_id, "--follow", "--json"])
    assert json.loads(followed.stdout)["state"] == "ready"
    failed = cli.invoke(app, ["image", "build", "bad", "--packages", "broken", "--suite", SUITE])
    assert isinstance(failed.exception, ImageError)
    assert "Unable to locate package broken" in failed.exception.message
    listed = json.loads(cli.invoke(app, ["image", "ls", "--json"]).stdout)
    assert [b["name"] for b in listed["builds"]] == ["bad"]
    assert sorted(r["name"] for r in listed["images"]) == ["tiny", "tiny:v2"]
