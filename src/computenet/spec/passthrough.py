"""What a Slurm cluster receives: the user's options minus the network's."""

from __future__ import annotations

from itertools import groupby

from computenet.model.spec import JobSpec
from computenet.spec.argv import read_options
from computenet.spec.options import Scope


def slurm_passthrough_args(spec: JobSpec) -> list[str]:
    """``spec.sbatch_args`` without network-only and submit-command options.

    Every kept word is the user's own, in order; a cluster of short flags
    that mixed kept and dropped options (``-WH``) is split into one word per
    kept option. The script itself goes to Slurm byte for byte.
    """
    out: list[str] = []
    given = read_options(list(spec.sbatch_args))
    for _, group in groupby(given, key=lambda g: g.index):
        items = list(group)
        kept = [g for g in items if g.option.scope is Scope.SBATCH]
        if len(kept) == len(items):
            out.extend(items[-1].words)  # the last one holds a value in the next word
            continue
        for g in kept:  # only clusters of short options mix kept and dropped
            if g.value is None:
                out.append(g.written)
            elif len(g.words) == 2:
                out.extend((g.written, g.value))
            else:
                out.append(g.written + g.value)
    return out
