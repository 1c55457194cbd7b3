"""``sinfo``: the network's partitions and nodes in Slurm's formats.

Every cluster's partitions are listed (``-M`` picks clusters). Node names
and states come from the API's per-node records when it gives them; else
each partition's nodes are named as the embedded cluster names them and
the cluster's allocated CPUs fill them in order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from computenet.shims.common import SLURM_VERSION, SlurmArgs, connect, print_json, run, split_list
from computenet.shims.formats import Column, Part, fit, parse_percent, render
from computenet.shims.hostlist import compress
from computenet.shims.slurmtime import squeue_duration

PROG = "sinfo"
DEFAULT_FORMAT = "%#P %.5a %.10l %.6D %.6t %N"
SUMMARY_FORMAT = "%#P %.5a %.10l %.16F %N"
NODE_FORMAT = "%#N %.6D %#P %6t"
LONG_FORMAT = "%#P %.5a %.10l %.10s %.4r %.8h %.10g %.6D %.11T %N"
#: snapshot node state -> (compact, long)
STATES = {
    "idle": ("idle", "idle"),
    "mixed": ("mix", "mixed"),
    "allocated": ("alloc", "allocated"),
    "down": ("down", "down"),
    "drained": ("drain", "drained"),
}


@dataclass(frozen=True)
class Node:
    name: str
    cluster: str
    partition: str
    default: bool
    avail: str  # "up" | "down"
    time_limit_s: int | None
    cpus: int
    cpus_alloc: int
    mem_bytes: int
    gpus: int
    state: str  # a STATES key
    cores: int
    threads: int


def nodes_of(cluster: dict[str, Any]) -> list[Node]:
    """The nodes of one ``GET /clusters`` row."""
    avail = "down" if cluster.get("health") == "DOWN" else "up"
    listed = {(n.get("partition"), n["name"]): n for n in cluster.get("nodes") or []}
    left = int(cluster.get("cpus_alloc") or 0)
    out = []
    for p in cluster.get("partitions") or []:
        cpus = int(p.get("cores_per_node", 1)) * int(p.get("threads_per_core", 1))
        for i in range(int(p.get("nodes", 1))):
            name = f"{cluster['name']}-{p['name']}-n{i + 1}"
            given = listed.get((p["name"], name))
            if given is not None:
                alloc, state = int(given.get("cpus_alloc", 0)), str(given.get("state", "idle"))
            else:
                alloc = min(cpus, left)
                left -= alloc
                state = "idle" if alloc == 0 else "allocated" if alloc == cpus else "mixed"
            if avail == "down":
                state = "down"
            out.append(
                Node(
                    name=name,
                    cluster=str(cluster["name"]),
                    partition=str(p["name"]),
                    default=bool(p.get("default")),
                    avail=avail,
                    time_limit_s=p.get("max_time_s"),
                    cpus=cpus,
                    cpus_alloc=alloc,
                    mem_bytes=int(p.get("mem_per_node_bytes") or 0),
                    gpus=int(p.get("gpus_per_node") or 0),
                    state=state if state in STATES else "down",
                    cores=int(p.get("cores_per_node", 1)),
                    threads=int(p.get("threads_per_core", 1)),
                )
            )
    return out


def _aio(values: list[tuple[int, int]]) -> str:
    """``A/I/O/T``: allocated, idle, other (down), total."""
    a = sum(1 for used, _ in values if used > 0)
    o = sum(1 for used, _ in values if used < 0)
    total = len(values)
    return f"{a}/{total - a - o}/{o}/{total}"


Group = list[Node]
#: letter -> (header, value of a group of alike nodes)
FIELDS: dict[str, tuple[str, Callable[[Group], str]]] = {
    "P": ("PARTITION", lambda g: g[0].partition + ("*" if g[0].default else "")),
    "R": ("PARTITION", lambda g: g[0].partition),
    "a": ("AVAIL", lambda g: g[0].avail),
    "l": ("TIMELIMIT", lambda g: _limit(g[0].time_limit_s)),
    "L": ("DEFAULTTIME", lambda g: "n/a"),
    "D": ("NODES", lambda g: str(len(g))),
    "t": ("STATE", lambda g: STATES[g[0].state][0]),
    "T": ("STATE", lambda g: STATES[g[0].state][1]),
    "N": ("NODELIST", lambda g: compress(n.name for n in g)),
    "n": ("HOSTNAMES", lambda g: compress(n.name for n in g)),
    "c": ("CPUS", lambda g: str(g[0].cpus)),
    "C": (
        "CPUS(A/I/O/T)",
        lambda g: "{}/{}/{}/{}".format(
            sum(n.cpus_alloc for n in g if n.state != "down"),
            sum(n.cpus - n.cpus_alloc for n in g if n.state != "down"),
            sum(n.cpus for n in g if n.state == "down"),
            sum(n.cpus for n in g),
        ),
    ),
    "F": (
        "NODES(A/I/O/T)",
        lambda g: _aio([(-1 if n.state == "down" else n.cpus_alloc, n.cpus) for n in g]),
    ),
    "m": ("MEMORY", lambda g: str(g[0].mem_bytes // 2**20)),
    "G": ("GRES", lambda g: f"gpu:{g[0].gpus}" if g[0].gpus else "(null)"),
    "z": ("S:C:T", lambda g: f"1:{g[0].cores}:{g[0].threads}"),
    "X": ("SOCKETS", lambda g: "1"),
    "Y": ("CORES", lambda g: str(g[0].cores)),
    "Z": ("THREADS", lambda g: str(g[0].threads)),
    "f": ("AVAIL_FEATURES", lambda g: "(null)"),
    "s": ("JOB_SIZE", lambda g: "1-infinite"),
    "r": ("ROOT", lambda g: "no"),
    "h": ("OVERSUBSCRIBE", lambda g: "NO"),
    "g": ("GROUPS", lambda g: "all"),
    "V": ("CLUSTER", lambda g: g[0].cluster),
}


def _limit(seconds: int | None) -> str:
    return "infinite" if seconds is None else squeue_duration(seconds)


def _parser() -> SlurmArgs:
    p = SlurmArgs(PROG)
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-d", "--dead", action="store_true")
    p.add_argument("-e", "--exact", action="store_true")
    p.add_argument("-h", "--noheader", action="store_true")
    p.add_argument("--help", action="store_true")
    p.add_argument("--usage", action="store_true")
    p.add_argument("-i", "--iterate", type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("-l", "--long", action="store_true")
    p.add_argument("-M", "--clusters")
    p.add_argument("-n", "--nodes")
    p.add_argument("-N", "--Node", action="store_true")
    p.add_argument("-o", "--format")
    p.add_argument("-p", "--partition")
    p.add_argument("-r", "--responding", action="store_true")
    p.add_argument("-R", "--list-reasons", action="store_true")
    p.add_argument("-s", "--summarize", action="store_true")
    p.add_argument("-S", "--sort")
    p.add_argument("-t", "--states")
    p.add_argument("-v", "--verbose", action="count", default=0)
    p.add_argument("-V", "--version", action="store_true")
    return p


def main(argv: Sequence[str]) -> int:
    return run(PROG, _sinfo, argv)


def _sinfo(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    if args.help or args.usage:
        sys.stdout.write("Usage: sinfo [OPTIONS]\n")
        return 0
    if args.version:
        sys.stdout.write(f"slurm {SLURM_VERSION}\n")
        return 0
    rows = connect().clusters()
    clusters = split_list([args.clusters]) if args.clusters else []
    if clusters and clusters != ["all"]:
        rows = [r for r in rows if r["name"] in clusters]
    nodes = [n for r in rows for n in nodes_of(r) if _keep(n, args)]
    if args.json:
        print_json(_json(nodes))
        return 0
    if args.list_reasons:
        if not args.noheader:
            sys.stdout.write(f"{'REASON':<20} {'USER':>9} {'TIMESTAMP':>19} NODELIST\n")
        return 0
    fmt = args.format or (
        NODE_FORMAT if args.Node else SUMMARY_FORMAT if args.summarize
        else LONG_FORMAT if args.long else DEFAULT_FORMAT
    )  # fmt: skip
    parts = parse_percent(fmt, FIELDS)
    if len(clusters) > 1 or clusters == ["all"]:
        for i, row in enumerate(rows):
            sys.stdout.write(("\n" if i else "") + f"CLUSTER: {row['name']}\n")
            _print(parts, [n for n in nodes if n.cluster == row["name"]], args)
    else:
        _print(parts, nodes, args)
    return 0


def _keep(n: Node, args: Any) -> bool:
    if args.partition and n.partition not in split_list([args.partition]):
        return False
    if args.states:
        wanted = {s.lower() for s in split_list([args.states])}
        if not wanted & {n.state, *STATES[n.state]}:
            return False
    if args.nodes and n.name not in split_list([args.nodes]):
        return False
    return not (args.dead and n.state != "down") and not (args.responding and n.state == "down")


def _groups(nodes: list[Node], args: Any) -> list[Group]:
    """Alike nodes together: per node with -N, per partition with -s, else
    per partition and state (Slurm's grouping)."""
    groups: dict[tuple[str, ...], Group] = {}
    for n in nodes:
        if args.Node:
            key: tuple[str, ...] = (n.name, n.cluster, n.partition)
        elif args.summarize:
            key = (n.cluster, n.partition)
        else:
            key = (n.cluster, n.partition, n.state)
        groups.setdefault(key, []).append(n)
    return list(groups.values())


def _print(parts: list[Part], nodes: list[Node], args: Any) -> None:
    keys = [p.key for p in parts if isinstance(p, Column)]
    values = [{k: FIELDS[k][1](g) for k in keys} for g in _groups(nodes, args)]
    header = {k: FIELDS[k][0] for k in keys}
    parts = fit(parts, [header, *values])
    lines = [] if args.noheader else [render(parts, header)]
    lines.extend(render(parts, v) for v in values)
    sys.stdout.write("".join(line + "\n" for line in lines))


def _json(nodes: list[Node]) -> dict[str, Any]:
    """Slurm 22.05's ``sinfo --json`` shape: nodes and partitions."""
    partitions: dict[tuple[str, str], list[Node]] = {}
    for n in nodes:
        partitions.setdefault((n.cluster, n.partition), []).append(n)
    return {
        "meta": {"Slurm": {"release": SLURM_VERSION}},
        "errors": [],
        "nodes": [
            {
                "name": n.name,
                "hostname": n.name,
                "cluster": n.cluster,
                "state": STATES[n.state][1],
                "state_flags": [],
                "cpus": n.cpus,
                "alloc_cpus": n.cpus_alloc,
                "idle_cpus": n.cpus - n.cpus_alloc,
                "cores": n.cores,
                "threads": n.threads,
                "sockets": 1,
                "real_memory": n.mem_bytes // 2**20,
                "gres": f"gpu:{n.gpus}" if n.gpus else "",
                "partitions": [n.partition],
            }
            for n in nodes
        ],
        "partitions": [
            {
                "name": part,
                "cluster": cluster,
                "nodes": compress(n.name for n in group),
                "total_nodes": len(group),
                "total_cpus": sum(n.cpus for n in group),
                "maximum_time": None
                if group[0].time_limit_s is None
                else group[0].time_limit_s // 60,
                "state": group[0].avail.upper(),
                "default": group[0].default,
            }
            for (cluster, part), group in partitions.items()
        ],
    }
