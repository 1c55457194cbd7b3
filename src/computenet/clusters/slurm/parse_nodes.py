"""Parsers for what Slurm says about nodes and partitions: ``sinfo --json``,
``scontrol show partition -o`` and ``squeue --start``. Pure functions of text."""

from __future__ import annotations

from typing import Any

from computenet.clusters.slurm.parse import (
    SlurmOutputError,
    load_json,
    parse_key_values,
    parse_time,
)
from computenet.clusters.slurm.states import _number
from computenet.model import NodeSnapshot


def _node_state(node: dict[str, Any]) -> str:
    raw = node.get("state")
    words = [str(w).upper() for w in (raw if isinstance(raw, list) else [raw])]
    words += [str(w).upper() for w in node.get("state_flags") or []]
    base = words[0] if words else "UNKNOWN"
    if any(w.startswith("DRAIN") for w in words):
        return "drained"
    # Power saving (State=CLOUD nodes, node pools): off, or on its way up or down.
    if "POWERING_DOWN" in words:
        return "powering_down"
    if any(w in ("POWERED_DOWN", "POWER_DOWN") for w in words):
        return "powered_down"
    if any(w in ("POWERING_UP", "POWER_UP") for w in words):
        return "powering_up"
    if base in ("IDLE", "MIXED", "ALLOCATED"):
        return base.lower()
    return "down"


def _gres_count(text: str | None) -> int:
    total = 0
    for item in (text or "").split(","):
        parts = item.split("(")[0].split(":")
        if parts[0] == "gpu" and len(parts) > 1 and parts[-1].isdigit():
            total += int(parts[-1])
    return total


def parse_sinfo_nodes(text: str) -> list[NodeSnapshot]:
    data = load_json(text, "sinfo --json")
    try:
        out = []
        for n in data["nodes"]:
            cpus = _number(n.get("cpus")) or 0
            load = _number(n.get("cpu_load"))
            partitions = n.get("partitions") or [""]
            out.append(
                NodeSnapshot(
                    name=str(n["name"]),
                    partition=str(partitions[0]),
                    cpus=cpus,
                    cpus_alloc=_number(n.get("alloc_cpus")) or 0,
                    gpus=_gres_count(n.get("gres")),
                    gpus_alloc=_gres_count(n.get("gres_used")),
                    mem_bytes=(_number(n.get("real_memory")) or 0) * 2**20,
                    mem_alloc_bytes=(_number(n.get("alloc_memory")) or 0) * 2**20,
                    state=_node_state(n),
                    load=load / 100 if load is not None else None,
                )
            )
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise SlurmOutputError(f"sinfo --json: unexpected node record: {exc}") from None


def parse_partitions(text: str) -> list[dict[str, str]]:
    """``scontrol show partition -o``: one dict per partition."""
    return [
        parse_key_values(line) for line in text.splitlines() if line.startswith("PartitionName=")
    ]


def parse_start_estimates(text: str) -> dict[str, float]:
    """``squeue --start -h -o %i|%S`` with epoch times; N/A means no estimate yet."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        job_id, _, when = line.strip().partition("|")
        t = parse_time(when) if job_id else None
        if t is not None:
            out[job_id.split("_")[0]] = t
    return out
