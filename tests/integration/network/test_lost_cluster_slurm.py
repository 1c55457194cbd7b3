"""A slurmctld stopped while jobs run on its cluster, on real Slurm.

Two jobs run on nw2 when its slurmctld stops: one only nw2 may run, one
that nw1 could run too. The grace is made short (the default is half an
hour) so the outage lasts well under a minute of the test's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import SlurmPair
from .test_network_slurm import TOKEN, slurm, slurm_state, start_server, submit, wait_until

GRACE_S = 3.0


def test_running_jobs_stay_while_slurmctld_is_down_and_are_requeued_once_it_is_lost(
    slurm_pair: SlurmPair, tmp_path: Path, make_live_server: Callable[[Any], Any]
) -> None:
    server = start_server(
        tmp_path, make_live_server, [slurm("nw1", slurm_pair, 0.1), slurm("nw2", slurm_pair, 0.001)]
    )
    server.runtime.settings.lost_cluster_grace_s = GRACE_S
    conf2 = slurm_pair.confs["nw2"]
    runs = tmp_path / "runs"
    runs.mkdir()
    with server.client(TOKEN) as client:
        # Ends by itself while nw2's slurmctld is away; only nw2 may run it.
        pinned = submit(client, tmp_path, "--wrap", "sleep 6; exit 3", "-M", "nw2", "-t", "2")
        # Long on nw2, short anywhere else; each run leaves a marker.
        script = (
            f'echo "$SLURM_CLUSTER_NAME $SLURM_JOB_ID" >> {runs}/movable; '
            '[ "$SLURM_CLUSTER_NAME" = nw2 ] && sleep 600; exit 0'
        )
        movable = submit(
            client, tmp_path, "--wrap", script, "--policy=cheapest", "-M", "nw1,nw2", "-t", "20"
        )

        def both_run_on_nw2() -> bool:
            jobs = [client.job(i) for i in (pinned, movable)]
            return all(j["state"] == "RUNNING" and j["cluster"] == "nw2" for j in jobs)

        wait_until(both_run_on_nw2, 60, "both jobs running on nw2")
        first_native = client.job(movable)["attempts"][0]["native_id"]
        slurm_pair.stop_slurmctld("nw2")
        stopped = time.monotonic()
        try:

            def nw2_down() -> bool:
                return {c["name"]: c for c in client.clusters()}["nw2"]["health"] == "DOWN"

            wait_until(nw2_down, 90, "nw2 to be DOWN")
            down_after_s = time.monotonic() - stopped
            # Unknown state: neither job has a second copy yet.
            assert len(client.job(movable)["attempts"]) == 1
            assert len(client.job(pinned)["attempts"]) == 1

            def moved() -> bool:
                return client.job(movable)["state"] == "COMPLETED"

            wait_until(moved, 90, "the movable job to be requeued and complete on nw1")
            job = client.job(movable)
            first, second = job["attempts"]
            assert (first["cluster"], first["state"]) == ("nw2", "NODE_FAIL"), job
            assert (first["reason"] or "").startswith("lost: cluster nw2 not answering for ")
            assert (second["cluster"], second["state"]) == ("nw1", "COMPLETED"), job
            reasons = [e["reason"] or "" for e in client.events(movable)]
            assert any(r.startswith("REQUEUED_FAILOVER: lost: cluster nw2") for r in reasons)
            held = client.job(pinned)
            assert held["state"] == "RUNNING" and len(held["attempts"]) == 1, held
            assert "no other cluster can run it: waiting for nw2" in (held["reason"] or "")
            time.sleep(max(0.0, 8 - (time.monotonic() - stopped)))  # the pinned job has ended
        finally:
            slurm_pair.start_slurmctld("nw2")

        done = client.wait(pinned, timeout_s=90)
        assert (done["state"], done["exit_code"]) == ("FAILED", "3:0"), done
        assert len(done["attempts"]) == 1

        def lost_copy_settled() -> str:
            reason = client.job(movable)["attempts"][0]["reason"] or ""
            return reason if "answered again" in reason else ""

        settled = wait_until(lost_copy_settled, 90, "nw2's copy to be settled on return")
        assert settled.endswith("it was still RUNNING, cancelled there"), settled
        assert slurm_state(conf2, first_native) == "CANCELLED"
    clusters = [line.split()[0] for line in (runs / "movable").read_text().splitlines()]
    assert clusters == ["nw2", "nw1"], "one run on the lost cluster, one after the requeue"
    print(f"nw2 DOWN {down_after_s:.1f} s after slurmctld stopped")  # shown with -s
