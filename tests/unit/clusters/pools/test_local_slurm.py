"""The local Slurm provider starts a node's slurmd after the boot delay and
tells the controller as soon as that start is over, so the controller looks
at the node at once; the slurmd here is a stand-in script, the provider's
process handling is real."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from computenet.clusters.pools.base import BOOTING, FAILED
from computenet.clusters.pools.local_slurm import SlurmdNodes
from computenet.config import PoolConfig


def provider(tmp_path: Path, script: str, boot_delay_s: float) -> SlurmdNodes:
    conf = tmp_path / "slurm.conf"
    conf.write_text(f"SlurmdPidFile={tmp_path}/slurmd-%n.pid\nSlurmdSpoolDir={tmp_path}/spool/%n\n")
    slurmd = tmp_path / "slurmd"
    slurmd.write_text(f"#!/bin/sh\n{script}\n")
    slurmd.chmod(0o755)
    pool = PoolConfig(name="cloud", partition="cloud", nodes="c1", boot_delay_s=boot_delay_s)
    return SlurmdNodes(pool, conf, slurmd=str(slurmd))


async def test_the_controller_hears_of_a_node_once_its_slurmd_start_is_over(
    tmp_path: Path,
) -> None:
    nodes = provider(tmp_path, "exit 0", boot_delay_s=0.3)
    heard: list[float] = []
    changed = asyncio.Event()

    def on_change() -> None:
        heard.append(time.monotonic())
        changed.set()

    nodes.on_change = on_change
    asked = time.monotonic()
    (node,) = await nodes.create(["c1"])
    assert node.state == BOOTING and heard == []
    await asyncio.wait_for(changed.wait(), 10)
    # not before the boot delay: the node could not have run anything sooner
    assert heard[0] - asked >= 0.29  # (less a clock tick)
    assert (tmp_path / "spool" / "c1").is_dir()
    await nodes.close()


async def test_a_slurmd_that_does_not_start_is_heard_of_too_and_listed_failed(
    tmp_path: Path,
) -> None:
    nodes = provider(tmp_path, "echo 'bad config' >&2; exit 1", boot_delay_s=0.0)
    changed = asyncio.Event()
    nodes.on_change = changed.set
    await nodes.create(["c1"])
    await asyncio.wait_for(changed.wait(), 10)
    (node,) = await nodes.list()
    assert node.state == FAILED
    assert node.error == "slurmd did not start: bad config"
    await nodes.close()
