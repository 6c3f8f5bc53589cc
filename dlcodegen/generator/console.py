"""The terminal view of a run: each stage as it finishes, a live status line while the LLM streams."""

from __future__ import annotations

import sys
from typing import TextIO

from dlcodegen.core.events import (STAGE_DONE, CodeChecked, PlanReady, RunEvent, SamplesRetrieved, StageDelta,
                                   StageDone, StageStarted, TaskRead)
from dlcodegen.core.protocols import PlanPrediction
from dlcodegen.core.task import TaskSpec
from dlcodegen.core.items import Retrieved
from dlcodegen.core.plan import Plan
from dlcodegen.core.results import GenerationResult, total_usage
from dlcodegen.core.stages import stage_title

PREVIEW_LINES = 15


class StageConsole:
    def __init__(self, out: TextIO | None = None, status: TextIO | None = None):
        self.out, self.status = out or sys.stdout, status or sys.stderr
        self.live = self.status.isatty()
        self._streamed: dict[str, int] = {}

    def show(self, event: RunEvent) -> None:
        if isinstance(event, StageStarted):
            self._streamed[event.stage] = 0
            self._status(f"{event.elapsed:7.1f}s  {stage_title(event.stage)} ...")
        elif isinstance(event, StageDelta):
            self._streamed[event.stage] = self._streamed.get(event.stage, 0) + len(event.text)
            running = ", ".join(f"{stage_title(stage)} {chars} chars" for stage, chars in self._streamed.items())
            self._status(f"{event.elapsed:7.1f}s  streaming: {running}")
        elif isinstance(event, STAGE_DONE):
            self._streamed.pop(event.stage, None)
            self._clear()
            print(f"\n== {stage_title(event.stage)} ({event.elapsed:.1f}s) ==", file=self.out)
            print(_render(event), file=self.out, flush=True)

    def summary(self, result: GenerationResult, paths: dict, adherence: dict | None = None) -> None:
        usage = total_usage(result.records)
        print(f"\n{result.method}: {len(result.code.splitlines())} lines in {result.seconds:.1f}s; "
              f"{usage['calls']} LLM call(s), {usage['cached_calls']} from the cache, "
              f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens", file=self.out)
        if adherence:
            print("plan adherence %: " + ", ".join(f"{name} {value:.0f}" for name, value in adherence.items()
                                                   if value is not None), file=self.out)
        if result.checks:
            last = result.checks[-1]
            print(f"verify: {last.summary} ({len(result.checks)} round(s))", file=self.out)
        for path in paths.values():
            print(f"wrote {path}", file=self.out)

    def _status(self, text: str) -> None:
        if self.live:
            self.status.write("\r\033[K" + text[:150])
            self.status.flush()

    def _clear(self) -> None:
        if self.live:
            self.status.write("\r\033[K")
            self.status.flush()


def _render(event: StageDone) -> str:
    if isinstance(event, TaskRead):
        return render_task(event.task)
    if isinstance(event, PlanReady):
        return _render_plan(event.plan) + _render_repairs(event.repairs)
    if isinstance(event, SamplesRetrieved):
        return _render_samples(event.samples)
    if isinstance(event, CodeChecked):
        return f"  {event.report.summary}"
    if event.stage == "final":
        return event.text
    lines = event.text.splitlines()
    more = len(lines) - PREVIEW_LINES
    return "\n".join(lines[:PREVIEW_LINES]) + (f"\n... ({more} more lines in trace.json)" if more > 0 else "")


def _render_plan(plan: Plan) -> str:
    fields = "\n".join(f"  {name:<18} {value}" for name, value in plan.field_values().items()
                       if value is not None and name != "layers")
    return fields + "\n  layers:\n" + "\n".join(f"    {layer}" for layer in plan.layers or [])


def render_task(task: TaskSpec) -> str:
    return "\n".join(f"  {line}" for line in task.lines()) or "  (nothing stated)"


def _render_repairs(repairs) -> str:
    if not repairs:
        return ""
    return "\n  kept true to the task:\n" + "\n".join(f"    - {line}" for line in repairs)


def plan_lines(prediction: PlanPrediction) -> list[str]:
    """`dlcodegen plan "..."`: the task, then the plan and what was repaired."""
    lines = []
    if prediction.task is not None:
        lines += ["== Task ==", render_task(prediction.task), ""]
    lines.append("== Plan ==")
    if prediction.plan is None:
        return [*lines, f"  no readable plan: {prediction.error}"]
    return [*lines, _render_plan(prediction.plan) + _render_repairs(prediction.repairs)]


def _render_samples(samples: tuple[Retrieved, ...]) -> str:
    return "\n".join(f"  {r.score:8.3f}  {r.sample.key:<22} {r.sample.plan.task_category or '-'}"
                     f"  {r.sample.requirement[:70]}" for r in samples)
