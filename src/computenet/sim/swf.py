"""Standard Workload Format (SWF, version 2.2) traces: reader and cleaning rules.

A trace is a header of ``; Key: value`` comment lines and one line of 18
whitespace-separated numbers per job (Feitelson's Parallel Workloads
Archive). Files may be gzip-compressed. Records are streamed, so a 300,000
job trace is never held in memory at once.

Two ways to read:

- ``SwfTrace.records()``: every field of every line, validated (numbers,
  18 fields), as ``SwfRecord``.
- ``SwfTrace.jobs(capacity, rules)``: the replay's fast path. Only the
  fields a replay needs are converted (1, 2, 4, 5, 8, 9); the cleaning rules
  below are applied; the result is ``EngineJob`` in submit order.

Cleaning rules (``CleaningRules``, each switchable):

- ``drop_nonpositive_runtime``: drop jobs whose run time (field 4) is <= 0
  (cancelled before start, or unknown).
- ``procs_from``: ``"allocated"`` takes processors from field 5 and falls
  back to field 8 (requested) when field 5 is unknown (<= 0);
  ``"requested"`` is the reverse. A job with neither is always dropped.
- ``drop_wider_than_machine``: drop jobs wider than the machine (else they
  are kept, and never start).
- ``estimate``: ``"requested"`` uses the requested time (field 9) clamped
  to at least the run time (the archive's logs have jobs that ran past
  their request; a scheduler kills those, so the request is at least what
  the job got), or the run time when field 9 is unknown; ``"oracle"``
  uses the run time itself.

Errors name the file and line: ``TraceError("trace.swf:12: ...")``.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, NamedTuple

from computenet.scheduling.engine import EngineJob
from computenet.sim.errors import TraceError

SWF_FIELDS: tuple[str, ...] = (
    "job_id",
    "submit",
    "wait",
    "run_time",
    "allocated_procs",
    "avg_cpu_time",
    "used_memory",
    "requested_procs",
    "requested_time",
    "requested_memory",
    "status",
    "user_id",
    "group_id",
    "executable",
    "queue",
    "partition",
    "preceding_job",
    "think_time",
)

_HEADER_LINE = re.compile(r"^;\s?([A-Z][A-Za-z0-9]*):\s*(.*?)\s*$")


class SwfRecord(NamedTuple):
    """One job line, all 18 fields (-1 means unknown)."""

    job_id: int
    submit: float
    wait: float
    run_time: float
    allocated_procs: int
    avg_cpu_time: float
    used_memory: float
    requested_procs: int
    requested_time: float
    requested_memory: float
    status: int
    user_id: int
    group_id: int
    executable: int
    queue: int
    partition: int
    preceding_job: int
    think_time: float


# job id, processors, status, user, group, executable, queue, partition, preceding job
_INT_FIELDS = frozenset((0, 4, 7, 10, 11, 12, 13, 14, 15, 16))


@dataclass(frozen=True)
class SwfHeader:
    """Every ``; Key: value`` header line; repeated keys (Note, Queue) keep all values."""

    fields: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        values = self.fields.get(key)
        return values[0] if values else None

    def _int(self, key: str) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            return int(value.split()[0])
        except (ValueError, IndexError):
            return None

    @property
    def version(self) -> str | None:
        return self.get("Version")

    @property
    def computer(self) -> str | None:
        return self.get("Computer")

    @property
    def max_procs(self) -> int | None:
        return self._int("MaxProcs")

    @property
    def max_nodes(self) -> int | None:
        return self._int("MaxNodes")

    @property
    def max_jobs(self) -> int | None:
        return self._int("MaxJobs")

    @property
    def max_records(self) -> int | None:
        return self._int("MaxRecords")

    @property
    def unix_start_time(self) -> int | None:
        return self._int("UnixStartTime")

    @property
    def time_zone_string(self) -> str | None:
        return self.get("TimeZoneString")

    @property
    def machine_procs(self) -> int | None:
        """The machine size: MaxProcs, else MaxNodes."""
        return self.max_procs if self.max_procs and self.max_procs > 0 else self.max_nodes


@dataclass(frozen=True)
class CleaningRules:
    drop_nonpositive_runtime: bool = True
    procs_from: Literal["allocated", "requested"] = "allocated"
    drop_wider_than_machine: bool = True
    estimate: Literal["requested", "oracle"] = "requested"


@dataclass
class CleaningStats:
    """What the cleaning rules did to one read (filled while streaming)."""

    lines: int = 0
    kept: int = 0
    dropped_runtime: int = 0
    dropped_no_procs: int = 0
    dropped_too_wide: int = 0


def _open_text(path: Path) -> IO[str]:
    try:
        with path.open("rb") as probe:
            compressed = probe.read(2) == b"\x1f\x8b"
        if compressed:
            return gzip.open(path, "rt", encoding="latin-1", newline="")
        return path.open(encoding="latin-1", newline="")
    except OSError as exc:
        raise TraceError(f"cannot read trace {path}: {exc.strerror or exc}") from exc


class SwfTrace:
    """An SWF file: the header is read on opening, jobs are streamed on demand."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.header = self._read_header()

    def _read_header(self) -> SwfHeader:
        fields: dict[str, list[str]] = {}
        with _open_text(self.path) as text:
            try:
                for line in text:
                    if not line.startswith(";"):
                        if line.strip():
                            break
                        continue
                    match = _HEADER_LINE.match(line)
                    if match:
                        fields.setdefault(match.group(1), []).append(match.group(2))
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise TraceError(f"{self.path}: unreadable: {exc}") from exc
        return SwfHeader({key: tuple(values) for key, values in fields.items()})

    def _lines(self) -> Iterator[tuple[int, list[str]]]:
        """(line number, fields) of every job line; comments and blanks skipped."""
        name = self.path.name
        with _open_text(self.path) as text:
            try:
                for number, line in enumerate(text, 1):
                    if line.startswith(";"):
                        continue
                    parts = line.split()
                    if len(parts) == 18:
                        yield number, parts
                    elif parts and not parts[0].startswith(";"):
                        raise TraceError(f"{name}:{number}: expected 18 fields, found {len(parts)}")
            except (OSError, EOFError) as exc:
                raise TraceError(f"{name}: unreadable: {exc}") from exc

    def records(self) -> Iterator[SwfRecord]:
        """Every job line with all 18 fields validated as numbers."""
        name = self.path.name
        for number, parts in self._lines():
            values: list[int | float] = []
            for index, token in enumerate(parts):
                try:
                    value = float(token)
                except ValueError:
                    raise TraceError(
                        f"{name}:{number}: field {index + 1} ({SWF_FIELDS[index]}) "
                        f"is not a number: {token!r}"
                    ) from None
                values.append(int(value) if index in _INT_FIELDS else value)
            yield SwfRecord._make(values)

    def jobs(
        self,
        capacity: int | None = None,
        rules: CleaningRules = CleaningRules(),
        stats: CleaningStats | None = None,
    ) -> Iterator[EngineJob]:
        """Cleaned jobs for replay on ``capacity`` processors (default: the header's)."""
        name = self.path.name
        if capacity is None:
            capacity = self.header.machine_procs
        if rules.drop_wider_than_machine and not capacity:
            raise TraceError(f"{name}: no MaxProcs in the header; give the machine size")
        if stats is None:
            stats = CleaningStats()
        wide_limit = capacity if rules.drop_wider_than_machine and capacity else None
        allocated_first = rules.procs_from == "allocated"
        oracle = rules.estimate == "oracle"
        drop_runtime = rules.drop_nonpositive_runtime
        make = EngineJob._make
        last_submit = -float("inf")
        number = 0
        try:
            for number, parts in self._lines():
                stats.lines += 1
                runtime = float(parts[3])
                if runtime <= 0 and drop_runtime:
                    stats.dropped_runtime += 1
                    continue
                first, second = (parts[4], parts[7]) if allocated_first else (parts[7], parts[4])
                procs = int(first)
                if procs <= 0:
                    procs = int(second)
                    if procs <= 0:
                        stats.dropped_no_procs += 1
                        continue
                if wide_limit is not None and procs > wide_limit:
                    stats.dropped_too_wide += 1
                    continue
                submit = float(parts[1])
                if submit < last_submit:
                    raise TraceError(f"{name}:{number}: submit time goes backwards")
                last_submit = submit
                if oracle:
                    estimate = runtime
                else:
                    estimate = float(parts[8])
                    if estimate < runtime:
                        estimate = runtime
                stats.kept += 1
                yield make((int(parts[0]), submit, procs, runtime, estimate))
        except ValueError as exc:
            raise TraceError(f"{name}:{number}: malformed number: {exc}") from None


def read_header(path: str | Path) -> SwfHeader:
    return SwfTrace(path).header
