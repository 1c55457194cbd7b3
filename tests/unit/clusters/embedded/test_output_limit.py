"""A job that writes without end on an embedded cluster: stopped at the
cluster's output limit, FAILED with the reason, its file cut with a marker."""

from __future__ import annotations

from pathlib import Path

from computenet.clusters.embedded import EmbeddedCluster
from computenet.model import JobState

from .conftest import make_config, new_cluster, request, wait_for

LIMIT = 1 << 20


async def test_a_job_past_the_output_limit_is_stopped_and_its_file_cut(
    tmp_path: Path, workdir: Path
) -> None:
    config = make_config().model_copy(update={"max_output_bytes": LIMIT})
    cluster: EmbeddedCluster = new_cluster(tmp_path / "state", config)
    await cluster.start()
    try:
        flood = await cluster.submit(request(workdir, "yes computenet", output="flood.out"))
        quiet = await cluster.submit(request(workdir, "head -c 1000 /dev/zero", output="q.out"))
        done = await wait_for(cluster, flood)
        small = await wait_for(cluster, quiet)
    finally:
        await cluster.close()
    assert done.state is JobState.FAILED
    assert done.reason is not None and "output limit: flood.out passed 1048576 bytes" in done.reason
    data = (workdir / "flood.out").read_bytes()
    body, marker = data[:LIMIT], data[LIMIT:]
    assert body.startswith(b"computenet\n")
    assert marker == (
        b"\n[computenet: output cut at 1048576 bytes, the cluster's output limit; "
        b"the job was stopped]\n"
    )
    assert small.state is JobState.COMPLETED
    assert (workdir / "q.out").stat().st_size == 1000
