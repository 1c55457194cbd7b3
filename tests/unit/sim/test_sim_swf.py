"""SWF reading: header, all fields, gzip, cleaning rules, errors with line numbers."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from computenet.sim.errors import TraceError
from computenet.sim.swf import CleaningRules, CleaningStats, SwfTrace

HEADER = """; Version: 2.2
; Computer: Test rig
; Note: first note
; Note: second note
;   an indented continuation line: not a key
; UnixStartTime: 1000000000
; TimeZoneString: Europe/Stockholm
; MaxNodes: 4
; MaxProcs: 8
"""


def line(
    job_id: int, submit: int, run: int, alloc: int, req_procs: int, req_time: int, wait: int = 0
) -> str:
    fields = [
        job_id,
        submit,
        wait,
        run,
        alloc,
        -1,
        -1,
        req_procs,
        req_time,
        -1,
        1,
        3,
        1,
        -1,
        1,
        -1,
        -1,
        -1,
    ]
    return " ".join(str(f) for f in fields) + "\n"


def write(tmp_path: Path, body: str, name: str = "t.swf", header: str = HEADER) -> Path:
    path = tmp_path / name
    text = header + body
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def test_header_metadata(tmp_path: Path) -> None:
    header = SwfTrace(write(tmp_path, line(1, 0, 10, 2, 2, 20))).header
    assert header.version == "2.2"
    assert header.computer == "Test rig"
    assert header.max_procs == 8
    assert header.max_nodes == 4
    assert header.unix_start_time == 1_000_000_000
    assert header.time_zone_string == "Europe/Stockholm"
    assert header.fields["Note"] == ("first note", "second note")
    assert "an" not in header.fields


def test_records_have_all_18_fields_from_gzip(tmp_path: Path) -> None:
    path = write(tmp_path, line(7, 5, 30, 4, 6, 60, wait=3), name="t.swf.gz")
    (record,) = list(SwfTrace(path).records())
    assert record.job_id == 7 and record.submit == 5 and record.wait == 3
    assert record.run_time == 30 and record.allocated_procs == 4
    assert record.requested_procs == 6 and record.requested_time == 60
    assert record.user_id == 3 and record.queue == 1 and record.think_time == -1
    assert len(record) == 18


def test_cleaning_rules(tmp_path: Path) -> None:
    body = (
        line(1, 0, 10, 2, 4, 20)  # kept: 2 allocated procs, estimate 20
        + line(2, 1, 0, 2, 2, 20)  # runtime 0: dropped
        + line(3, 2, 50, -1, 3, 20)  # no allocation: 3 requested; estimate clamped to 50
        + line(4, 3, 10, 16, 16, 20)  # wider than 8 procs: dropped
        + line(5, 4, 10, -1, -1, 20)  # no procs at all: dropped
        + line(6, 5, 10, 1, 1, -1)  # no requested time: estimate is the runtime
    )
    trace = SwfTrace(write(tmp_path, body))
    stats = CleaningStats()
    jobs = list(trace.jobs(stats=stats))
    assert [(j.job_id, j.procs, j.runtime_s, j.estimate_s) for j in jobs] == [
        (1, 2, 10.0, 20.0),
        (3, 3, 50.0, 50.0),
        (6, 1, 10.0, 10.0),
    ]
    assert (stats.lines, stats.kept, stats.dropped_runtime) == (6, 3, 1)
    assert (stats.dropped_no_procs, stats.dropped_too_wide) == (1, 1)

    oracle = list(trace.jobs(rules=CleaningRules(estimate="oracle")))
    assert [j.estimate_s for j in oracle] == [j.runtime_s for j in oracle]
    requested_first = list(trace.jobs(rules=CleaningRules(procs_from="requested")))
    assert requested_first[0].procs == 4
    keep_all = CleaningRules(drop_nonpositive_runtime=False, drop_wider_than_machine=False)
    assert [j.job_id for j in trace.jobs(rules=keep_all)] == [1, 2, 3, 4, 6]


def test_jobs_stream_lazily(tmp_path: Path) -> None:
    body = line(1, 0, 10, 1, 1, 10) + "1 2 3\n"  # the second line is broken
    jobs = SwfTrace(write(tmp_path, body)).jobs()
    assert next(jobs).job_id == 1  # the first job arrives before the bad line is read
    with pytest.raises(TraceError, match=r"t\.swf:11: expected 18 fields, found 3"):
        next(jobs)


def test_bad_number_names_the_line(tmp_path: Path) -> None:
    body = line(1, 0, 10, 1, 1, 10) + line(2, 5, 10, 1, 1, 10).replace(" 5 ", " five ", 1)
    with pytest.raises(TraceError, match=r"t\.swf:11: field 2 \(submit\) is not a number"):
        list(SwfTrace(write(tmp_path, body)).records())
    with pytest.raises(TraceError, match=r"t\.swf:11: malformed number"):
        list(SwfTrace(write(tmp_path, body)).jobs())


def test_submit_going_backwards_is_an_error(tmp_path: Path) -> None:
    body = line(1, 10, 10, 1, 1, 10) + line(2, 5, 10, 1, 1, 10)
    with pytest.raises(TraceError, match=r"t\.swf:11: submit time goes backwards"):
        list(SwfTrace(write(tmp_path, body)).jobs())


def test_missing_file_and_missing_machine_size(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="cannot read trace"):
        SwfTrace(tmp_path / "absent.swf")
    path = write(tmp_path, line(1, 0, 10, 1, 1, 10), header="; Version: 2.2\n")
    with pytest.raises(TraceError, match="no MaxProcs"):
        list(SwfTrace(path).jobs())
    assert [j.job_id for j in SwfTrace(path).jobs(capacity=2)] == [1]
