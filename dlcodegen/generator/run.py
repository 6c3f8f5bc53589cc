"""The orchestration: a `Generator` runs one method for one requirement and yields its typed events.

Stages run on worker threads (code 1 beside template -> code 2); their events reach the caller through a queue, so
the CLI prints them and the Space streams them as they happen. The last event is `RunFinished` with the
`GenerationResult`, or `RunFailed` with a `GenerationError` that still carries every finished stage.
"""

from __future__ import annotations

import ast
import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from dlcodegen.core.errors import ConfigurationError, ServiceError
from dlcodegen.core.events import (CodeChecked, PlanReady, TaskRead, RunEvent, RunFailed, RunFinished, SamplesRetrieved,
                                   StageDelta, StageStarted, TextWritten)
from dlcodegen.core.items import Attributes, Item, Retrieved, Sample
from dlcodegen.core.plan import ATTRIBUTES_LABEL, REQUIREMENT_LABEL, Plan, check_requirement
from dlcodegen.core.protocols import ChatModel, Planner, Verifier, VerifyReport
from dlcodegen.core.results import GenerationError, GenerationResult, StageRecord
from dlcodegen.core.stages import round_stage
from dlcodegen.core.task import TaskSpec
from dlcodegen.core.text import error_line, redact
from dlcodegen.extract import extract_code
from dlcodegen.generator.cluster_cot import ClusterCoTSource
from dlcodegen.generator.methods import Method, get_method
from dlcodegen.generator.prompts import messages
from dlcodegen.generator.retrieve import CodeRetriever, RequirementRetriever

logger = logging.getLogger(__name__)


@dataclass
class GeneratorConfig:
    method: str = "dlcodegen"
    examples: int = 1  # example samples shown to code 1 (Code RAG)
    template_samples: int = 2  # top samples abstracted into the template (the paper's two)
    top_k: int = 5  # retrieved samples reported
    seed: int = 0  # random-sibling's draw
    repair: int = 0  # rounds of verify -> repair for LLM methods (needs a verifier)


@dataclass(frozen=True)
class RunTools:
    """The collaborators a run uses, passed in once by the `Generator`."""

    planner: Planner
    pool: Sequence[Sample]
    code_retriever: CodeRetriever
    requirement_retriever: RequirementRetriever
    client: ChatModel | None
    verifier: Verifier | None
    cluster_cot: ClusterCoTSource


class RunContext:
    """What a method sees while it runs: the item, the planner, retrieval and the LLM, all traced."""

    def __init__(self, config: GeneratorConfig, tools: RunTools, item: Item, emit: Callable[[RunEvent], None],
                 started: float):
        self.config, self.tools, self.item = config, tools, item
        self.requirement, self.attributes, self.item_id = item.requirement, item.attributes_text, item.id
        self.result = GenerationResult(config.method, item)
        self._send, self._started, self._lock = emit, started, threading.Lock()
        self.open_stages: list[str] = []  # started, not yet done: where a failure happened

    def now(self) -> float:
        return time.perf_counter() - self._started

    def _start(self, stage: str) -> float:
        with self._lock:
            self.open_stages.append(stage)
        self._send(StageStarted(stage=stage, elapsed=self.now()))
        return self.now()

    def _done(self, event: RunEvent, stage: str) -> None:
        with self._lock:
            if stage in self.open_stages:
                self.open_stages.remove(stage)
        self._send(event)

    def _record(self, record: StageRecord) -> None:
        with self._lock:
            self.result.records.append(record)

    def plan(self) -> Plan:
        if self.result.plan is None:
            began = self._start("plan")
            prediction = self.tools.planner.predict(self.requirement, self.attributes)
            if prediction.plan is None:
                raise ServiceError(f"the planner's answer is not a readable plan ({prediction.error})")
            self.result.plan, self.result.task = prediction.plan, prediction.task
            if prediction.task is not None:  # read by the planner, shown as the first stage
                self._start("task")
                self._record(StageRecord("task", began, 0.0, notes=prediction.task.lines()))
                self._done(TaskRead(task=prediction.task, elapsed=self.now()), "task")
            self._record(StageRecord("plan", began, self.now() - began, raw=prediction.plan_text,
                                     notes=list(prediction.repairs)))
            self._done(PlanReady(plan=prediction.plan, repairs=tuple(prediction.repairs), elapsed=self.now()),
                       "plan")
        return self.result.plan

    def _retrieved(self, find: Callable[[], list[Retrieved]]) -> list[Retrieved]:
        began = self._start("retrieve")
        found = find()
        if not found:
            raise ConfigurationError("the code sample pool has no sample to retrieve")
        self.result.retrieved = found
        self._record(StageRecord("retrieve", began, self.now() - began,
                                 notes=[f"{r.sample.key} score={r.score:.3f}" for r in found]))
        self._done(SamplesRetrieved(samples=tuple(found), elapsed=self.now()), "retrieve")
        return found

    def retrieve_code(self) -> list[Retrieved]:
        """Code RAG for the plan (leave-one-out)."""
        plan = self.plan()
        k = max(self.config.top_k, self.config.examples, self.config.template_samples)
        return self._retrieved(lambda: self.tools.code_retriever.retrieve(plan, self.requirement, self.item_id, k))

    def retrieve_by_requirement(self, k: int = 1) -> list[Retrieved]:
        """CEDAR's retrieval: the requirement is the query (leave-one-out)."""
        return self._retrieved(lambda: self.tools.requirement_retriever.retrieve(self.requirement, self.item_id, k))

    def produce(self, stage: str, code: str, notes: list[str]) -> str:
        """A stage whose code comes without an LLM (a pool sample, the offline generator)."""
        self._record(StageRecord(stage, self.now(), 0.0, code=code, notes=notes))
        self._done(TextWritten(stage=stage, text=code, elapsed=self.now()), stage)
        return code

    def ask(self, stage: str, prompt: str, code: bool = True, **variables) -> str:
        """Render the prompt template `prompt`, ask the LLM (streaming deltas as events), keep the raw answer and its
        code."""
        if self.tools.client is None:
            raise ConfigurationError(f"stage {stage} needs an LLM and none is configured")
        plan = self.result.plan
        began = self._start(stage)
        values = {"requirement": self.requirement, "attributes": self.attributes,
                  "requirement_label": REQUIREMENT_LABEL, "attributes_label": ATTRIBUTES_LABEL,
                  "plan_json": plan.to_json(indent=2) if plan else ""}
        chat = messages(prompt, **{**values, **variables})
        completion = self.tools.client.complete(chat, on_token=lambda delta: self._send(
            StageDelta(stage=stage, text=delta, elapsed=self.now())))
        answer = extract_code(completion.text) if code else completion.text.strip()
        record = StageRecord(stage, began, self.now() - began, messages=chat, raw=completion.text,
                             code=answer if code else None, usage=dict(completion.usage), cached=completion.cached)
        if not answer.strip():
            self._record(record)
            raise ServiceError(f"the LLM's answer holds no {'code' if code else 'text'} (raw answer "
                               f"{len(completion.text)} characters, kept in the trace)")
        if code and "```" not in completion.text and not _parses(answer):
            record.notes.append("the answer has no fenced code and does not parse as Python: kept as it is")
        self._record(record)
        self._done(TextWritten(stage=stage, text=answer, elapsed=self.now()), stage)
        return answer

    def check(self, code: str, round_number: int) -> VerifyReport:
        """One verify round (the verifier runs the code in its sandbox), kept in the trace."""
        assert self.tools.verifier is not None  # the repair loop runs only with a verifier
        stage = round_stage("verify", round_number)
        began = self._start(stage)
        outcome = self.tools.verifier(code, task=self.result.task)
        self.result.checks.append(outcome)
        self._record(StageRecord(stage, began, self.now() - began,
                                 notes=[f"level={outcome.level} failed={outcome.failed} error={outcome.error}"]))
        self._done(CodeChecked(stage=stage, report=outcome, elapsed=self.now()), stage)
        return outcome

    def repaired(self, code: str) -> str:
        """Verify, and while a level fails, feed it back to the LLM, for up to `config.repair` rounds."""
        for round_number in range(1, self.config.repair + 1):
            outcome = self.check(code, round_number)
            if outcome.passed:
                return code
            code = self.ask(round_stage("repair", round_number), "repair.j2", project=code, passed=outcome.level,
                            failed=outcome.failed, error=outcome.error)
        self.check(code, self.config.repair + 1)
        return code

    def parallel(self, *branches: Callable[[], str]) -> list[str]:
        """Run independent branches at once (code 1 beside template -> code 2)."""
        with ThreadPoolExecutor(max_workers=len(branches)) as pool:
            futures = [pool.submit(branch) for branch in branches]
            return [future.result() for future in futures]


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


class Generator:
    """Runs a registered method. The collaborators are passed in: the planner, the pool, the LLM client (built
    from the environment when an LLM method gets none), the verifier of the repair loop, Cluster-CoT's source."""

    def __init__(self, planner: Planner, pool: Sequence[Sample], client: ChatModel | None = None,
                 config: GeneratorConfig | None = None, data_path=None, verifier: Verifier | None = None,
                 cluster_cot: ClusterCoTSource | None = None):
        self.config = config or GeneratorConfig()
        self.method: Method = get_method(self.config.method)
        if self.method.needs_llm and client is None:
            from dlcodegen.llm import make_client

            client = make_client()
        pool = list(pool)
        self.tools = RunTools(planner=planner, pool=pool,
                              code_retriever=CodeRetriever(pool),
                              requirement_retriever=RequirementRetriever(pool), client=client, verifier=verifier,
                              cluster_cot=cluster_cot or ClusterCoTSource(data_path))

    # Read-only views of the collaborators (callers report on them: bench's metadata); they are set once, in tools.
    planner = property(lambda self: self.tools.planner)
    client = property(lambda self: self.tools.client)
    verifier = property(lambda self: self.tools.verifier)

    def run(self, requirement: str | Item, attributes: Attributes = "", item_id: int | None = None
            ) -> Iterator[RunEvent]:
        """The run's events as they happen; `requirement` may be an `Item` (then the other two are ignored)."""
        item = requirement if isinstance(requirement, Item) else Item(requirement, attributes or "", item_id)
        check_requirement(item.requirement)
        events: queue.Queue = queue.Queue()
        started = time.perf_counter()
        context = RunContext(self.config, self.tools, item, events.put, started)
        thread = threading.Thread(target=self._work, args=(context, events), daemon=True)
        thread.start()
        while (event := events.get()) is not None:
            yield event

    def _work(self, context: RunContext, events: queue.Queue) -> None:
        result = context.result
        try:
            result.code = self.method.run(context)
            if result.plan is None:  # judged (and repaired) against the planner's plan and task, predicted once
                result.reference_plan, result.task = self._reference_plan(context.item)
            else:
                result.reference_plan = result.plan
            if self.method.needs_llm and self.config.repair and self.tools.verifier is not None:
                result.code = context.repaired(result.code)
            result.seconds = context.now()
            events.put(RunFinished(result=result, elapsed=result.seconds))
        except Exception as error:  # noqa: BLE001 - every failure becomes one RunFailed event, the run is kept
            result.seconds = context.now()
            stage = context.open_stages[-1] if context.open_stages else "run"
            logger.debug("stage %s of %s failed", stage, self.method.name, exc_info=True)
            failure = GenerationError(stage, redact(error_line(error)), result, cause=error)
            events.put(RunFailed(stage=stage, error=failure, elapsed=result.seconds))
        finally:
            events.put(None)

    def _reference_plan(self, item: Item) -> tuple[Plan | None, TaskSpec | None]:
        """The plan (and task) a method that makes none is judged against: the planner's."""
        try:
            prediction = self.tools.planner.predict(item.requirement, item.attributes_text)
        except ValueError:
            return None, None
        return prediction.plan, prediction.task

    def generate(self, requirement: str | Item, attributes: Attributes = "", item_id: int | None = None,
                 on_event: Callable[[RunEvent], None] | None = None) -> GenerationResult:
        """Run to the end; raises `GenerationError` (with the finished stages) when a stage fails."""
        for event in self.run(requirement, attributes, item_id):
            if on_event is not None:
                on_event(event)
            if isinstance(event, RunFailed):
                raise event.error
            if isinstance(event, RunFinished):
                return event.result
        raise RuntimeError("the run ended without a result")  # unreachable: _work always reports
