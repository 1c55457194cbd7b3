"""The sbatch command line for one attempt, built as an argument list.

The user's script goes to sbatch byte for byte on stdin (the adapter adds one
line before its first command: the start marker, see ``markers``); the user's own
options pass through unchanged, and computenet adds its overrides after them
(sbatch lets a later option win):

- ``--comment=TAG [user comment]``: the attempt's tag, for ``find(tag)``;
- ``--job-name`` only when the user named the job nowhere;
- ``--partition`` when the broker chose one, ``--array=N`` for one array
  element, ``--chdir`` for the spec's working directory;
- ``--export``: the job's variables travel in sbatch's own environment, and
  ``--export`` names them (``ALL``, or the listed names when the user gave
  ``--export=NONE`` or a list), so no value is ever squeezed into a
  comma-separated option.

A spec built from fields alone (no script directives, no sbatch options,
e.g. from the SDK) gets its sizes and limits as options, derived here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from computenet.model import AttemptRequest, JobSpec

#: Network options: computenet acts on them, Slurm never sees them.
NETWORK_PREFIXES = (
    "--policy",
    "--cluster",
    "--site",
    "--region",
    "--max-cost",
    "--deadline",
    "--hedge",
    "--app",
    "--input",
    "--output-stage",
)

#: Options computenet sets itself, so the user's copy is dropped: the tag's
#: comment, the chosen partition, one array element, the export list,
#: dependencies (they name network jobs, which the controller waits for),
#: and options that would change sbatch's output or make it block.
_OWN_LONG = {
    "--comment",
    "--array",
    "--export",
    "--dependency",
    "--parsable",
    "--wait",
    "--test-only",
    "--clusters",
    "-M",
    "--wrap",
}
_OWN_SHORT = {"a": "--array", "d": "--dependency", "M": "--clusters", "W": "--wait"}
#: sbatch's short options that take a value (so "-J -p" is a name, not -p).
_SHORT_WITH_VALUE = set("aAbcCdDeFGiJLmMnNopqStwx")
#: sbatch's long options that never take a value, or only as --opt=value.
_LONG_FLAGS = {
    "--contiguous",
    "--exclusive",
    "--hold",
    "--ignore-pbs",
    "--no-requeue",
    "--overcommit",
    "--oversubscribe",
    "--parsable",
    "--quiet",
    "--requeue",
    "--reboot",
    "--spread-job",
    "--test-only",
    "--use-min-nodes",
    "--verbose",
    "--wait",
    "--get-user-env",
    "--no-kill",
    "--propagate",
    "--nice",
    "--help",
    "--usage",
    "--version",
    "--immediate",
}


def _long_name(arg: str) -> str:
    return arg.split("=", 1)[0]


def split_options(args: Sequence[str]) -> list[list[str]]:
    """Group a command line into options, each with its value if separate."""
    groups: list[list[str]] = []
    i = 0
    while i < len(args):
        arg = args[i]
        takes_next = False
        if arg.startswith("--"):
            takes_next = "=" not in arg and arg not in _LONG_FLAGS
        elif arg.startswith("-") and len(arg) == 2:
            takes_next = arg[1] in _SHORT_WITH_VALUE
        if takes_next and i + 1 < len(args):
            groups.append([arg, args[i + 1]])
            i += 2
        else:
            groups.append([arg])
            i += 1
    return groups


def _option_name(group: list[str]) -> str:
    arg = group[0]
    if arg.startswith("--"):
        return _long_name(arg)
    if arg.startswith("-") and len(arg) >= 2:
        return _OWN_SHORT.get(arg[1], arg[:2])
    return arg


def passthrough_args(spec: JobSpec) -> list[str]:
    """The user's own sbatch options, less the network's."""
    try:
        from computenet.spec import slurm_passthrough_args
    except ImportError:
        return [
            a
            for g in split_options(spec.sbatch_args)
            if not _option_name(g).startswith(NETWORK_PREFIXES)
            for a in g
        ]
    return list(slurm_passthrough_args(spec))


def _names(args: Sequence[str], *options: str) -> bool:
    return any(_option_name(g) in options for g in split_options(args))


def _script_sets(script: str | None, *options: str) -> bool:
    if not script:
        return False
    for line in script.splitlines():
        m = re.match(r"\s*#SBATCH\s+(\S+)", line)
        if m and _option_name([m.group(1)]) in options:
            return True
    return False


def _mem_mb(n: int) -> str:
    return f"{math.ceil(n / 2**20)}M"


def derived_options(spec: JobSpec) -> list[str]:
    """Options for a spec that carries fields only (no directives, no sbatch options)."""
    out: list[str] = []
    pairs: list[tuple[str, object | None]] = [
        ("--nodes", spec.nodes),
        ("--ntasks", spec.ntasks),
        ("--ntasks-per-node", spec.ntasks_per_node),
        ("--cpus-per-task", spec.cpus_per_task),
        ("--gpus", spec.gpus),
        ("--gpus-per-node", spec.gpus_per_node),
        ("--gpus-per-task", spec.gpus_per_task),
        ("--gres", spec.gres),
        ("--account", spec.account),
        ("--qos", spec.qos),
        ("--constraint", spec.constraint),
        ("--reservation", spec.reservation),
        ("--output", spec.output),
        ("--error", spec.error),
        ("--input", spec.input),
        ("--open-mode", spec.open_mode),
    ]
    for name, value in pairs:
        if value is not None:
            out.append(f"{name}={value}")
    if spec.time_limit_s is not None:
        # Slurm counts whole minutes; round up so the job gets at least what it asked.
        out.append(f"--time={max(1, math.ceil(spec.time_limit_s / 60))}")
    if spec.mem_per_node_bytes is not None:
        out.append(f"--mem={_mem_mb(spec.mem_per_node_bytes)}")
    elif spec.mem_per_cpu_bytes is not None:
        out.append(f"--mem-per-cpu={_mem_mb(spec.mem_per_cpu_bytes)}")
    if spec.exclusive:
        out.append("--exclusive")
    if spec.hold:
        out.append("--hold")
    return out


@dataclass(frozen=True)
class SbatchCall:
    argv: tuple[str, ...]
    stdin: bytes | None
    env: dict[str, str] = field(default_factory=dict)


def export_option(spec: JobSpec, names: Sequence[str]) -> str:
    """``ALL`` keeps sbatch's environment (which holds the job's variables);
    ``NONE`` becomes the list of the job's variable names; ``NIL`` stays."""
    mode = (spec.export or "ALL").strip().upper()
    if mode == "ALL":
        return "--export=ALL"
    if mode == "NIL":
        return "--export=NIL"
    return "--export=" + (",".join(sorted(set(names))) or "NONE")


def build_sbatch(request: AttemptRequest, *, default_workdir: str | None = None) -> SbatchCall:
    """The complete sbatch call for an attempt (see the module docstring)."""
    spec = request.spec
    user = passthrough_args(spec)
    own = [a for g in split_options(user) if _option_name(g) not in _OWN_LONG for a in g]
    if request.partition:
        own = [
            a for g in split_options(own) if _option_name(g) not in ("--partition", "-p") for a in g
        ]
    argv = ["sbatch", "--parsable", *own]
    if not spec.sbatch_args and not _script_sets(spec.script, *_ALL_SIZE_OPTIONS):
        argv += derived_options(spec)
    if not _names(user, "--job-name", "-J") and not _script_sets(spec.script, "--job-name", "-J"):
        argv.append(f"--job-name={spec.name}")
    comment = request.tag if spec.comment is None else f"{request.tag} {spec.comment}"
    argv.append(f"--comment={comment}")
    if request.partition:
        argv.append(f"--partition={request.partition}")
    if request.array_task_id is not None:
        argv.append(f"--array={request.array_task_id}")
    workdir = spec.workdir or default_workdir
    if workdir:
        argv.append(f"--chdir={workdir}")
    env = {**request.env, **spec.environment}
    argv.append(export_option(spec, list(env)))
    if spec.script is not None:
        if spec.args:  # a script on stdin takes no arguments; /dev/stdin as a file does
            argv += ["/dev/stdin", *spec.args]
        return SbatchCall(tuple(argv), spec.script.encode(), env)
    if spec.command is None:
        raise ValueError("a job needs a script or a command")
    argv.append(f"--wrap={spec.command}")
    return SbatchCall(tuple(argv), None, env)


_ALL_SIZE_OPTIONS = (
    "--nodes",
    "-N",
    "--ntasks",
    "-n",
    "--cpus-per-task",
    "-c",
    "--time",
    "-t",
    "--mem",
    "--mem-per-cpu",
    "--output",
    "-o",
    "--error",
    "-e",
    "--gpus",
    "-G",
    "--ntasks-per-node",
    "--account",
    "-A",
    "--qos",
    "-q",
    "--constraint",
    "-C",
)
