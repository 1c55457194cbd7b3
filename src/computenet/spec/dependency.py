"""Job dependencies as sbatch ``--dependency`` writes them.

``type:ID[:ID...]`` conditions joined by ``,`` (all must hold) or ``?``
(any one is enough; the two separators cannot be mixed), plus
``singleton``. ``after:ID+MINUTES`` waits that long after the other job
started. IDs are job ids of the network or of the cluster, array tasks
written ``ID_TASK``.
"""

from __future__ import annotations

import re

from computenet.errors import SpecError
from computenet.model.spec import Dependency, DependencyType

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_DELAY = re.compile(r"\d{1,6}")


def parse_dependency(text: str) -> tuple[Dependency, ...]:
    """The conditions in ``text``; raises SpecError if it is malformed."""
    deps, _ = parse_dependency_list(text)
    return deps


def parse_dependency_list(text: str) -> tuple[tuple[Dependency, ...], bool]:
    """The conditions and whether any one of them is enough (``?``)."""
    if "," in text and "?" in text:
        raise _invalid(text, "use either ',' (all) or '?' (any), not both")
    any_one = "?" in text
    deps: list[Dependency] = []
    for part in text.split("?" if any_one else ","):
        deps.extend(_condition(text, part))
    return tuple(deps), any_one


def _condition(text: str, part: str) -> list[Dependency]:
    if part.lower() == "singleton":
        return [Dependency(DependencyType.SINGLETON)]
    kind_text, colon, ids_text = part.partition(":")
    try:
        kind = DependencyType(kind_text.lower())
    except ValueError:
        names = ", ".join(t.value for t in DependencyType)
        raise _invalid(text, f"unknown type '{kind_text}' (one of {names})") from None
    if kind is DependencyType.SINGLETON or not colon or not ids_text:
        raise _invalid(text, f"'{part}' needs job ids: {kind_text}:ID[:ID...]")
    plain: list[str] = []
    delayed: list[Dependency] = []
    for item in ids_text.split(":"):
        job_id, plus, delay = item.partition("+")
        if not _JOB_ID.fullmatch(job_id):
            raise _invalid(text, f"'{job_id}' is not a job id")
        if not plus:
            plain.append(job_id)
            continue
        if kind is not DependencyType.AFTER or not _DELAY.fullmatch(delay):
            raise _invalid(text, f"'{item}': only after:ID+MINUTES takes a delay")
        delayed.append(Dependency(kind, (job_id,), delay_s=int(delay) * 60))
    out = [Dependency(kind, tuple(plain))] if plain else []
    return out + delayed


def _invalid(text: str, why: str) -> SpecError:
    return SpecError(f"invalid --dependency={text}: {why}", option="dependency")
