"""A UI-agnostic, streaming view of one run: `stream_views` turns `Generator.run`'s stage events into snapshots
(`GenerationView`) that a front end (the Space) renders as they come.

Every stage the view shows is in one of five states: pending, running, done, error or skipped. A stage the method
does not run is "skipped" with a note: known at once for the methods that need no LLM (the registry says they ask
nothing), otherwise when the run ends without it. A failed run keeps every stage that finished before the failure,
marks the failed stage and says in the status which stage failed and why (the message is already redacted).

The first stage is the task read from the user's words (`TaskSpec`, each fact with the words it was read from); the
plan comes with what was changed to keep it true to that task (`repairs`).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Iterator

from typing import TYPE_CHECKING, Final, Literal

from dlcodegen.core.events import (CodeChecked, PlanReady, RunEvent, RunFailed, RunFinished, SamplesRetrieved,
                                   StageDelta, StageDone, StageStarted, TaskRead)
from dlcodegen.core.items import Retrieved
from dlcodegen.core.plan import Plan
from dlcodegen.core.results import GenerationError, GenerationResult, total_usage
from dlcodegen.core.stages import LLM_ONLY_STAGES, VIEW_STAGES, stage_title
from dlcodegen.core.task import TaskSpec
from dlcodegen.metrics.adherence import plan_adherence

if TYPE_CHECKING:
    from dlcodegen.generator.run import Generator

StageState = Literal["pending", "running", "done", "error", "skipped"]
Phase = Literal["running", "finished", "failed"]
PENDING: Final = "pending"
RUNNING: Final = "running"
DONE: Final = "done"
ERROR: Final = "error"
SKIPPED: Final = "skipped"
RUNNING_PHASE: Final = "running"
FINISHED_PHASE: Final = "finished"
FAILED_PHASE: Final = "failed"
DELTA_INTERVAL = 1 / 8  # seconds: streamed text refreshes the view at most ~8 times a second
REQUIREMENT_EXCERPT = 100
NO_TASK_READ = "the planner read no task from the requirement"
ADHERENCE_TITLES = {"layers": "Layers", "optimizer": "Optimizer", "loss_function": "Loss function",
                    "evaluation_metric": "Evaluation metric", "learning_rate": "Learning rate",
                    "batch_size": "Batch size", "epochs": "Epochs", "hyperparameters": "Hyperparameters (mean)",
                    "overall": "Overall (mean)"}


@dataclass
class GenerationView:
    """One snapshot of a run; every yielded snapshot is a separate object (safe to keep)."""

    method: str
    phase: Phase = RUNNING_PHASE
    status: str = ""
    task: TaskSpec | None = None  # what the user asked for, each fact with the words it was read from
    plan: Plan | None = None
    repairs: tuple[str, ...] = ()  # what was changed to keep the plan true to the task
    retrieved: list[Retrieved] = field(default_factory=list)  # best first
    texts: dict[str, str] = field(default_factory=dict)  # stage -> streamed text, then its code once done
    states: dict[str, StageState] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # stage -> why it was skipped
    seconds: dict[str, float] = field(default_factory=dict)  # stage -> duration, once done
    elapsed: float = 0.0
    last_event: RunEvent | None = None  # the event this snapshot follows
    failed_stage: str | None = None
    error: str | None = None
    result: GenerationResult | None = None  # the finished run (also a failed run's finished stages)
    adherence: dict | None = None  # plan_adherence of the final code, once finished

    def state(self, stage: str) -> StageState:
        return self.states.get(stage, PENDING)

    def text(self, stage: str) -> str:
        return self.texts.get(stage, "")

    def snapshot(self) -> "GenerationView":
        return dataclasses.replace(self, retrieved=list(self.retrieved), texts=dict(self.texts),
                                   states=dict(self.states), notes=dict(self.notes), seconds=dict(self.seconds))


class _ViewBuilder:
    """Applies events to one view."""

    def __init__(self, method_name: str, needs_llm: bool):
        self.view = GenerationView(method=method_name, states={stage: PENDING for stage in VIEW_STAGES})
        self.started: dict[str, float] = {}
        if not needs_llm:
            for stage in LLM_ONLY_STAGES:
                self._skip(stage, self._not_in_method())
        self.view.status = f"{method_name}: starting"

    def _not_in_method(self) -> str:
        return f"not part of the {self.view.method} method"

    def _skip(self, stage: str, note: str) -> None:
        self.view.states[stage] = SKIPPED
        self.view.notes[stage] = note

    def apply(self, event: RunEvent) -> None:
        view = self.view
        view.elapsed, view.last_event = event.elapsed, event
        if isinstance(event, StageStarted):
            view.states[event.stage] = RUNNING
            view.texts[event.stage] = ""
            self.started[event.stage] = event.elapsed
        elif isinstance(event, StageDelta):
            view.texts[event.stage] = view.text(event.stage) + event.text
        elif isinstance(event, RunFinished):
            self._finish(event.result)
        elif isinstance(event, RunFailed):
            self._fail(event.stage, event.error)
        else:
            self._stage_done(event)
        if view.phase == RUNNING_PHASE:
            view.status = self._running_status()

    def _stage_done(self, event: StageDone) -> None:
        view = self.view
        if isinstance(event, TaskRead):
            view.task = event.task
        elif isinstance(event, PlanReady):
            view.plan, view.repairs = event.plan, tuple(event.repairs)
        elif isinstance(event, SamplesRetrieved):
            view.retrieved = list(event.samples)
        elif isinstance(event, CodeChecked):
            view.texts[event.stage] = event.report.summary
        else:
            view.texts[event.stage] = event.text
        view.states[event.stage] = DONE
        view.seconds[event.stage] = event.elapsed - self.started.get(event.stage, event.elapsed)

    def _running_status(self) -> str:
        running = [stage for stage, state in self.view.states.items() if state == RUNNING]
        parts = [stage_title(stage) + (f" ({len(self.view.text(stage)):,} chars)" if self.view.text(stage) else "")
                 for stage in running]
        done = sum(state == DONE for state in self.view.states.values())
        doing = ", ".join(parts) if parts else "working"
        return f"{self.view.method}: {doing} ... {self.view.elapsed:.1f} s, {done} stage(s) done"

    def _finish(self, result: GenerationResult) -> None:
        view = self.view
        view.result, view.phase, view.elapsed = result, FINISHED_PHASE, result.seconds
        for stage, state in view.states.items():
            if state == PENDING:
                read_none = stage == "task" and result.plan is not None  # a plan made, no task read with it
                self._skip(stage, NO_TASK_READ if read_none else self._not_in_method())
        plan = result.reference_plan
        view.adherence = plan_adherence(result.code, plan) if plan else None
        view.status = self._finished_status(result)

    def _finished_status(self, result: GenerationResult) -> str:
        usage = total_usage(result.records)
        timings = ", ".join(f"{stage_title(stage)} {seconds:.1f} s" for stage, seconds in self.view.seconds.items())
        overall = (self.view.adherence or {}).get("overall")
        adherence = f"; plan adherence {overall:.0f}%" if overall is not None else ""
        return (f"{result.method}: {len(result.code.splitlines())} lines in {result.seconds:.1f} s; "
                f"{usage['calls']} LLM call(s), {usage['cached_calls']} from the cache, {usage['prompt_tokens']} "
                f"prompt + {usage['completion_tokens']} completion tokens{adherence}. Stages: {timings}")

    def _fail(self, stage: str, error: GenerationError) -> None:
        view = self.view
        message = error.message
        view.phase, view.failed_stage, view.error, view.result = FAILED_PHASE, stage, message, error.result
        view.states[stage] = ERROR
        for other, state in view.states.items():
            if state in (PENDING, RUNNING):
                self._skip(other, f"not run: the run stopped when {stage_title(stage)} failed")
        kept = [stage_title(other) for other, state in view.states.items() if state == DONE]
        view.status = (f"{view.method}: stage {stage_title(stage)} failed after {view.elapsed:.1f} s: {message}"
                       + (f" (kept: {', '.join(kept)})" if kept else ""))


def stream_views(generator: Generator, requirement: str, attributes: str = "", item_id: int | None = None,
                 min_interval: float = DELTA_INTERVAL) -> Iterator[GenerationView]:
    """Snapshots of `generator`'s run: one per start, done and error event, and at most one per `min_interval`
    seconds of streamed text. The last one is finished (with `result` and `adherence`) or failed."""
    builder = _ViewBuilder(generator.method.name, generator.method.needs_llm)
    last_yield = float("-inf")
    for event in generator.run(requirement, attributes, item_id):
        builder.apply(event)
        now = time.monotonic()
        if isinstance(event, StageDelta) and now - last_yield < min_interval:
            continue
        last_yield = now
        yield builder.view.snapshot()


def task_lines(task: TaskSpec | None) -> list[str]:
    """One line per stated fact, "name: value (read from: words)"; none before the task is read."""
    return task.lines() if task is not None else []


def plan_rows(plan: Plan | None) -> list[list[str]]:
    """[field, value] per plan field; the layers one per line; "-" where the plan states nothing."""
    if plan is None:
        return []
    rows = []
    for name, value in plan.field_values().items():
        if name == "layers":
            shown = "\n".join(value) if value else "-"
        else:
            shown = "-" if value is None else str(value)
        rows.append([name.replace("_", " "), shown])
    return rows


def retrieved_rows(retrieved: list[Retrieved]) -> list[list]:
    """[score, sample key, task category, requirement excerpt] per retrieved sample, best first."""
    rows = []
    for found in retrieved:
        requirement = " ".join(found.sample.requirement.split())
        excerpt = requirement if len(requirement) <= REQUIREMENT_EXCERPT else \
            requirement[:REQUIREMENT_EXCERPT - 3].rstrip() + "..."
        rows.append([round(found.score, 3), found.sample.key, found.sample.plan.task_category or "-", excerpt])
    return rows


def adherence_rows(adherence: dict | None) -> list[list[str]]:
    """[field, adherence %] per judged field; "-" for a field the plan does not state."""
    if not adherence:
        return []
    return [[ADHERENCE_TITLES.get(name, name), "-" if value is None else f"{value:.1f}"]
            for name, value in adherence.items()]
