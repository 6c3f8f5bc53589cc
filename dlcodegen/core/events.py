"""The events a generation run yields, in order: for each stage `StageStarted`, `StageDelta`s while an LLM streams,
then the stage's typed result event (`PlanReady`, `SamplesRetrieved`, `TextWritten`, `CodeChecked`); the run ends
with exactly one `RunFinished` or `RunFailed`. Consumers dispatch on the event's type and take titles from
`dlcodegen.core.stages`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .items import Retrieved
from .plan import Plan
from .protocols import VerifyReport
from .results import GenerationError, GenerationResult
from .task import TaskSpec


@dataclass(frozen=True, kw_only=True)
class StageStarted:
    stage: str
    elapsed: float  # seconds since the run started (every event has it)


@dataclass(frozen=True, kw_only=True)
class StageDelta:
    stage: str
    text: str  # the next piece of the LLM's streamed answer
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class TaskRead:
    task: TaskSpec
    elapsed: float
    stage: str = "task"


@dataclass(frozen=True, kw_only=True)
class PlanReady:
    plan: Plan
    elapsed: float
    repairs: tuple[str, ...] = ()  # what was changed to keep the plan true to the task (and parse repairs)
    stage: str = "plan"


@dataclass(frozen=True, kw_only=True)
class SamplesRetrieved:
    samples: tuple[Retrieved, ...]  # best first
    elapsed: float
    stage: str = "retrieve"


@dataclass(frozen=True, kw_only=True)
class TextWritten:
    stage: str
    text: str  # the stage's code (code stages) or prose (the reasoning chain)
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class CodeChecked:
    stage: str  # "verify1", "verify2", ...
    report: VerifyReport
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class RunFinished:
    result: GenerationResult
    elapsed: float


@dataclass(frozen=True, kw_only=True)
class RunFailed:
    stage: str  # the stage that failed ("run" when it failed outside any stage)
    error: GenerationError  # its message is one line, already redacted; `error.result` keeps the finished stages
    elapsed: float


StageDone = Union[TaskRead, PlanReady, SamplesRetrieved, TextWritten, CodeChecked]
STAGE_DONE = (TaskRead, PlanReady, SamplesRetrieved, TextWritten, CodeChecked)  # for isinstance
RunEvent = Union[StageStarted, StageDelta, TaskRead, PlanReady, SamplesRetrieved, TextWritten, CodeChecked, RunFinished,
                 RunFailed]
