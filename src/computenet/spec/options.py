"""The one table of every option ``cnet submit`` accepts.

It holds every option sbatch 22.05 accepts (measured against the real
``sbatch``: name, short letter and whether it takes a value), plus the
network's own options. Each row says where the value goes in ``JobSpec``
(or ``SubmitFlags``), who acts on it (``scope``) and what an embedded
cluster does with it:

- ``honour``: the embedded cluster keeps its meaning;
- ``ignore``: harmless to drop (mail, accounting hints, binding, ...), noted
  in ``JobSpec.ignored``;
- ``refuse``: dropping it would change the job's meaning, so an embedded
  cluster refuses the job (``UnsupportedOption``) and the broker places it
  elsewhere.

Long options may be abbreviated to any unambiguous prefix, as getopt does.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum

from computenet.errors import SpecError


class Arg(StrEnum):
    NONE = "none"
    REQUIRED = "required"
    OPTIONAL = "optional"  # only as --opt=value (getopt's optional_argument)


class Embedded(StrEnum):
    HONOUR = "honour"
    IGNORE = "ignore"
    REFUSE = "refuse"


class Scope(StrEnum):
    SBATCH = "sbatch"  # a job option: a Slurm cluster receives it verbatim
    NETWORK = "network"  # read by the broker only; never sent to Slurm
    CLIENT = "client"  # changes what the submit command does, not the job


@dataclass(frozen=True)
class OptionDef:
    name: str  # canonical long name, without dashes
    short: str | None
    arg: Arg
    target: str  # JobSpec or SubmitFlags field it sets ("" when none)
    embedded: Embedded
    why: str = ""  # the reason shown for ignore/refuse
    scope: Scope = Scope.SBATCH
    repeatable: bool = False  # values accumulate instead of overriding

    @property
    def takes_value(self) -> bool:
        return self.arg is not Arg.NONE


H, IG, R = Embedded.HONOUR, Embedded.IGNORE, Embedded.REFUSE
NO, REQ, OPT = Arg.NONE, Arg.REQUIRED, Arg.OPTIONAL
NET, CLI = Scope.NETWORK, Scope.CLIENT

_NO_BIND = "no CPU, memory or GPU binding control"
_NO_TOPO = "virtual nodes have no socket or switch topology"

OPTIONS: tuple[OptionDef, ...] = (
    OptionDef("account", "A", REQ, "account", H),
    OptionDef("acctg-freq", None, REQ, "", IG, "no accounting sampler settings"),
    OptionDef("array", "a", REQ, "array", H),
    OptionDef("batch", None, REQ, "", IG, "no per-node features for the batch step"),
    OptionDef("begin", "b", REQ, "begin_time", H),
    OptionDef("bb", None, REQ, "", R, "no burst buffers"),
    OptionDef("bbf", None, REQ, "", R, "no burst buffers"),
    OptionDef("chdir", "D", REQ, "workdir", H),
    OptionDef("cluster", None, REQ, "clusters", H, scope=NET),
    OptionDef("cluster-constraint", None, REQ, "", R, "no federation"),
    OptionDef("clusters", "M", REQ, "clusters", H, scope=NET),
    OptionDef("comment", None, REQ, "comment", H),
    OptionDef("constraint", "C", REQ, "constraint", H),
    OptionDef("container", None, REQ, "", R, "no OCI container runtime"),
    OptionDef("context", None, REQ, "", R, "no SELinux contexts"),
    OptionDef("contiguous", None, NO, "", IG, "virtual nodes are always contiguous"),
    OptionDef("core-spec", "S", REQ, "", IG, "no specialised cores"),
    OptionDef("cores-per-socket", None, REQ, "", IG, _NO_TOPO),
    OptionDef("cpu-freq", None, REQ, "", IG, "no CPU frequency control"),
    OptionDef("cpus-per-gpu", None, REQ, "", R, "CPUs are counted per task; use --cpus-per-task"),
    OptionDef("cpus-per-task", "c", REQ, "cpus_per_task", H),
    OptionDef("deadline", None, REQ, "deadline", H),
    OptionDef("delay-boot", None, REQ, "", IG, "nodes never reboot"),
    OptionDef("dependency", "d", REQ, "dependency", H),
    OptionDef("distribution", "m", REQ, "", IG, "tasks are placed in block order"),
    OptionDef("error", "e", REQ, "error", H),
    OptionDef("exclude", "x", REQ, "", IG, "virtual node names differ from the user's hosts"),
    OptionDef("exclusive", None, OPT, "exclusive", H),
    OptionDef("export", None, REQ, "export", H),
    OptionDef("export-file", None, REQ, "", R, "environment files are not read"),
    OptionDef("extra-node-info", "B", REQ, "", IG, _NO_TOPO),
    OptionDef("get-user-env", None, OPT, "", IG, "the submitted environment is used"),
    OptionDef("gid", None, REQ, "", R, "jobs run as the submitting user"),
    OptionDef("gpu-bind", None, REQ, "", IG, _NO_BIND),
    OptionDef("gpu-freq", None, REQ, "", IG, "no GPU frequency control"),
    OptionDef("gpus", "G", REQ, "gpus", H),
    OptionDef("gpus-per-node", None, REQ, "gpus_per_node", H),
    OptionDef("gpus-per-socket", None, REQ, "", R, _NO_TOPO),
    OptionDef("gpus-per-task", None, REQ, "gpus_per_task", H),
    OptionDef("gres", None, REQ, "gres", H),
    OptionDef("gres-flags", None, REQ, "", IG, _NO_BIND),
    OptionDef("help", "h", NO, "help", H, scope=CLI),
    OptionDef("hint", None, REQ, "cpu_mode", H),
    OptionDef("hold", "H", NO, "hold", H),
    OptionDef("ignore-pbs", None, NO, "", IG, "#PBS lines are never read"),
    OptionDef("input", "i", REQ, "input", H),
    OptionDef("job-name", "J", REQ, "name", H),
    OptionDef("kill-on-invalid-dep", None, REQ, "", IG, "jobs with failed dependencies end"),
    OptionDef("licenses", "L", REQ, "", R, "no license counting"),
    OptionDef("mail-type", None, REQ, "", IG, "no mail"),
    OptionDef("mail-user", None, REQ, "", IG, "no mail"),
    OptionDef("mcs-label", None, REQ, "", IG, "no MCS labels"),
    OptionDef("mem", None, REQ, "mem_per_node_bytes", H),
    OptionDef("mem-bind", None, REQ, "", IG, _NO_BIND),
    OptionDef("mem-per-cpu", None, REQ, "mem_per_cpu_bytes", H),
    OptionDef("mem-per-gpu", None, REQ, "", R, "memory is counted per node or CPU; use --mem"),
    OptionDef("mincpus", None, REQ, "", IG, "nodes of a partition are alike"),
    OptionDef("network", None, REQ, "", IG, "no interconnect settings"),
    OptionDef("nice", None, OPT, "", IG, "no priority adjustment"),
    OptionDef("no-kill", "k", OPT, "", IG, "virtual nodes do not fail alone"),
    OptionDef("no-requeue", None, NO, "", IG, "requeueing is the network's failover"),
    OptionDef("nodefile", "F", REQ, "", R, "named hosts do not exist here"),
    OptionDef("nodelist", "w", REQ, "", R, "named hosts do not exist here"),
    OptionDef("nodes", "N", REQ, "nodes", H),
    OptionDef("ntasks", "n", REQ, "ntasks", H),
    OptionDef("ntasks-per-core", None, REQ, "ntasks_per_core", H),
    OptionDef("ntasks-per-gpu", None, REQ, "", R, "tasks are counted per node; use --ntasks"),
    OptionDef("ntasks-per-node", None, REQ, "ntasks_per_node", H),
    OptionDef("ntasks-per-socket", None, REQ, "", IG, _NO_TOPO),
    OptionDef("ntasks-per-tres", None, REQ, "", R, "tasks are counted per node; use --ntasks"),
    OptionDef("open-mode", None, REQ, "open_mode", H),
    OptionDef("output", "o", REQ, "output", H),
    OptionDef("overcommit", "O", NO, "", IG, "CPUs are never overcommitted"),
    OptionDef("oversubscribe", "s", NO, "", IG, "CPUs are never shared between jobs"),
    OptionDef("parsable", None, NO, "parsable", H, scope=CLI),
    OptionDef("partition", "p", REQ, "partition", H),
    OptionDef("power", None, REQ, "", IG, "no power management"),
    OptionDef("prefer", None, REQ, "", IG, "soft feature preferences are not weighed"),
    OptionDef("priority", None, REQ, "", IG, "no priority adjustment"),
    OptionDef("profile", None, REQ, "", IG, "no profiling plugin"),
    OptionDef("propagate", None, OPT, "", IG, "limits of the server process apply"),
    OptionDef("qos", "q", REQ, "qos", IG, "no QOS"),
    OptionDef("quiet", "Q", NO, "quiet", H, scope=CLI),
    OptionDef("reboot", None, NO, "", IG, "nodes never reboot"),
    OptionDef("requeue", None, NO, "", IG, "requeueing is the network's failover"),
    OptionDef("reservation", None, REQ, "reservation", R, "no reservations"),
    OptionDef("signal", None, REQ, "signal", H),
    OptionDef("sockets-per-node", None, REQ, "", IG, _NO_TOPO),
    OptionDef("spread-job", None, NO, "", IG, "tasks are placed in block order"),
    OptionDef("switches", None, REQ, "", IG, _NO_TOPO),
    OptionDef("tasks-per-node", None, REQ, "ntasks_per_node", H),
    OptionDef("test-only", None, NO, "test_only", H, scope=CLI),
    OptionDef("thread-spec", None, REQ, "", IG, "no specialised threads"),
    OptionDef("threads-per-core", None, REQ, "cpu_mode", H),
    OptionDef("time", "t", REQ, "time_limit_s", H),
    OptionDef("time-min", None, REQ, "", IG, "the full time limit is reserved"),
    OptionDef("tmp", None, REQ, "", IG, "no per-node temporary disk accounting"),
    OptionDef("uid", None, REQ, "", R, "jobs run as the submitting user"),
    OptionDef("usage", None, NO, "usage", H, scope=CLI),
    OptionDef("use-min-nodes", None, NO, "", IG, "node counts are met exactly"),
    OptionDef("verbose", "v", NO, "verbose", H, scope=CLI),
    OptionDef("version", "V", NO, "version", H, scope=CLI),
    OptionDef("wait", "W", NO, "wait", H, scope=CLI),
    OptionDef("wait-all-nodes", None, REQ, "", IG, "virtual nodes are always ready"),
    OptionDef("wckey", None, REQ, "", IG, "no workload characterisation keys"),
    OptionDef("wrap", None, REQ, "command", H),
    # ----- the network's own options ------------------------------------
    OptionDef("app", None, REQ, "app", H, scope=NET),
    OptionDef("container-image", None, REQ, "container_image", H, scope=NET),
    OptionDef("container-mounts", None, REQ, "container_mounts", H, scope=NET),
    OptionDef("container-workdir", None, REQ, "container_workdir", H, scope=NET),
    OptionDef("cpu-mode", None, REQ, "cpu_mode", H, scope=NET),
    OptionDef("hedge", None, REQ, "hedge", H, scope=NET),
    OptionDef("input-stage", None, REQ, "inputs", H, scope=NET, repeatable=True),
    OptionDef("max-cost", None, REQ, "max_cost", H, scope=NET),
    OptionDef("output-stage", None, REQ, "outputs", H, scope=NET, repeatable=True),
    OptionDef("policy", None, REQ, "policy", H, scope=NET),
    OptionDef("region", None, REQ, "region", H, scope=NET),
    OptionDef("site", None, REQ, "site", H, scope=NET),
)

BY_NAME: dict[str, OptionDef] = {o.name: o for o in OPTIONS}
BY_SHORT: dict[str, OptionDef] = {o.short: o for o in OPTIONS if o.short}
SBATCH_NAMES: frozenset[str] = frozenset(
    o.name for o in OPTIONS if o.scope is not NET or o.name in ("cluster", "clusters", "deadline")
)
POLICIES: tuple[str, ...] = ("fastest", "cheapest", "balanced", "local-first")


def lookup_long(written: str) -> OptionDef:
    """The option a ``--name`` (without dashes) means, getopt-style.

    An exact name wins; otherwise a unique prefix. When a prefix matches
    both sbatch and network options, the sbatch one wins so every
    abbreviation sbatch accepts keeps its meaning.
    """
    if written in BY_NAME:
        return BY_NAME[written]
    matches = [o for o in OPTIONS if o.name.startswith(written)] if written else []
    if len(matches) > 1:
        native = [o for o in matches if o.name in SBATCH_NAMES]
        if len(native) == 1:
            return native[0]
        names = " ".join(f"'--{o.name}'" for o in matches)
        raise SpecError(
            f"option '--{written}' is ambiguous; possibilities: {names}", option=written
        )
    if matches:
        return matches[0]
    hint = difflib.get_close_matches(written, list(BY_NAME), n=1, cutoff=0.6)
    tail = f" (did you mean '--{hint[0]}'?)" if hint else ""
    raise SpecError(f"unrecognized option '--{written}'{tail}", option=written)


def lookup_short(letter: str) -> OptionDef:
    try:
        return BY_SHORT[letter]
    except KeyError:
        raise SpecError(f"invalid option -- '{letter}'", option=letter) from None
