"""``srun`` inside an embedded-cluster job (installed into the job's PATH).

Launches the job's tasks (all virtual nodes are this machine) with
SLURM_PROCID, SLURM_LOCALID and SLURM_NODEID set, waits for them and exits
with the worst exit code. Options: -n/--ntasks, -N/--nodes,
-c/--cpus-per-task (within the allocation), -l/--label; pyxis's
--container-image/--container-mounts/--container-workdir (each task in its
own container, through ``cn-container``); --mpi=TYPE (the host's mpirun
starts the ranks, see ``mpi_launch``); other srun options are accepted and
ignored. Standard library only: it starts fast.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from typing import IO

_VALUE_OPTIONS = {
    "-n": "ntasks",
    "--ntasks": "ntasks",
    "-N": "nodes",
    "--nodes": "nodes",
    "-c": "cpus",
    "--cpus-per-task": "cpus",
}
_IGNORED_WITH_VALUE = {
    "-o",
    "--output",
    "-e",
    "--error",
    "-i",
    "--input",
    "-J",
    "--job-name",
    "-t",
    "--time",
    "-p",
    "--partition",
    "-m",
    "--distribution",
    "-w",
    "--nodelist",
    "--mpi",
    "--export",
    "--cpu-bind",
    "--cpu_bind",
    "--ntasks-per-node",
    "--mem",
    "--mem-per-cpu",
    "--gres",
    "--gpus",
    "-G",
    "--gpus-per-task",
    "-x",
    "--exclude",
    "-D",
    "--chdir",
    "-K",
}
#: pyxis's options: each task runs in a container of the image (cn-container)
_CONTAINER_OPTIONS = ("--container-image", "--container-mounts", "--container-workdir")


def fail(message: str) -> int:
    print(f"srun: error: {message}", file=sys.stderr)
    return 1


def parse(
    argv: list[str], extra: dict[str, str] | None = None
) -> tuple[dict[str, int], bool, list[str]]:
    """(counts asked for, --label, the command); ``extra`` receives the
    container options and ``--mpi``, as given."""
    counts: dict[str, int] = {}
    label = False
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if arg in ("-l", "--label"):
            label = True
        elif name in _CONTAINER_OPTIONS or name == "--mpi":
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            if extra is not None:
                extra[name] = value
        elif name in _VALUE_OPTIONS:
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            counts[_VALUE_OPTIONS[name]] = int(value)
        elif len(arg) > 2 and arg[:2] in _VALUE_OPTIONS and not arg.startswith("--"):
            counts[_VALUE_OPTIONS[arg[:2]]] = int(arg[2:])  # -n4
        elif name in _IGNORED_WITH_VALUE and not eq:
            i += 1
        elif arg == "--":
            i += 1
            break
        i += 1
    return counts, label, argv[i:]


def node_order(hostfile: str) -> tuple[list[str], dict[str, int]]:
    """The job's nodes in order, and its task count on each (from the hostfile)."""
    nodes: list[str] = []
    tasks: dict[str, int] = {}
    with open(hostfile) as f:
        for line in f:
            node = line.strip()
            if not node:
                continue
            if node not in tasks:
                nodes.append(node)
                tasks[node] = 0
            tasks[node] += 1
    return nodes, tasks


def layout(ntasks: int, nodes: list[str]) -> list[str]:
    """Node of each task: block distribution over ``nodes``."""
    base, extra = divmod(ntasks, len(nodes))
    out: list[str] = []
    for i, node in enumerate(nodes):
        out.extend([node] * (base + (1 if i < extra else 0)))
    return out


def pump(stream: IO[bytes], rank: int, sink: IO[bytes], lock: threading.Lock) -> None:
    for line in iter(stream.readline, b""):
        with lock:
            sink.write(f"{rank}: ".encode() + line)
            sink.flush()


def mpi_launch(command: list[str], ntasks: int, where: list[str]) -> int:
    """``--mpi=...``: the host's mpirun starts the ranks (one container each
    with the container options), since no PMI server runs here otherwise.
    It reads the job's OpenMPI hostfile; ranks keep srun's block layout."""
    mpirun = shutil.which("mpirun")
    if mpirun is None:
        return fail("--mpi: mpirun is not installed on this host")
    argv = [mpirun, "-np", str(ntasks), "--oversubscribe", "--bind-to", "none"]
    if os.geteuid() == 0:
        argv.append("--allow-run-as-root")
    env = dict(os.environ)
    env["CN_RANK_NODES"] = ",".join(where)
    try:
        return subprocess.call([*argv, *command], env=env)
    except OSError as exc:
        return fail(f"cannot run mpirun: {exc}")


def main(argv: list[str]) -> int:
    hostfile = os.environ.get("CN_HOSTFILE")
    if not hostfile or not os.environ.get("CN_JOB_ID"):
        return fail("not inside an embedded-cluster job (no CN_HOSTFILE)")
    extra: dict[str, str] = {}
    try:
        counts, label, command = parse(argv, extra)
    except (ValueError, IndexError):
        return fail("bad option value")
    if not command:
        return fail("no command given")
    if any(name in extra for name in _CONTAINER_OPTIONS):
        wrapper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cn-container")
        given = [f"{k}={v}" for k, v in extra.items() if k in _CONTAINER_OPTIONS]
        command = [wrapper, *given, "--", *command]
    try:
        job_nodes, job_tasks = node_order(hostfile)
    except OSError as exc:
        return fail(f"cannot read the job's hostfile: {exc}")
    nnodes = counts.get("nodes", len(job_nodes))
    if "nodes" not in counts and "ntasks" in counts:
        nnodes = max(1, min(nnodes, counts["ntasks"]))  # as Slurm: no node without a task
    if not 1 <= nnodes <= len(job_nodes):
        return fail(f"-N {nnodes}: the job has {len(job_nodes)} node(s)")
    nodes = job_nodes[:nnodes]
    cpus = counts.get("cpus", int(os.environ.get("SLURM_CPUS_PER_TASK", "1")))
    job_cpus = int(os.environ.get("SLURM_NTASKS", "1")) * int(
        os.environ.get("SLURM_CPUS_PER_TASK", "1")
    )
    default = sum(job_tasks[n] for n in nodes) if "nodes" in counts else sum(job_tasks.values())
    ntasks = counts.get("ntasks", default)
    if ntasks < nnodes or ntasks * cpus > max(job_cpus, sum(job_tasks.values())):
        return fail(
            f"{ntasks} task(s) of {cpus} CPU(s) on {nnodes} node(s) do not fit the job's allocation"
        )
    where = layout(ntasks, nodes)
    if extra.get("--mpi", "none") != "none":
        return mpi_launch(command, ntasks, where)
    base = dict(os.environ)
    base.update(
        {
            "SLURM_NTASKS": str(ntasks),
            "SLURM_NPROCS": str(ntasks),
            "SLURM_STEP_NUM_TASKS": str(ntasks),
            "SLURM_STEP_NUM_NODES": str(nnodes),
            "SLURM_CPUS_PER_TASK": str(cpus),
            "OMP_NUM_THREADS": str(cpus),
        }
    )
    procs: list[subprocess.Popen[bytes]] = []
    pumps: list[threading.Thread] = []
    lock = threading.Lock()
    local: dict[str, int] = {}
    pipe = subprocess.PIPE if label else None
    for rank, node in enumerate(where):
        env = dict(base)
        env.update(
            {
                "SLURM_PROCID": str(rank),
                "SLURM_LOCALID": str(local.get(node, 0)),
                "SLURM_NODEID": str(nodes.index(node)),
                "SLURMD_NODENAME": node,
            }
        )
        local[node] = local.get(node, 0) + 1
        try:
            proc = subprocess.Popen(
                command,
                env=env,
                stdout=pipe,
                stderr=pipe,
                stdin=None if rank == 0 else subprocess.DEVNULL,
            )
        except OSError as exc:
            for p in procs:
                p.kill()
            return fail(f"cannot run {command[0]}: {exc}")
        procs.append(proc)
        if label:
            for stream, sink in (
                (proc.stdout, sys.stdout.buffer),
                (proc.stderr, sys.stderr.buffer),
            ):
                assert stream is not None
                t = threading.Thread(target=pump, args=(stream, rank, sink, lock), daemon=True)
                t.start()
                pumps.append(t)

    def forward(signum: int, _frame: object) -> None:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    worst = 0
    for proc in procs:
        code = proc.wait()
        worst = max(worst, 128 - code if code < 0 else code)
    for t in pumps:
        t.join()
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
