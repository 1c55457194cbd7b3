"""The option table against what sbatch 22.05 accepts."""

from __future__ import annotations

from computenet.spec.options import BY_NAME, BY_SHORT, OPTIONS, Arg, Embedded, Scope

# Measured with the real sbatch 22.05.8: every long option it accepts and
# its getopt argument kind, and its short letters.
SBATCH_22_05 = {
    "account": "required", "acctg-freq": "required", "array": "required", "batch": "required",
    "begin": "required", "bb": "required", "bbf": "required", "cluster-constraint": "required",
    "chdir": "required", "cluster": "required", "clusters": "required", "comment": "required",
    "container": "required", "context": "required", "contiguous": "none",
    "constraint": "required", "core-spec": "required", "cores-per-socket": "required",
    "cpu-freq": "required", "cpus-per-gpu": "required", "cpus-per-task": "required",
    "deadline": "required", "delay-boot": "required", "dependency": "required",
    "distribution": "required", "error": "required", "exclude": "required",
    "exclusive": "optional", "export": "required", "export-file": "required",
    "extra-node-info": "required", "get-user-env": "optional", "gid": "required",
    "gpu-bind": "required", "gpu-freq": "required", "gpus": "required",
    "gpus-per-node": "required", "gpus-per-socket": "required", "gpus-per-task": "required",
    "gres": "required", "gres-flags": "required", "help": "none", "hint": "required",
    "hold": "none", "ignore-pbs": "none", "input": "required", "job-name": "required",
    "kill-on-invalid-dep": "required", "licenses": "required", "mail-type": "required",
    "mail-user": "required", "mcs-label": "required", "mem": "required",
    "mem-bind": "required", "mem-per-cpu": "required", "mem-per-gpu": "required",
    "mincpus": "required", "network": "required", "nice": "optional", "no-kill": "optional",
    "no-requeue": "none", "nodefile": "required", "nodelist": "required", "nodes": "required",
    "ntasks": "required", "ntasks-per-core": "required", "ntasks-per-gpu": "required",
    "ntasks-per-node": "required", "ntasks-per-socket": "required",
    "ntasks-per-tres": "required", "open-mode": "required", "output": "required",
    "overcommit": "none", "oversubscribe": "none", "parsable": "none", "partition": "required",
    "power": "required", "prefer": "required", "priority": "required", "profile": "required",
    "propagate": "optional", "qos": "required", "quiet": "none", "reboot": "none",
    "requeue": "none", "reservation": "required", "signal": "required",
    "sockets-per-node": "required", "spread-job": "none", "switches": "required",
    "tasks-per-node": "required", "test-only": "none", "thread-spec": "required",
    "threads-per-core": "required", "time": "required", "time-min": "required",
    "tmp": "required", "uid": "required", "usage": "none", "use-min-nodes": "none",
    "verbose": "none", "version": "none", "wait": "none", "wait-all-nodes": "required",
    "wckey": "required", "wrap": "required",
}  # fmt: skip
SHORTS = "aAbBcCdDeFGhHiJkLmMnNoOpqQsStvVwWx"


def test_table_covers_sbatch_exactly() -> None:
    sbatch_rows = {
        o.name: o.arg.value
        for o in OPTIONS
        if o.scope is not Scope.NETWORK or o.name in ("cluster", "clusters")
    }
    assert sbatch_rows == SBATCH_22_05
    assert "".join(sorted(BY_SHORT, key=lambda c: (c.lower(), c.isupper()))) == SHORTS


def test_network_options_do_not_shadow_sbatch_ones() -> None:
    network = {o.name for o in OPTIONS if o.scope is Scope.NETWORK} - {"cluster", "clusters"}
    assert not network & set(SBATCH_22_05)


def test_every_ignore_or_refuse_row_gives_a_reason() -> None:
    for opt in OPTIONS:
        if opt.embedded is not Embedded.HONOUR:
            assert opt.why, opt.name
    assert BY_NAME["reservation"].embedded is Embedded.REFUSE
    assert BY_NAME["mail-type"].embedded is Embedded.IGNORE
    assert BY_NAME["exclusive"].arg is Arg.OPTIONAL


def test_the_options_page_lists_every_option() -> None:
    from pathlib import Path

    page = Path(__file__).parents[3] / "docs" / "sbatch-options.md"
    text = page.read_text(encoding="utf-8")
    for opt in OPTIONS:
        row = f"| `--{opt.name}` | {'-' + opt.short if opt.short else ''} |"
        assert row in text, opt.name
        if opt.why and opt.scope is not Scope.CLIENT:
            assert f"{opt.embedded.value}: {opt.why}" in text, opt.name
