"""Containers through a real server: the REST API, the SDK and the real
``cnet`` command; the catalogue's container installs; the image commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.containers import ImageStore
from tests.integration.containers.conftest import link_image
from tests.support.live import TOKEN, LiveServer

pytestmark = pytest.mark.integration

APP = """\
version: 1
name: boxed
title: Where it runs
app_version: "1"
description: Says whether it sees the image's files or the host's.
parameters: []
resources:
  ntasks: 1
  time: "00:05:00"
install:
  "*":
    container: mpi
script: |
  test -e /usr/bin/bwrap && echo host-files || echo image-files
  pwd
"""


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, cached_store: ImageStore
) -> Iterator[LiveServer]:
    from computenet.core.runtime import Runtime

    root = tmp_path_factory.mktemp("containers-api")
    (root / "apps").mkdir()
    (root / "apps" / "boxed.yaml").write_text(APP)
    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        token=TOKEN,
        user="admin",
        controller_interval_s=0.1,
        image_dir=root / "images",
        container_mount_roots=[str(root / "work")],
        apps_dir=root / "apps",
        clusters=[
            ClusterConfig(
                name="here",
                kind="embedded",
                partitions=[PartitionConfig(name="cpu", nodes=2, cores=2, default=True)],
            )
        ],
    )
    link_image(cached_store, ImageStore(settings.image_root("local")))
    live = LiveServer(Runtime(settings))
    yield live
    live.stop()


@pytest.fixture
def client(server: LiveServer) -> Iterator[Client]:
    with server.client() as c:
        yield c


@pytest.fixture
def work(server: LiveServer) -> Path:
    path = Path(server.runtime.settings.container_mount_roots[0])
    path.mkdir(exist_ok=True)
    return path


def cnet(
    server: LiveServer, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CN_")}
    env.update(CN_SERVER_URL=server.url, CN_TOKEN=TOKEN, COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "computenet.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def submit(client: Client, work: Path, script: str, *options: str) -> dict[str, Any]:
    job = client.submit(script=script, options=list(options), cwd=str(work), env={})
    final: dict[str, Any] = client.wait(job["id"], timeout_s=90)
    return final


def test_a_containerised_job_runs_in_its_image(client: Client, work: Path) -> None:
    (work / "in").mkdir(exist_ok=True)
    script = (
        "#!/bin/bash\n#SBATCH --container-image=mpi\n"
        "test -e /usr/bin/bwrap && echo host-files || echo image-files\nls /in\n"
    )
    (work / "in" / "data.txt").write_text("x")
    final = submit(client, work, script, f"--container-mounts={work / 'in'}:/in:ro")
    out = client.logs(final["id"])["data"]
    assert final["state"] == "COMPLETED", (final, out)
    assert out == "image-files\ndata.txt\n"
    assert final["spec"]["container_image"] == "mpi"


@pytest.mark.parametrize(
    ("options", "reason"),
    [
        (["--container-image=ghost"], "no image named 'ghost'"),
        (["--container-image=mpi", "--container-mounts=/etc:/etc2"], "/etc is outside the paths"),
    ],
)
def test_bad_input_fails_the_job_and_cnet_show_says_why(
    server: LiveServer, client: Client, work: Path, options: list[str], reason: str
) -> None:
    final = submit(client, work, "#!/bin/sh\ntrue\n", *options)
    assert final["state"] == "FAILED"
    (attempt,) = final["attempts"]
    assert reason in attempt["reason"]
    shown = cnet(server, "show", str(final["id"]))
    assert shown.returncode == 0, shown.stderr
    assert reason in shown.stdout and "container" in shown.stdout


def test_test_only_shows_the_container(server: LiveServer, work: Path) -> None:
    script = work / "job.sh"
    script.write_text("#!/bin/sh\n#SBATCH --container-image=mpi\ntrue\n")
    proc = cnet(
        server,
        "submit",
        "--test-only",
        "--container-mounts=/scratch/a:/a:ro",
        "--container-workdir=/a",
        str(script),
        cwd=work,
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith("container"))
    assert line.split(None, 1)[1] == "mpi, mounts /scratch/a:/a:ro, workdir /a"


def test_a_catalogue_container_install_runs_in_the_image(client: Client, work: Path) -> None:
    job = client.run_app("boxed", {}, cwd=str(work))
    final = client.wait(job["id"], timeout_s=90)
    out = client.logs(job["id"])["data"]
    assert final["state"] == "COMPLETED", (final, out)
    assert out.splitlines()[0] == "image-files"


def test_image_commands(server: LiveServer, work: Path) -> None:
    listed = cnet(server, "image", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)["images"]
    assert (row["name"], row["site"], row["packages"]) == ("mpi", "local", ["openmpi-bin"])
    assert row["digest"].startswith("blake3-")
    shown = cnet(server, "image", "ls")
    assert "mpi" in shown.stdout and "openmpi-bin" in shown.stdout
    missing = cnet(server, "image", "rm", "ghost")
    assert missing.returncode == 4 and "no image named 'ghost'" in missing.stderr
    bad = cnet(server, "image", "build", "Bad Name", "--packages", "hello")
    assert bad.returncode == 2 and "Bad Name" in bad.stderr


def test_a_build_of_an_unknown_package_fails_and_changes_nothing(
    server: LiveServer,
) -> None:
    proc = cnet(server, "image", "build", "broken", "--packages", "no-such-package-cn")
    assert proc.returncode == 14, (proc.stdout, proc.stderr)
    assert "no-such-package-cn" in proc.stderr
    listed = json.loads(cnet(server, "image", "ls", "--json").stdout)
    assert [r["name"] for r in listed["images"]] == ["mpi"]
    store = Path(server.runtime.settings.image_root("local"))
    if any(Path("/var/lib/apt/lists").glob("*_Packages*")):  # asked apt-cache first
        assert "image broken: no package no-such-package-cn in " in proc.stderr
        assert listed["builds"] == []  # refused before it was recorded
        assert sorted(p.name for p in store.iterdir()) == ["blobs", "names", "rootfs"]
    else:  # mmdebstrap found out: the failed build is listed and keeps its log
        (build,) = listed["builds"]
        assert build["state"] == "failed" and "no-such-package-cn" in build["message"]
        assert sorted(p.name for p in store.iterdir()) == ["blobs", "builds", "names", "rootfs"]


def test_removing_an_image_keeps_none_of_it(server: LiveServer) -> None:
    store = ImageStore(Path(server.runtime.settings.image_root("local")))
    digest = store.get("mpi").digest
    proc = cnet(server, "image", "rm", "mpi", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["name"] == "mpi"
    assert store.list() == [] and not store.has_blob(digest)
    assert not (store.root / "rootfs" / digest).exists()
