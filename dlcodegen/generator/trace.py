"""What a run reports: stage events as they happen, and the trace of every stage kept for `trace.json`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class StageEvent:
    """One step of a run. `kind` is "start", "delta" (streamed text), "done" or "error"."""

    stage: str
    kind: str
    payload: Any
    elapsed: float  # seconds since the run started


@dataclass
class StageRecord:
    """One stage as kept in the trace: its prompt, the raw answer, the code taken from it, usage and timing."""

    stage: str
    started: float
    seconds: float
    messages: list[dict] | None = None
    raw: str | None = None
    code: str | None = None
    usage: dict = field(default_factory=dict)
    cached: bool = False
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def total_usage(records: list[StageRecord]) -> dict:
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0, "cached_calls": 0}
    for record in records:
        if record.messages is None:
            continue
        totals["prompt_tokens"] += record.usage.get("prompt_tokens", 0) or 0
        totals["completion_tokens"] += record.usage.get("completion_tokens", 0) or 0
        totals["cached_calls" if record.cached else "calls"] += 1
    return totals
