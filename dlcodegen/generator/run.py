"""The orchestration: a `Generator` runs one method for one requirement and yields its stage events.

Stages run on worker threads (code 1 beside template -> code 2); their events reach the caller through a queue, so
the CLI prints them and the Space streams them as they happen. The last event is "done" with the
`GenerationResult`, or "error" with a `GenerationError` that still carries every finished stage.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

from dlcodegen.extract import extract_code
from dlcodegen.generator.pool import Sample
from dlcodegen.generator.prompts import messages
from dlcodegen.generator.retrieve import CodeRetriever, Retrieved, RequirementRetriever, RetrieveConfig
from dlcodegen.generator.trace import StageEvent, StageRecord, total_usage
from dlcodegen.planning.plan import ATTRIBUTES_LABEL, REQUIREMENT_LABEL, Plan, check_requirement


class GenerationError(RuntimeError):
    """A stage failed; `result` holds the stages that finished before it."""

    def __init__(self, stage: str, message: str, result: "GenerationResult"):
        super().__init__(f"stage {stage!r} failed: {message}")
        self.stage, self.result = stage, result


@dataclass
class GeneratorConfig:
    method: str = "dlcodegen"
    examples: int = 1  # example samples shown to code 1 (Code RAG)
    template_samples: int = 2  # top samples abstracted into the template (the paper's two)
    top_k: int = 5  # retrieved samples reported
    seed: int = 0  # random-sibling's draw
    repair: int = 0  # rounds of verify -> repair for LLM methods (needs a verifier)


@dataclass
class GenerationResult:
    method: str
    requirement: str
    attributes: str
    item_id: int | None
    plan: Plan | None = None
    retrieved: list[Retrieved] = field(default_factory=list)
    code: str = ""
    records: list[StageRecord] = field(default_factory=list)
    seconds: float = 0.0
    checks: list = field(default_factory=list)  # VerifyResult of each verify round, first to last

    def trace(self) -> dict:
        """Everything the run did, as JSON-ready data (`trace.json`)."""
        return {
            "method": self.method, "requirement": self.requirement, "attributes": self.attributes,
            "item_id": self.item_id, "seconds": round(self.seconds, 3), "usage": total_usage(self.records),
            "plan": self.plan.to_dict() if self.plan else None,
            "retrieved": [{"key": r.sample.key, "score": r.score, "task_category": r.sample.plan.task_category}
                          for r in self.retrieved],
            "stages": [record.as_dict() for record in self.records],
            "verify": [check.as_dict() for check in self.checks],
        }


class RunContext:
    """What a method sees while it runs: the requirement, the planner, retrieval and the LLM, all traced."""

    def __init__(self, generator: "Generator", requirement: str, attributes: str, item_id: int | None,
                 emit: Callable[[str, str, object], None], started: float):
        self.generator, self.config = generator, generator.config
        self.requirement, self.attributes, self.item_id = requirement, attributes, item_id
        self.result = GenerationResult(generator.config.method, requirement, attributes, item_id)
        self._send, self._started, self._lock = emit, started, threading.Lock()
        self.open_stages: list[str] = []  # started, not yet done: where a failure happened

    def _emit(self, stage: str, kind: str, payload) -> None:
        with self._lock:
            if kind == "start":
                self.open_stages.append(stage)
            elif kind == "done" and stage in self.open_stages:
                self.open_stages.remove(stage)
        self._send(stage, kind, payload)

    def now(self) -> float:
        return time.perf_counter() - self._started

    def _record(self, record: StageRecord) -> None:
        with self._lock:
            self.result.records.append(record)

    def plan(self) -> Plan:
        if self.result.plan is None:
            began = self.now()
            self._emit("plan", "start", None)
            prediction = self.generator.planner.predict(self.requirement, self.attributes)
            if prediction.plan is None:
                raise ValueError(f"the planner's answer is not a readable plan ({prediction.error})")
            self.result.plan = prediction.plan
            self._record(StageRecord("plan", began, self.now() - began, raw=prediction.plan_text,
                                     notes=list(prediction.repairs)))
            self._emit("plan", "done", prediction.plan)
        return self.result.plan

    def _retrieved(self, stage: str, find: Callable[[], list[Retrieved]]) -> list[Retrieved]:
        began = self.now()
        self._emit(stage, "start", None)
        found = find()
        if not found:
            raise ValueError("the code sample pool has no sample to retrieve")
        self.result.retrieved = found
        self._record(StageRecord(stage, began, self.now() - began,
                                 notes=[f"{r.sample.key} score={r.score:.3f}" for r in found]))
        self._emit(stage, "done", found)
        return found

    def retrieve_code(self) -> list[Retrieved]:
        """Code RAG for the plan (leave-one-out)."""
        plan = self.plan()
        k = max(self.config.top_k, self.config.examples, self.config.template_samples)
        return self._retrieved("retrieve", lambda: self.generator.code_retriever.retrieve(
            plan, self.requirement, self.item_id, k))

    def retrieve_by_requirement(self, k: int = 1) -> list[Retrieved]:
        """CEDAR's retrieval: the requirement is the query (leave-one-out)."""
        return self._retrieved("retrieve", lambda: self.generator.requirement_retriever.retrieve(
            self.requirement, self.item_id, k))

    def produce(self, stage: str, code: str, notes: list[str]) -> str:
        """A stage whose code comes without an LLM (a pool sample, the offline generator)."""
        self._record(StageRecord(stage, self.now(), 0.0, code=code, notes=notes))
        self._emit(stage, "done", code)
        return code

    def ask(self, stage: str, prompt: str, code: bool = True, **variables) -> str:
        """Render the prompt template `prompt`, ask the LLM (streaming deltas as events), keep the raw answer and its code."""
        plan = self.result.plan
        began = self.now()
        self._emit(stage, "start", None)
        values = {"requirement": self.requirement, "attributes": self.attributes,
                  "requirement_label": REQUIREMENT_LABEL, "attributes_label": ATTRIBUTES_LABEL,
                  "plan_json": plan.to_json(indent=2) if plan else ""}
        chat = messages(prompt, **{**values, **variables})
        completion = self.generator.client.complete(chat, on_token=lambda delta: self._emit(stage, "delta", delta))
        answer = extract_code(completion.text) if code else completion.text.strip()
        record = StageRecord(stage, began, self.now() - began, messages=chat, raw=completion.text,
                             code=answer if code else None, usage=dict(completion.usage), cached=completion.cached)
        if not answer.strip():
            self._record(record)
            raise ValueError(f"the LLM's answer holds no {'code' if code else 'text'} (raw answer "
                             f"{len(completion.text)} characters, kept in the trace)")
        if code and "```" not in completion.text and not _parses(answer):
            record.notes.append("the answer has no fenced code and does not parse as Python: kept as it is")
        self._record(record)
        self._emit(stage, "done", answer)
        return answer

    def check(self, code: str, round_number: int):
        """One verify round (the verifier runs the code in its sandbox), kept in the trace."""
        stage = f"verify{round_number}"
        began = self.now()
        self._emit(stage, "start", None)
        outcome = self.generator.verifier(code)
        self.result.checks.append(outcome)
        self._record(StageRecord(stage, began, self.now() - began,
                                 notes=[f"level={outcome.level} failed={outcome.failed} error={outcome.error}"]))
        self._emit(stage, "done", outcome)
        return outcome

    def repaired(self, code: str) -> str:
        """Verify, and while a level fails, feed it back to the LLM, for up to `config.repair` rounds."""
        for round_number in range(1, self.config.repair + 1):
            outcome = self.check(code, round_number)
            if outcome.passed:
                return code
            code = self.ask(f"repair{round_number}", "repair.j2", project=code, passed=outcome.level,
                            failed=outcome.failed, error=outcome.error)
        self.check(code, self.config.repair + 1)
        return code

    def parallel(self, *branches: Callable[[], str]) -> list[str]:
        """Run independent branches at once (code 1 beside template -> code 2)."""
        with ThreadPoolExecutor(max_workers=len(branches)) as pool:
            futures = [pool.submit(branch) for branch in branches]
            return [future.result() for future in futures]


def _parses(code: str) -> bool:
    import ast

    try:
        ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


class Generator:
    """Runs a registered method. `client` is any object with the `ChatClient.complete` signature."""

    def __init__(self, planner, pool: Sequence[Sample], client=None, config: GeneratorConfig | None = None,
                 data_path=None, verifier: Callable | None = None):
        from dlcodegen.generator.methods import get_method

        self.config = config or GeneratorConfig()
        self.method = get_method(self.config.method)
        self.planner, self.pool, self.data_path = planner, list(pool), data_path
        self.code_retriever = CodeRetriever(self.pool, RetrieveConfig(top_k=self.config.top_k))
        self.requirement_retriever = RequirementRetriever(self.pool)
        if self.method.needs_llm and client is None:
            from dlcodegen.llm import make_client

            client = make_client()
        self.client = client
        self.verifier = verifier  # code -> VerifyResult; used by the repair loop
        self._cluster_cot = None
        self._cluster_lock = threading.Lock()

    def cluster_cot(self):
        """The Cluster-CoT demonstrations, built once per generator from DLPlanData-train."""
        with self._cluster_lock:
            if self._cluster_cot is None:
                from dlcodegen.generator.cluster_cot import ClusterCoT

                self._cluster_cot = ClusterCoT.from_dataset(self.data_path)
            return self._cluster_cot

    def run(self, requirement: str, attributes: str = "", item_id: int | None = None) -> Iterator[StageEvent]:
        check_requirement(requirement)
        attributes = attributes if isinstance(attributes, str) else str(attributes or "")
        events: queue.Queue = queue.Queue()
        started = time.perf_counter()

        def emit(stage: str, kind: str, payload) -> None:
            events.put(StageEvent(stage, kind, payload, time.perf_counter() - started))

        context = RunContext(self, requirement, attributes, item_id, emit, started)
        thread = threading.Thread(target=self._work, args=(context, emit, events), daemon=True)
        thread.start()
        while (event := events.get()) is not None:
            yield event

    def _work(self, context: RunContext, emit, events: queue.Queue) -> None:
        result = context.result
        try:
            result.code = self.method.run(context)
            if self.method.needs_llm and self.config.repair and self.verifier is not None:
                result.code = context.repaired(result.code)
            result.seconds = context.now()
            emit("done", "done", result)
        except Exception as error:  # noqa: BLE001 - every failure becomes one error event, the run is kept
            from dlcodegen.llm import redact

            result.seconds = context.now()
            stage = context.open_stages[-1] if context.open_stages else "run"
            emit(stage, "error", GenerationError(stage, redact(_one_line(error)), result))
        finally:
            events.put(None)

    def generate(self, requirement: str, attributes: str = "", item_id: int | None = None,
                 on_event: Callable[[StageEvent], None] | None = None) -> GenerationResult:
        """Run to the end; raises `GenerationError` (with the finished stages) when a stage fails."""
        for event in self.run(requirement, attributes, item_id):
            if on_event is not None:
                on_event(event)
            if event.kind == "error":
                raise event.payload
            if event.stage == "done":
                return event.payload
        raise RuntimeError("the run ended without a result")  # unreachable: _work always reports


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")
