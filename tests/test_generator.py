"""The orchestration with a fake chat client (no HTTP): every method's prompt flow, concurrency, leave-one-out."""

from __future__ import annotations

import json
import time

import pytest
from fake_llm import FakeChatClient

from dlcodegen.core.events import STAGE_DONE, RunFinished, StageDelta, StageStarted
from dlcodegen.generator.cluster_cot import ClusterCoT, ClusterCoTSource
from dlcodegen.generator.methods import METHOD_NAMES, METHODS
from dlcodegen.core.items import Sample
from dlcodegen.generator.project import write_project
from dlcodegen.core.results import GenerationError
from dlcodegen.generator.run import Generator, GeneratorConfig
from dlcodegen.core.plan import Plan, RequirementError
from dlcodegen.core.protocols import PlanPrediction

CATEGORIES = ["Image Classification"] * 4 + ["Text Classification"] * 3 + ["Time Series Forecasting"]


def _plan(category: str, index: int) -> Plan:
    return Plan(task_category=category, input=f"input {index}", output="labels",
                layers=[f"Dense({16 * (index + 1)}, activation='relu')", "Dense(2, activation='softmax')"],
                optimizer="adam", loss_function="categorical_crossentropy", learning_rate=0.001, batch_size=32,
                epochs=10, evaluation_metric="accuracy")


def requirement(index: int) -> str:
    return f"Requirement {index}: build a {CATEGORIES[index].lower()} model for dataset number {index}."


POOL = [Sample(key=f"dlsamplepool/{i}", code=f"# OWN-MARKER-{i}\nimport tensorflow as tf\nmodel_{i} = {i}\n",
               requirement=requirement(i), plan=_plan(category, i), source_id=i)
        for i, category in enumerate(CATEGORIES)]


class FakePlanner:
    """Plans item i's requirement as the pool sample i's plan (the best case for leaking: identical plans)."""

    name = "fake"

    def predict(self, requirement_text, attributes=""):
        index = int(requirement_text.split(":")[0].split()[-1]) if requirement_text.startswith("Requirement") else 0
        plan = _plan(CATEGORIES[index], index)
        return PlanPrediction(plan, plan.to_json())


def make_generator(method: str, client=None, verifier=None, **config) -> Generator:
    demonstrations = ClusterCoT([{"user_requirement": requirement(i), "dataset_attributes": "",
                                  "task_category": category} for i, category in enumerate(CATEGORIES)])
    return Generator(FakePlanner(), POOL, client, GeneratorConfig(method=method, **config), verifier=verifier,
                     cluster_cot=ClusterCoTSource(demonstrations=demonstrations))


EXPECTED_STAGES = {
    "offline": {"plan", "retrieve", "final"},
    "dlcodegen": {"plan", "retrieve", "code1", "template", "code2", "final"},
    "wo-tr": {"plan", "retrieve", "code1", "code2", "final"},
    "wo-cr": {"plan", "retrieve", "chain", "code1", "template", "code2", "final"},
    "wo-cr-tr": {"plan", "retrieve", "chain", "code1", "code2", "final"},
    "wo-comparison-cr": {"plan", "retrieve", "template", "final"},
    "wo-comparison-tr": {"plan", "retrieve", "final"},
    "direct": {"final"},
    "plan-and-solve": {"final"},
    "cluster-cot": {"plan", "chain", "final"},
    "cedar": {"retrieve", "final"},
    "retrieval-only": {"plan", "retrieve", "final"},
    "random-sibling": {"final"},
}
LLM_CALLS = {"dlcodegen": 4, "wo-tr": 3, "wo-cr": 5, "wo-cr-tr": 4, "wo-comparison-cr": 2, "wo-comparison-tr": 1,
             "direct": 1, "plan-and-solve": 1, "cluster-cot": 2, "cedar": 1, "retrieval-only": 0, "offline": 0,
             "random-sibling": 0}


def test_registry_names_every_method():
    assert set(METHOD_NAMES) == set(EXPECTED_STAGES)
    assert {name for name, method in METHODS.items() if not method.needs_llm} == {"retrieval-only", "offline",
                                                                                     "random-sibling"}


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_each_method_runs_its_stages_and_calls(method):
    client = FakeChatClient() if METHODS[method].needs_llm else None
    result = make_generator(method, client).generate(requirement(1), "100 images", item_id=1)
    assert {record.stage for record in result.records} == EXPECTED_STAGES[method]
    assert len(client.calls if client else []) == LLM_CALLS[method]
    assert result.code.strip()
    if client:  # the final code is the last answer's code, and every LLM stage keeps its raw answer
        assert result.code in client.calls[-1].prompt or result.code.startswith("answer_")
        assert all(record.raw for record in result.records if record.messages)


def test_dlcodegen_prompts_carry_plan_examples_template_and_both_drafts():
    def answer(prompt: str) -> str:
        if "Abstract these projects" in prompt:
            return "```python\nTEMPLATE_BODY = 1\n```"
        if "Code template" in prompt:
            return "Here it is:\n```python\nCODE_TWO = 2\n```\nDone."
        if "Compare code 1 and code 2" in prompt:
            return "```python\nFINAL = 3\n```"
        return "```python\nCODE_ONE = 1\n```"

    client = FakeChatClient(answer=answer)
    result = make_generator("dlcodegen", client).generate(requirement(1), item_id=1)
    prompts = {record.stage: record.messages[-1]["content"] for record in result.records if record.messages}
    top_two = [r.sample for r in result.retrieved[:2]]
    assert '"Task Category": "Image Classification"' in prompts["code1"]
    assert top_two[0].code.strip() in prompts["code1"] and top_two[1].code.strip() not in prompts["code1"]
    assert all(sample.code.strip() in prompts["template"] for sample in top_two)
    assert "TEMPLATE_BODY = 1" in prompts["code2"]
    assert "CODE_ONE = 1" in prompts["final"] and "CODE_TWO = 2" in prompts["final"]
    assert result.code == "FINAL = 3"
    code2 = next(record for record in result.records if record.stage == "code2")
    assert code2.raw.startswith("Here it is:") and code2.code == "CODE_TWO = 2"  # raw answer and code both kept


def test_code_rag_stays_in_the_plan_category():
    result = make_generator("retrieval-only").generate(requirement(5), item_id=5)
    assert {r.sample.plan.task_category for r in result.retrieved} == {"Text Classification"}
    # a category with no other sample falls back to the whole pool
    alone = make_generator("retrieval-only").generate(requirement(7), item_id=7)
    assert len(alone.retrieved) == 5


def test_code_one_runs_beside_template_then_code_two():
    delay = 0.3
    client = FakeChatClient(delay=delay)
    generator = make_generator("dlcodegen", client)
    started = time.perf_counter()
    generator.generate(requirement(1), item_id=1)
    seconds = time.perf_counter() - started
    code1, template = client.calls[0], client.calls[1]
    assert template.started < code1.ended and code1.started < template.ended  # overlapping
    assert seconds < 3.6 * delay  # three LLM latencies on the critical path, not four


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_no_method_ever_sees_the_items_own_reference(method):
    for item in range(len(POOL)):
        client = FakeChatClient() if METHODS[method].needs_llm else None
        result = make_generator(method, client).generate(requirement(item), item_id=item)
        seen = [record.messages[-1]["content"] for record in result.records if record.messages]
        seen += [result.code] + [r.sample.code for r in result.retrieved]
        assert not any(f"OWN-MARKER-{item}\n" in text for text in seen), (method, item)
        assert all(r.sample.source_id != item for r in result.retrieved)


def test_own_reference_is_excluded_by_requirement_text_too():
    """`generate` with a DLCodeEval requirement but no item id still never retrieves that item's notebook."""
    result = make_generator("retrieval-only").generate(requirement(2))
    assert all(r.sample.source_id != 2 for r in result.retrieved)


def test_random_sibling_is_seeded_and_never_the_item():
    draws = {make_generator("random-sibling", seed=seed).generate(requirement(3), item_id=3).code
             for seed in range(20)}
    assert "# OWN-MARKER-3\n" not in "".join(draws) and len(draws) > 1
    again = make_generator("random-sibling", seed=4).generate(requirement(3), item_id=3).code
    assert again == make_generator("random-sibling", seed=4).generate(requirement(3), item_id=3).code


def _kind(event) -> tuple[str, str]:
    """(stage, start|delta|done) of a stage event, ("run", "finished") for the last one."""
    if isinstance(event, StageStarted):
        return event.stage, "start"
    if isinstance(event, StageDelta):
        return event.stage, "delta"
    if isinstance(event, STAGE_DONE):
        return event.stage, "done"
    return "run", "finished"


def test_events_stream_stage_by_stage_with_deltas():
    events = list(make_generator("dlcodegen", FakeChatClient()).run(requirement(1), item_id=1))
    kinds = [_kind(event) for event in events]
    assert kinds[0] == ("plan", "start") and isinstance(events[-1], RunFinished)
    assert ("final", "delta") in kinds
    assert [e.elapsed for e in events] == sorted(e.elapsed for e in events)
    done = [stage for stage, kind in kinds if kind == "done"]
    assert done.index("final") > max(done.index("code1"), done.index("code2"))


def test_an_answer_without_code_fails_its_stage_and_keeps_the_earlier_ones():
    client = FakeChatClient(answer=lambda prompt: "" if "Compare code 1" in prompt else "```python\nx = 1\n```")
    with pytest.raises(GenerationError, match="stage 'final' failed: .*holds no code") as caught:
        make_generator("dlcodegen", client).generate(requirement(1), item_id=1)
    stages = [record.stage for record in caught.value.result.records]
    assert {"plan", "retrieve", "code1", "template", "code2", "final"} == set(stages)


@pytest.mark.parametrize("text,message", [("", "empty"), ("   ", "empty"), ("x" * 100_000, "characters long")])
def test_bad_requirements_are_refused_before_any_work(text, message):
    client = FakeChatClient()
    with pytest.raises(RequirementError, match=message):
        make_generator("dlcodegen", client).generate(text)
    assert client.calls == []


def test_written_project_has_code_notebook_plan_and_trace(tmp_path):
    result = make_generator("dlcodegen", FakeChatClient()).generate(requirement(1), item_id=1)
    paths = write_project(result, tmp_path / "out")
    assert paths["project.py"].read_text() == result.code + "\n"
    notebook = json.loads(paths["project.ipynb"].read_text())
    assert "".join("".join(cell["source"]) for cell in notebook["cells"]).strip() == result.code.strip()
    assert Plan.from_text(paths["plan.json"].read_text()) == result.plan
    trace = json.loads(paths["trace.json"].read_text())
    assert [stage["stage"] for stage in trace["stages"]][0] == "plan"
    assert trace["usage"]["calls"] == 4 and all("seconds" in stage for stage in trace["stages"])


class FakeCheck:
    """Stands in for `dlcodegen.verify.VerifyResult` in orchestration tests."""

    def __init__(self, level, failed=None, error=None):
        self.level, self.failed, self.error = level, failed, error

    @property
    def passed(self):
        return self.failed is None

    def as_dict(self):
        return {"level": self.level, "failed": self.failed, "error": self.error}


def test_repair_round_feeds_the_failed_level_back_and_keeps_every_round():
    checks = iter([FakeCheck("imports", "model_built", "ValueError: Dense(-3) has negative units (line 12)"),
                   FakeCheck("train_step")])
    client = FakeChatClient(answer=lambda prompt: "```python\nfixed = True\n```" if "failed at level" in prompt
                            else "```python\nbroken = True\n```")
    generator = make_generator("direct", client, verifier=lambda code, task=None: next(checks), repair=2)
    result = generator.generate(requirement(1), item_id=1)
    assert result.code == "fixed = True"
    stages = [record.stage for record in result.records]
    assert stages == ["final", "verify1", "repair1", "verify2"]
    repair_prompt = client.calls[-1].prompt
    assert '"model_built"' in repair_prompt and "Dense(-3) has negative units" in repair_prompt
    assert "broken = True" in repair_prompt
    assert [check.passed for check in result.checks] == [False, True]
    assert result.trace()["verify"][0]["failed"] == "model_built"


def test_repair_stops_after_n_rounds_and_methods_without_llm_are_not_repaired():
    client = FakeChatClient()
    generator = make_generator("direct", client, verifier=lambda code, task=None: FakeCheck(
        "parse", "imports", "ModuleNotFoundError: No module named 'x'"), repair=2)
    result = generator.generate(requirement(1), item_id=1)
    assert [r.stage for r in result.records] == ["final", "verify1", "repair1", "verify2", "repair2", "verify3"]
    assert len(client.calls) == 3
    offline = make_generator("retrieval-only", verifier=lambda code, task=None: pytest.fail(
        "methods without an LLM are not repaired"), repair=2)
    offline.generate(requirement(1), item_id=1)
