"""Slurm job states and exit codes, mapped to computenet's in one table."""

from __future__ import annotations

from typing import Any

from computenet.model import JobState

#: Every base state Slurm reports (squeue, sacct, scontrol, jobcomp) -> ours.
#: TIMEOUT, OUT_OF_MEMORY, NODE_FAIL and PREEMPTED stay apart from FAILED:
#: the controller retries or fails over on some of them and not on others.
SLURM_STATES: dict[str, JobState] = {
    "PENDING": JobState.QUEUED,
    "REQUEUED": JobState.QUEUED,
    "REQUEUE_HOLD": JobState.QUEUED,
    "REQUEUE_FED": JobState.QUEUED,
    "RESV_DEL_HOLD": JobState.QUEUED,
    "CONFIGURING": JobState.QUEUED,  # nodes still booting: nothing runs yet
    "RUNNING": JobState.RUNNING,
    "COMPLETING": JobState.RUNNING,  # epilogs still running; the end is not final
    "SUSPENDED": JobState.RUNNING,
    "STOPPED": JobState.RUNNING,
    "SIGNALING": JobState.RUNNING,
    "STAGE_OUT": JobState.RUNNING,
    "RESIZING": JobState.RUNNING,
    "COMPLETED": JobState.COMPLETED,
    "FAILED": JobState.FAILED,
    "BOOT_FAIL": JobState.FAILED,
    "DEADLINE": JobState.FAILED,
    "SPECIAL_EXIT": JobState.FAILED,
    "CANCELLED": JobState.CANCELLED,
    "REVOKED": JobState.CANCELLED,  # a federation sibling ran it elsewhere
    "TIMEOUT": JobState.TIMEOUT,
    "OUT_OF_MEMORY": JobState.OUT_OF_MEMORY,
    "NODE_FAIL": JobState.NODE_FAIL,
    "PREEMPTED": JobState.PREEMPTED,
}

_SHORT = {
    "PD": "PENDING",
    "R": "RUNNING",
    "CG": "COMPLETING",
    "CD": "COMPLETED",
    "F": "FAILED",
    "CA": "CANCELLED",
    "TO": "TIMEOUT",
    "OOM": "OUT_OF_MEMORY",
    "NF": "NODE_FAIL",
    "PR": "PREEMPTED",
    "S": "SUSPENDED",
    "ST": "STOPPED",
    "BF": "BOOT_FAIL",
    "DL": "DEADLINE",
    "CF": "CONFIGURING",
    "RQ": "REQUEUED",
    "RH": "REQUEUE_HOLD",
    "RV": "REVOKED",
    "SE": "SPECIAL_EXIT",
    "SO": "STAGE_OUT",
    "RS": "RESIZING",
    "SI": "SIGNALING",
    "RF": "REQUEUE_FED",
    "RD": "RESV_DEL_HOLD",
}


def map_state(raw: Any) -> JobState:
    """Our state for what Slurm printed: ``"CANCELLED by 0"``, ``"CD"``, or the
    list form newer ``--json`` output uses (``["PENDING", "REQUEUED"]``).
    An unknown state is an error, never a silent guess."""
    if isinstance(raw, list):
        if not raw:
            raise ValueError("empty Slurm job state")
        raw = raw[0]
    word = str(raw).strip().split(" ")[0].rstrip("+").upper()
    word = _SHORT.get(word, word)
    try:
        return SLURM_STATES[word]
    except KeyError:
        raise ValueError(f"unknown Slurm job state {raw!r}") from None


def exit_code_from_wait_status(status: int) -> str:
    """Slurm 22.05's ``--json`` gives the raw wait status (768 = exit 3)."""
    signal = status & 0x7F
    return f"0:{signal}" if signal else f"{(status >> 8) & 0xFF}:0"


def parse_exit_code(raw: Any) -> str | None:
    """``"code:signal"`` from any of Slurm's spellings: ``"3:0"``, a raw wait
    status (22.05 JSON), or ``{"return_code": .., "signal": {"id": ..}}`` (23.02+)."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        raise ValueError(f"bad exit code {raw!r}")
    if isinstance(raw, int):
        return exit_code_from_wait_status(raw)
    if isinstance(raw, dict):
        code = _number(raw.get("return_code")) or 0
        sig = raw.get("signal") or {}
        signal = _number(sig.get("id") if isinstance(sig, dict) else sig) or 0
        return f"{code}:{signal}"
    code_s, sep, signal_s = str(raw).strip().partition(":")
    if not (code_s.isdigit() and (not sep or signal_s.isdigit())):
        raise ValueError(f"bad exit code {raw!r}")
    return f"{int(code_s)}:{int(signal_s or 0)}"


def _number(value: Any) -> int | None:
    """A number from 22.05's plain int or 23.02+'s ``{"set", "infinite", "number"}``."""
    if isinstance(value, dict):
        if not value.get("set", True) or value.get("infinite"):
            return None
        value = value.get("number")
    if value is None or isinstance(value, bool):
        return None
    return int(value)
