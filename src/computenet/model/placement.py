"""The broker's decision and the evidence for it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Candidate:
    cluster: str
    partition: str | None
    feasible: bool
    why_not: str | None = None
    predicted_start: float | None = None
    predicted_end: float | None = None
    predicted_runtime_s: float | None = None
    staging_s: float = 0.0
    cost: float | None = None
    score: float | None = None
    speed_source: str | None = None  # how the run time was predicted
    pool: str | None = None  # the partition is this pool's
    grow_nodes: int = 0  # nodes the pool grows for the job


@dataclass(frozen=True)
class Placement:
    chosen: str | None  # cluster name, None if nothing fits now
    partition: str | None
    policy: str
    reason: str
    candidates: tuple[Candidate, ...]
    decided_at: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "chosen": self.chosen,
            "partition": self.partition,
            "policy": self.policy,
            "reason": self.reason,
            "decided_at": self.decided_at,
            "candidates": [asdict(c) for c in self.candidates],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Placement:
        return cls(
            chosen=data.get("chosen"),
            partition=data.get("partition"),
            policy=data.get("policy", ""),
            reason=data.get("reason", ""),
            decided_at=float(data.get("decided_at", 0.0)),
            candidates=tuple(Candidate(**c) for c in data.get("candidates", ())),
        )
