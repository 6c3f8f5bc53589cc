"""What a run produces: the trace of every stage (`StageRecord`), the `GenerationResult`, and `GenerationError`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .items import Item, Retrieved
from .plan import Plan
from .protocols import VerifyReport
from .task import TaskSpec


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


def total_usage(records: list[StageRecord]) -> dict[str, int]:
    totals = {"prompt_tokens": 0, "completion_tokens": 0, "calls": 0, "cached_calls": 0}
    for record in records:
        if record.messages is None:
            continue
        totals["prompt_tokens"] += record.usage.get("prompt_tokens", 0) or 0
        totals["completion_tokens"] += record.usage.get("completion_tokens", 0) or 0
        totals["cached_calls" if record.cached else "calls"] += 1
    return totals


@dataclass
class GenerationResult:
    method: str
    item: Item
    plan: Plan | None = None  # the plan the method generated from (None: the method makes none, e.g. direct)
    task: TaskSpec | None = None  # the task read from the words, the plan kept true to it (task.json)
    # The plan the code is judged against (plan adherence): `plan`, else the planner's prediction, made once per run.
    reference_plan: Plan | None = None
    retrieved: list[Retrieved] = field(default_factory=list)
    code: str = ""
    records: list[StageRecord] = field(default_factory=list)
    seconds: float = 0.0
    checks: list[VerifyReport] = field(default_factory=list)  # each verify round's report, first to last

    @property
    def requirement(self) -> str:
        return self.item.requirement

    @property
    def attributes(self) -> str:
        return self.item.attributes_text

    @property
    def item_id(self) -> int | None:
        return self.item.id

    def trace(self) -> dict[str, Any]:
        """Everything the run did, as JSON-ready data (`trace.json`)."""
        return {
            "method": self.method, "requirement": self.requirement, "attributes": self.attributes,
            "item_id": self.item_id, "seconds": round(self.seconds, 3), "usage": total_usage(self.records),
            "task": self.task.to_dict() if self.task else None,
            "plan": self.plan.to_dict() if self.plan else None,
            "retrieved": [{"key": r.sample.key, "score": r.score, "task_category": r.sample.plan.task_category}
                          for r in self.retrieved],
            "stages": [record.as_dict() for record in self.records],
            "verify": [check.as_dict() for check in self.checks],
        }


class GenerationError(RuntimeError):
    """A stage failed; `result` holds the stages that finished before it, `cause` the exception that stopped it."""

    def __init__(self, stage: str, message: str, result: GenerationResult, cause: BaseException | None = None):
        super().__init__(f"stage {stage!r} failed: {message}")
        self.stage, self.message, self.result, self.cause = stage, message, result, cause
