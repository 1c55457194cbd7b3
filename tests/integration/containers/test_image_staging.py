"""An image built at one site reaches a cluster at another through the
transfer engine before the job is queued there, and the broker counts it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from computenet.client import Client
from computenet.config import ClusterConfig, PartitionConfig, Settings
from computenet.containers import ImageStore
from tests.integration.containers.conftest import link_image
from tests.support.live import TOKEN, LiveServer

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, cached_store: ImageStore
) -> Iterator[LiveServer]:
    from computenet.core.runtime import Runtime

    root = tmp_path_factory.mktemp("image-staging")

    def embedded(name: str, site: str) -> ClusterConfig:
        part = PartitionConfig(name="cpu", nodes=1, cores=2, default=True)
        return ClusterConfig(name=name, kind="embedded", site=site, partitions=[part])

    settings = Settings(
        data_dir=root / "data",
        state_dir=root / "state",
        token=TOKEN,
        user="admin",
        controller_interval_s=0.1,
        image_dir=root / "images",
        # a slow link, so the copy's share of the estimate is plain to see
        staging_bandwidth_bytes_per_s=10e6,
        clusters=[embedded("near", "local"), embedded("far", "far-site")],
    )
    link_image(cached_store, ImageStore(settings.image_root("local")))
    live = LiveServer(Runtime(settings))
    yield live
    live.stop()


def test_the_image_is_copied_to_the_far_site_once(server: LiveServer, tmp_path: Path) -> None:
    settings = server.runtime.settings
    far = ImageStore(settings.image_root("far-site"))
    record = ImageStore(settings.image_root("local")).get("mpi")
    script = (
        "#!/bin/sh\n#SBATCH --container-image=mpi\n"
        "test -e /usr/bin/bwrap && echo host-files || echo image-files\n"
    )
    with server.client() as client:
        first = submit(client, tmp_path, script)
        assert first["state"] == "COMPLETED", first
        assert client.logs(first["id"])["data"] == "image-files\n"
        reasons = [e.get("reason") or "" for e in client.events(first["id"])]
        assert "staging image mpi to far-site" in reasons
        assert far.has(record)  # named there, with the same digest
        candidates = {c["cluster"]: c for c in client.placement(first["id"])["candidates"]}
        # the broker counted the copy: size over the staging link
        assert candidates["far"]["staging_s"] == pytest.approx(record.size_bytes / 10e6, rel=0.01)
        assert candidates["near"]["staging_s"] == 0
        moved = [
            t for t in client.get("/transfers", {"all": "true"})["transfers"]
            if t.get("job_id") == str(first["id"])
        ]  # fmt: skip
        assert [t["state"] for t in moved] == ["completed"]
        assert moved[0]["bytes_total"] == record.size_bytes

        second = submit(client, tmp_path, script)
        assert second["state"] == "COMPLETED", second
        reasons = [e.get("reason") or "" for e in client.events(second["id"])]
        assert not any(r.startswith("staging") for r in reasons)
        candidates = {c["cluster"]: c for c in client.placement(second["id"])["candidates"]}
        assert candidates["far"]["staging_s"] == 0


def submit(client: Client, work: Path, script: str) -> dict:  # type: ignore[type-arg]
    job = client.submit(script=script, options=["-M", "far"], cwd=str(work), env={})
    return client.wait(job["id"], timeout_s=120)  # type: ignore[no-any-return]
