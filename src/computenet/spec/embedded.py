"""What an embedded cluster does with each option of a job.

A Slurm cluster acts on every sbatch option itself. An embedded cluster
honours most, drops harmless ones (noted in ``JobSpec.ignored``) and
refuses those whose meaning it cannot keep, so the broker places the job
elsewhere instead of running it differently from what the user asked.
"""

from __future__ import annotations

import re
from dataclasses import replace

from computenet.errors import UnsupportedOption
from computenet.model.cluster import ClusterInfo
from computenet.model.spec import JobSpec
from computenet.spec import values as v
from computenet.spec.argv import Given, read_options
from computenet.spec.directives import parse_directives
from computenet.spec.options import Embedded

_FEATURE = re.compile(r"[A-Za-z0-9_.:-]+")


def check_embedded(spec: JobSpec, info: ClusterInfo) -> JobSpec:
    """``spec`` with ``ignored`` notes for ``info``'s cluster.

    Raises UnsupportedOption, naming the option, when the cluster cannot
    keep an option's meaning. Slurm clusters get the spec unchanged.
    """
    if info.kind == "slurm":
        return spec
    notes = list(spec.ignored)
    for given in _options_given(spec):
        opt = given.option
        if opt.embedded is Embedded.REFUSE:
            raise _refuse(info, f"{given.shown()}: {opt.why}", opt.name)
        if opt.embedded is Embedded.IGNORE:
            notes.append(f"{given.shown()}: ignored on embedded clusters ({opt.why})")
        elif opt.name == "exclusive" and given.value is not None:
            notes.append(f"{given.shown()}: treated as --exclusive on embedded clusters")
        elif opt.name == "signal" and v.parse_signal(given.value or "")[1]:
            notes.append(f"{given.shown()}: the R: flag is ignored (no reservations)")
    if spec.reservation is not None:
        raise _refuse(info, f"--reservation={spec.reservation}: no reservations", "reservation")
    if spec.gres is not None:
        _, _, others = v.parse_gres(spec.gres)
        if others:
            raise _refuse(info, f"--gres={spec.gres}: only gpu resources exist here", "gres")
    if spec.constraint is not None:
        _check_constraint(spec, info)
    ignored = tuple(dict.fromkeys(notes))
    # replace() re-runs the checks of every field: skip it when nothing changed.
    return spec if ignored == spec.ignored else replace(spec, ignored=ignored)


def _options_given(spec: JobSpec) -> list[Given]:
    """The last occurrence of each option from the script and the command line."""
    words = parse_directives(spec.script) if spec.script is not None else []
    last: dict[str, Given] = {}
    for given in read_options(words) + read_options(list(spec.sbatch_args)):
        last.pop(given.option.name, None)
        last[given.option.name] = given
    return list(last.values())


def _check_constraint(spec: JobSpec, info: ClusterInfo) -> None:
    """Refuse a feature constraint no partition of the cluster can meet.

    ``&`` and ``,`` need every feature on one node type, ``|`` any one;
    counts (``*N``) and brackets are read as plain feature lists.
    """
    text = spec.constraint or ""
    wanted = {f.split("*")[0] for f in _FEATURE.findall(text)}
    partitions = [p for p in info.partitions if spec.partition in (None, p.name)]
    for part in partitions:
        have = set(part.node_type.features)
        if ("|" in text and wanted & have) or wanted <= have:
            return
    raise _refuse(info, f"--constraint={text}: no node type here has these features", "constraint")


def _refuse(info: ClusterInfo, why: str, option: str) -> UnsupportedOption:
    return UnsupportedOption(
        f"{why} (embedded cluster '{info.name}')", option=option, cluster=info.name
    )
