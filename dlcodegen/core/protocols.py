"""The collaborators a run is given: a `Planner`, a `ChatModel` (the LLM) and a `Verifier`, as protocols, with the
small results they answer (`PlanPrediction`, `Completion`, `VerifyReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Protocol, runtime_checkable

from .items import Attributes
from .plan import Plan
from .task import TaskSpec

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@dataclass
class PlanPrediction:
    plan: Plan | None  # None: the planner's answer could not be read as a plan (see `error`)
    plan_text: str
    repairs: list[str] = field(default_factory=list)
    error: str | None = None
    task: TaskSpec | None = None  # the task the plan was kept true to (None: a planner that reads no task)

    def as_row(self, item_id: int) -> dict:
        row = {"id": item_id, "plan": self.plan.to_dict() if self.plan else None, "plan_text": self.plan_text}
        if self.task is not None:
            row["task"] = self.task.to_dict()
        return row


@runtime_checkable
class Planner(Protocol):
    """Predicts a solution plan from a requirement and its dataset's attributes."""

    name: str

    def predict(self, requirement: str, attributes: Attributes = "") -> PlanPrediction: ...

    def predict_batch(self, items: Iterable[tuple[str, Attributes]]) -> list[PlanPrediction]: ...


@dataclass
class Completion:
    text: str
    usage: dict[str, int]  # {"prompt_tokens": int, "completion_tokens": int}, zeros when the server gives none
    cached: bool
    elapsed: float  # seconds (about 0 for cache hits)


@runtime_checkable
class ChatModel(Protocol):
    """An LLM answering chat messages; with `on_token`, each streamed text delta is passed to it as it comes."""

    def complete(self, messages: list[Message], *, on_token: Callable[[str], None] | None = None,
                 **overrides: Any) -> Completion: ...


class VerifyReport(Protocol):
    """What one verify round found: the deepest level passed and, unless it passed, what failed and why."""

    level: str | None
    failed: str | None
    error: str | None
    seconds: float

    @property
    def passed(self) -> bool: ...

    @property
    def summary(self) -> str: ...

    def as_dict(self) -> dict: ...


class Verifier(Protocol):
    """Runs a project's code in a sandbox and reports how far it got: with a task, up to whether its model fits the
    task and learns."""

    def __call__(self, code: str, task: TaskSpec | None = None) -> VerifyReport: ...
