"""Readers for option values that are more than a number or a name."""

from __future__ import annotations

import math
import posixpath
import re
import signal as signals
from collections.abc import Mapping

from computenet.errors import SpecError
from computenet.model.spec import CpuMode, Mount, Signal, Staging
from computenet.spec.options import POLICIES
from computenet.spec.units import parse_count

_GRES_ITEM = re.compile(r"(?:gres[/:])?([A-Za-z][\w.-]*)(?::([\w.-]+?))?(?::(\d{1,6}))?")
_GPU_ITEM = re.compile(r"(?:([A-Za-z][\w.-]*):)?(\d{1,6})")
_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIGNAL = re.compile(r"(?:([RB]{1,2}):)?([A-Za-z0-9+]+)(?:@(\d{1,6}))?", re.IGNORECASE)
_MAX_SIGNAL_S = 65535  # Slurm keeps the warning time in 16 bits


def parse_gres(text: str) -> tuple[int | None, str | None, tuple[str, ...]]:
    """``--gres``: (GPUs per node or None, GPU type, names of non-GPU resources)."""
    gpus: int | None = None
    types: set[str] = set()
    others: list[str] = []
    for item in text.split(","):
        m = _GRES_ITEM.fullmatch(item)
        if m is None:
            raise SpecError(
                f"invalid --gres={text}: '{item}' is not name[:type][:count]", option="gres"
            )
        name, kind, count = m.groups()
        if kind is not None and kind.isdigit() and count is None:
            kind, count = None, kind  # "gpu:2": the count, not a type
        if name != "gpu":
            others.append(name)
            continue
        gpus = (gpus or 0) + (int(count) if count is not None else 1)
        if kind is not None:
            types.add(kind)
    return gpus, (types.pop() if len(types) == 1 else None), tuple(others)


def parse_gpus(text: str, option: str) -> tuple[int, str | None]:
    """``[type:]N[,...]`` of -G/--gpus, --gpus-per-node, --gpus-per-task."""
    total = 0
    types: set[str | None] = set()
    for item in text.split(","):
        m = _GPU_ITEM.fullmatch(item)
        if m is None:
            raise SpecError(
                f"invalid --{option}={text}: '{item}' is not [type:]count", option=option
            )
        types.add(m.group(1))
        total += int(m.group(2))
    kinds = {t for t in types if t is not None}
    return total, (kinds.pop() if len(kinds) == 1 and None not in types else None)


def parse_export(text: str, environment: Mapping[str, str] | None) -> tuple[str, dict[str, str]]:
    """``--export``: (ALL | NONE | NIL, variables set explicitly).

    A bare ``NAME`` takes its value from the submitting environment (and is
    skipped when unset, as in sbatch). A piece that is neither a keyword nor
    ``NAME[=value]`` continues the previous value: ``A=1,2`` sets A to "1,2".
    """
    keywords: set[str] = set()
    chosen: dict[str, str] = {}
    last: str | None = None
    for piece in text.split(","):
        name, eq, value = piece.partition("=")
        if not eq and piece.upper() in ("ALL", "NONE", "NIL"):
            keywords.add(piece.upper())
            last = None
        elif _VAR.fullmatch(name) and eq:
            chosen[name] = value
            last = name
        elif _VAR.fullmatch(piece):
            if environment is not None and piece in environment:
                chosen[piece] = environment[piece]
            last = None
        elif last is not None:
            chosen[last] += "," + piece
        else:
            raise SpecError(
                f"invalid --export={text}: '{piece}' is not NAME or NAME=value", option="export"
            )
    if len(keywords) > 1:
        raise SpecError(
            f"invalid --export={text}: use only one of ALL, NONE and NIL", option="export"
        )
    mode = keywords.pop() if keywords else "NONE"
    if mode == "NIL" and chosen:
        raise SpecError(
            f"invalid --export={text}: NIL cannot be combined with variables", option="export"
        )
    return mode, chosen


def parse_signal(text: str) -> tuple[Signal, bool]:
    """``--signal=[R][B]:SIG[@seconds]``: the signal and whether ``R`` was set."""
    m = _SIGNAL.fullmatch(text)
    if m is None:
        raise SpecError(f"invalid --signal={text} (use [B:]SIGNAL[@seconds])", option="signal")
    flags, sig, seconds = m.groups()
    flags = (flags or "").upper()
    if seconds is not None and int(seconds) > _MAX_SIGNAL_S:
        raise SpecError(
            f"invalid --signal={text}: at most {_MAX_SIGNAL_S} seconds", option="signal"
        )
    return (
        Signal(
            name=_signal_name(text, sig), seconds_before=int(seconds or 60), batch_only="B" in flags
        ),
        "R" in flags,
    )


def _signal_name(text: str, sig: str) -> str:
    if sig.isdigit():
        number = int(sig)
        try:
            return signals.Signals(number).name.removeprefix("SIG")
        except ValueError:
            if 1 <= number <= 64:
                return str(number)
    else:
        name = sig.upper().removeprefix("SIG")
        if name in signals.Signals.__members__ or f"SIG{name}" in signals.Signals.__members__:
            return name
    raise SpecError(f"invalid --signal={text}: unknown signal '{sig}'", option="signal")


def parse_hint(text: str) -> CpuMode | None:
    """``--hint``: the CPU mode it implies, if any."""
    mode: CpuMode | None = None
    for item in text.lower().split(","):
        if item == "multithread":
            mode = CpuMode.SMT
        elif item == "nomultithread":
            mode = CpuMode.CORE
        elif item not in ("compute_bound", "memory_bound"):
            raise SpecError(
                f"invalid --hint={text} (one of compute_bound, memory_bound, multithread, "
                "nomultithread)",
                option="hint",
            )
    return mode


def parse_cpu_mode(text: str) -> CpuMode:
    try:
        return CpuMode(text.lower())
    except ValueError:
        raise SpecError(f"invalid --cpu-mode={text} (core or smt)", option="cpu-mode") from None


def parse_threads_per_core(text: str) -> CpuMode:
    return CpuMode.CORE if parse_count(text, "threads-per-core") == 1 else CpuMode.SMT


def parse_exclusive(text: str | None) -> str | None:
    """``--exclusive[=user|mcs]``: None for whole nodes, else the sharing kind."""
    if text is None:
        return None
    if text.lower() in ("user", "mcs"):
        return text.lower()
    raise SpecError(
        f"invalid --exclusive={text} (use --exclusive, =user or =mcs)", option="exclusive"
    )


def parse_open_mode(text: str) -> str:
    # sbatch looks at the first letter only.
    if text[:1].lower() == "a":
        return "append"
    if text[:1].lower() == "t":
        return "truncate"
    raise SpecError(f"invalid --open-mode={text} (append or truncate)", option="open-mode")


def parse_names(text: str, option: str) -> tuple[str, ...]:
    names = tuple(n for n in text.split(","))
    if not names or any(not re.fullmatch(r"[\w.-]+", n) for n in names):
        raise SpecError(f"invalid --{option}={text}: expected a comma list of names", option=option)
    return names


def parse_policy(text: str) -> str:
    if text.lower() not in POLICIES:
        raise SpecError(f"invalid --policy={text} (one of {', '.join(POLICIES)})", option="policy")
    return text.lower()


def parse_cost(text: str) -> float:
    try:
        cost = float(text)
    except ValueError:
        cost = math.nan
    if not math.isfinite(cost) or cost < 0:
        raise SpecError(f"invalid --max-cost={text}: expected a number >= 0", option="max-cost")
    return cost


def parse_input_stage(text: str) -> Staging:
    """``--input-stage=SITE:PATH[:DEST]``; DEST defaults to PATH's file name."""
    site, colon, rest = text.partition(":")
    path, _, dest = rest.rpartition(":") if rest.count(":") else (rest, "", "")
    if not site or not colon or not path:
        raise SpecError(
            f"invalid --input-stage={text} (use SITE:PATH[:DEST])", option="input-stage"
        )
    return Staging(site=site, path=path, dest=dest or path.rstrip("/").rsplit("/", 1)[-1])


def parse_output_stage(text: str) -> Staging:
    """``--output-stage=PATH:SITE:DEST``: copy PATH (in the job's working
    directory) back to DEST at SITE. As for inputs, the Staging's ``site:path``
    is the far side and ``dest`` the job's side."""
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not all(parts):
        raise SpecError(
            f"invalid --output-stage={text} (use PATH:SITE:DEST)", option="output-stage"
        )
    job_path, site, far_path = parts
    return Staging(site=site, path=far_path, dest=job_path)


#: an image reference: a name in a site's image store (``mpi``, ``mpi:2``) or,
#: for clusters with pyxis, a registry reference (``nvcr.io/hpc/app:24.1``)
_IMAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,255}$")
_MOUNT_FLAGS = frozenset({"ro", "rw", "private", "rprivate", "slave", "rslave", "rbind", "bind"})


def parse_image(text: str) -> str:
    """``--container-image=IMAGE``."""
    if not _IMAGE.match(text):
        raise SpecError(
            f"--container-image={text!r}: not an image name (letters, digits and _.:/@+-)",
            option="container-image",
        )
    return text


def parse_container_path(text: str) -> str:
    """``--container-workdir=PATH``: an absolute path inside the container."""
    if not text.startswith("/") or "\0" in text:
        raise SpecError(
            f"--container-workdir={text!r}: give an absolute path inside the container",
            option="container-workdir",
        )
    return posixpath.normpath(text)


def parse_mounts(text: str) -> tuple[Mount, ...]:
    """``--container-mounts=SRC[:DST[:FLAGS]][,...]`` as pyxis reads it: DST
    defaults to SRC, FLAGS are ``+``-separated (``ro``, ``rw``, propagation
    names, which are accepted and have no further effect here)."""
    mounts: list[Mount] = []
    for item in text.split(","):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) > 3:
            raise SpecError(
                f"--container-mounts: {item!r} is not SRC[:DST[:FLAGS]]",
                option="container-mounts",
            )
        source = parts[0]
        target = parts[1] if len(parts) > 1 and parts[1] else source
        flags = parts[2].split("+") if len(parts) > 2 else []
        unknown = [f for f in flags if f not in _MOUNT_FLAGS]
        if unknown:
            raise SpecError(
                f"--container-mounts: unknown flag {unknown[0]!r} in {item!r} "
                f"(known: {', '.join(sorted(_MOUNT_FLAGS))})",
                option="container-mounts",
            )
        for path in (source, target):
            if not path.startswith("/"):
                raise SpecError(
                    f"--container-mounts: {path!r} in {item!r} is not an absolute path",
                    option="container-mounts",
                )
        mounts.append(Mount(posixpath.normpath(source), posixpath.normpath(target), "ro" in flags))
    if not mounts:
        raise SpecError("--container-mounts: no mount given", option="container-mounts")
    return tuple(mounts)
