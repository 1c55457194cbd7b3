"""sbatch options and ``#SBATCH`` directives to a JobSpec.

Directives are read first, then command-line options, and the later
occurrence of an option wins, so the command line overrides the script
(repeatable network options accumulate instead).
"""

from __future__ import annotations

import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from computenet.errors import SpecError, UnsupportedOption
from computenet.model.spec import CpuMode, JobSpec
from computenet.spec import values as v
from computenet.spec.argv import Given, read_options
from computenet.spec.array import DEFAULT_MAX_ARRAY_SIZE, parse_array
from computenet.spec.dates import parse_when
from computenet.spec.dependency import parse_dependency_list
from computenet.spec.directives import DEFAULT_MAX_SCRIPT_BYTES, check_script, parse_directives
from computenet.spec.options import Scope
from computenet.spec.units import parse_count, parse_mem_bytes, parse_node_range, parse_time_s

# Options of which sbatch accepts only one; the command line may replace
# the script's choice, but one source may not give two.
_EXCLUSIVE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"mem", "mem-per-cpu", "mem-per-gpu"}),
    frozenset({"hint", "ntasks-per-core"}),
    frozenset({"hint", "threads-per-core"}),
)


@dataclass(frozen=True)
class SubmitFlags:
    """What the submit command itself should do (never part of the job)."""

    test_only: bool = False  # check and place, do not submit
    parsable: bool = False  # print only "jobid[;cluster]"
    wait: bool = False  # return when the job ends, with its exit code
    quiet: bool = False
    verbose: int = 0
    help: bool = False
    usage: bool = False
    version: bool = False


@dataclass(frozen=True)
class _Context:
    environment: Mapping[str, str] | None
    cwd: str | None
    now: float
    tz: tzinfo
    max_array_size: int


_Handler = Callable[[str | None, _Context], dict[str, Any]]


def _val(value: str | None) -> str:
    assert value is not None  # the argv reader guarantees required values
    return value


def _field(name: str, read: Callable[[str], Any] = str) -> _Handler:
    return lambda value, ctx: {name: read(_val(value))}


def _count(name: str, option: str) -> _Handler:
    return lambda value, ctx: {name: parse_count(_val(value), option)}


def _stdio(name: str) -> _Handler:
    # sbatch reads "none" (any case) as /dev/null.
    return lambda value, ctx: {name: "/dev/null" if _val(value).lower() == "none" else value}


def _nodes(value: str | None, ctx: _Context) -> dict[str, Any]:
    low, high = parse_node_range(_val(value))
    return {"nodes": low, "max_nodes": high}


def _gres(value: str | None, ctx: _Context) -> dict[str, Any]:
    gpus, kind, _ = v.parse_gres(_val(value))
    out: dict[str, Any] = {"gres": value}
    if gpus is not None:
        out.update(gpus_per_node=gpus, gpu_type=kind)
    return out


def _gpus(name: str, option: str) -> _Handler:
    def handle(value: str | None, ctx: _Context) -> dict[str, Any]:
        count, kind = v.parse_gpus(_val(value), option)
        return {name: count, "gpu_type": kind}

    return handle


def _export(value: str | None, ctx: _Context) -> dict[str, Any]:
    mode, chosen = v.parse_export(_val(value), ctx.environment)
    return {"export": mode, "_export_vars": chosen}


def _chdir(value: str | None, ctx: _Context) -> dict[str, Any]:
    path = _val(value)
    if ctx.cwd is not None and not path.startswith("/"):
        path = posixpath.normpath(posixpath.join(ctx.cwd, path))
    return {"workdir": path}


def _dependency(value: str | None, ctx: _Context) -> dict[str, Any]:
    deps, any_one = parse_dependency_list(_val(value))
    return {"dependency": deps, "dependency_any": any_one}


def _when(name: str, option: str) -> _Handler:
    return lambda value, ctx: {name: parse_when(_val(value), now=ctx.now, tz=ctx.tz, option=option)}


def _signal(value: str | None, ctx: _Context) -> dict[str, Any]:
    sig, _reservation = v.parse_signal(_val(value))
    return {"signal": sig}


HANDLERS: dict[str, _Handler] = {
    "account": _field("account"),
    "app": _field("app"),
    "array": lambda value, ctx: {"array": parse_array(_val(value), ctx.max_array_size)},
    "begin": _when("begin_time", "begin"),
    "chdir": _chdir,
    "cluster": _field("clusters", lambda t: v.parse_names(t, "cluster")),
    "clusters": _field("clusters", lambda t: v.parse_names(t, "clusters")),
    "comment": _field("comment"),
    "constraint": _field("constraint"),
    "container-image": _field("container_image", v.parse_image),
    "container-mounts": _field("container_mounts", v.parse_mounts),
    "container-workdir": _field("container_workdir", v.parse_container_path),
    "cpus-per-task": _count("cpus_per_task", "cpus-per-task"),
    "deadline": _when("deadline", "deadline"),
    "dependency": _dependency,
    "error": _stdio("error"),
    "exclusive": lambda value, ctx: {
        "exclusive": True,
        "_exclusive_kind": v.parse_exclusive(value),
    },
    "export": _export,
    "gpus": _gpus("gpus", "gpus"),
    "gpus-per-node": _gpus("gpus_per_node", "gpus-per-node"),
    "gpus-per-task": _gpus("gpus_per_task", "gpus-per-task"),
    "gres": _gres,
    "hedge": _count("hedge", "hedge"),
    "hint": lambda value, ctx: {"_hint_mode": v.parse_hint(_val(value))},
    "hold": lambda value, ctx: {"hold": True},
    "input": _stdio("input"),
    "job-name": _field("name"),
    "max-cost": _field("max_cost", v.parse_cost),
    "mem": _field("mem_per_node_bytes", parse_mem_bytes),
    "mem-per-cpu": _field("mem_per_cpu_bytes", parse_mem_bytes),
    "cpu-mode": _field("_cpu_mode", v.parse_cpu_mode),
    "nodes": _nodes,
    "ntasks": _count("ntasks", "ntasks"),
    "ntasks-per-core": _count("ntasks_per_core", "ntasks-per-core"),
    "ntasks-per-node": _count("ntasks_per_node", "ntasks-per-node"),
    "open-mode": _field("open_mode", v.parse_open_mode),
    "output": _stdio("output"),
    "partition": _field("partition"),
    "policy": _field("policy", v.parse_policy),
    "qos": _field("qos"),
    "region": _field("region"),
    "reservation": _field("reservation"),
    "signal": _signal,
    "site": _field("site"),
    "tasks-per-node": _count("ntasks_per_node", "tasks-per-node"),
    "threads-per-core": _field("_threads_mode", v.parse_threads_per_core),
    "time": _field("time_limit_s", parse_time_s),
    "wrap": _field("command"),
}
_REPEATED: dict[str, tuple[str, Callable[[str], Any]]] = {
    "input-stage": ("inputs", v.parse_input_stage),
    "output-stage": ("outputs", v.parse_output_stage),
}


def parse_submit(
    argv: Sequence[str],
    script: str | bytes | None,
    *,
    environment: Mapping[str, str] | None = None,
    cwd: str | None = None,
    script_name: str | None = None,
    args: Sequence[str] = (),
    now: float | None = None,
    tz: tzinfo | None = None,
    max_array_size: int = DEFAULT_MAX_ARRAY_SIZE,
    max_script_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
) -> tuple[JobSpec, SubmitFlags]:
    """The job ``argv`` and ``script`` ask for, and the submit command's flags.

    ``argv``: the options only (see ``split_submit_argv``); ``script``: the
    batch script (None with ``--wrap``); ``environment``: the submitting
    environment (captured per ``--export``; None captures nothing);
    ``cwd``: the submit directory (default working directory);
    ``script_name``: the script's path (default job name); ``args``: the
    script's arguments; ``now``/``tz``: the clock and zone for ``--begin``
    and ``--deadline``. Raises SpecError (LimitError for an oversized
    script); nothing is submitted.
    """
    if ":" in argv:
        raise UnsupportedOption(
            "heterogeneous jobs (':' between option groups) are not supported", option=":"
        )
    text = check_script(script, max_bytes=max_script_bytes) if script is not None else None
    ctx = _Context(
        environment=environment,
        cwd=cwd,
        now=time.time() if now is None else now,
        tz=tz or _local_zone(),
        max_array_size=max_array_size,
    )
    from_script = read_options(parse_directives(text)) if text is not None else []
    from_cli = read_options(list(argv))
    chosen = _choose(from_script, from_cli)
    fields: dict[str, Any] = {}
    for given in chosen:
        handler = HANDLERS.get(given.option.name)
        if handler is not None:
            fields.update(handler(given.value, ctx))
    for name, (target, read) in _REPEATED.items():
        items = [
            read(g.value)
            for g in from_script + from_cli
            if g.option.name == name and g.value is not None
        ]
        if items:
            fields[target] = tuple(items)
    flags = _flags(from_script + from_cli)
    spec = _finish(fields, text, ctx, script_name, tuple(args), tuple(argv))
    return spec, flags


def parse_sbatch(
    argv: Sequence[str],
    script: str | bytes | None,
    *,
    environment: Mapping[str, str] | None = None,
    cwd: str | None = None,
    script_name: str | None = None,
    args: Sequence[str] = (),
    now: float | None = None,
    tz: tzinfo | None = None,
    max_array_size: int = DEFAULT_MAX_ARRAY_SIZE,
    max_script_bytes: int = DEFAULT_MAX_SCRIPT_BYTES,
) -> JobSpec:
    """The JobSpec of ``parse_submit`` (the submit command's flags dropped)."""
    spec, _ = parse_submit(
        argv,
        script,
        environment=environment,
        cwd=cwd,
        script_name=script_name,
        args=args,
        now=now,
        tz=tz,
        max_array_size=max_array_size,
        max_script_bytes=max_script_bytes,
    )
    return spec


def _local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    assert zone is not None  # astimezone() always attaches a zone
    return zone


def _choose(from_script: list[Given], from_cli: list[Given]) -> list[Given]:
    """The occurrences that count, in order: the last of each option, with
    the command line replacing the script within mutually exclusive groups."""
    for group in _EXCLUSIVE_GROUPS:
        in_cli = {g.option.name for g in from_cli} & group
        in_script = {g.option.name for g in from_script} & group
        for names in (in_cli, in_script):
            if len(names) > 1:
                shown = ", ".join(f"--{n}" for n in sorted(names))
                raise SpecError(f"{shown} are mutually exclusive", option=sorted(names)[0])
        if in_cli and in_script and in_cli != in_script:
            from_script = [g for g in from_script if g.option.name not in group]
    last: dict[str, Given] = {}
    for given in from_script + from_cli:
        last.pop(given.option.name, None)
        last[given.option.name] = given
    return list(last.values())


def _flags(given: list[Given]) -> SubmitFlags:
    names = [g.option.name for g in given if g.option.scope is Scope.CLIENT]
    return SubmitFlags(
        test_only="test-only" in names,
        parsable="parsable" in names,
        wait="wait" in names,
        quiet="quiet" in names,
        verbose=names.count("verbose"),
        help="help" in names,
        usage="usage" in names,
        version="version" in names,
    )


def _finish(
    fields: dict[str, Any],
    text: str | None,
    ctx: _Context,
    script_name: str | None,
    args: tuple[str, ...],
    argv: tuple[str, ...],
) -> JobSpec:
    command = fields.get("command")
    if text is None and command is None:
        raise SpecError("no batch script: give a script file or --wrap=COMMAND")
    if text is not None and command is not None:
        raise SpecError("--wrap cannot be used with a batch script")
    if command is not None and args:
        raise SpecError("script arguments are not permitted with --wrap")
    mode = fields.pop("_cpu_mode", None) or fields.pop("_hint_mode", None)
    implied = fields.pop("_threads_mode", None)
    if implied is None and fields.get("ntasks_per_core") == 1:
        implied = CpuMode.CORE
    fields.pop("_hint_mode", None)
    fields.pop("_exclusive_kind", None)
    fields["cpu_mode"] = mode or implied
    export = fields.get("export", "ALL")
    chosen_vars: dict[str, str] = fields.pop("_export_vars", {})
    base = dict(ctx.environment) if export == "ALL" and ctx.environment is not None else {}
    fields["environment"] = {**base, **chosen_vars}
    fields["export"] = export
    if "workdir" not in fields:
        fields["workdir"] = ctx.cwd
    if "name" not in fields:
        fields["name"] = _default_name(script_name, command)
    _check_tasks(fields)
    return JobSpec(script=text, args=args, sbatch_args=argv, **fields)


def _default_name(script_name: str | None, command: str | None) -> str:
    if command is not None:
        return "wrap"
    if script_name:
        return posixpath.basename(script_name.rstrip("/")) or "sbatch"
    return "sbatch"  # what sbatch calls a script read from standard input


def _check_tasks(fields: dict[str, Any]) -> None:
    ntasks = fields.get("ntasks")
    per_node = fields.get("ntasks_per_node")
    nodes = fields.get("nodes")
    if ntasks is None or per_node is None or nodes is None:
        return
    most_nodes = fields.get("max_nodes") or nodes
    if ntasks > per_node * most_nodes:
        raise SpecError(
            f"--ntasks={ntasks} does not fit --ntasks-per-node={per_node} on "
            f"--nodes={nodes if most_nodes == nodes else f'{nodes}-{most_nodes}'} "
            f"(at most {per_node * most_nodes} tasks)",
            option="ntasks",
        )
