"""The few-shot LLM planner: its prompt (examples of the task's family, the facts), its answer kept true to the task,
the family settled between the rules and the LLM; then one real request to a local `transformers serve`."""

from __future__ import annotations

import json

import pytest

from dlcodegen.core.protocols import Completion, PlanPrediction
from dlcodegen.core.task import FAMILIES, family_of_category
from dlcodegen.llm import ENV_MODEL, LLMConfig, LLMNotConfigured, make_client
from dlcodegen.planning.llm_planner import FAMILY_KEY, LLM_FAMILY_SOURCE, LLMPlanner
from dlcodegen.planning.planners import RetrievalPlanner, load_planner
from dlcodegen.planning.task_reader import CLASSIFIER_SOURCE, read_task

TRAFFIC_SIGNS = "Classify 32x32 RGB photos of traffic signs into 43 classes"
CHURN = "Build a model that tells which customers of a phone company are likely to leave, from their monthly usage."


def _answer(family: str, category: str, head: str = "Dense(10, activation='softmax')") -> str:
    """A canned LLM answer: a whole plan in DLPlanData's keys plus the family key, ending in `head`."""
    return "Here is the plan:\n```json\n" + json.dumps({
        "Task Category": category, FAMILY_KEY: family,
        "Dataset": {"Input": "Images of size 224x224x3", "Output": "One of 10 labels"},
        "Preprocess": "Rescale pixel values to [0, 1].",
        "Model Architecture": {
            "Layers": ["Input((224, 224, 3))", "Conv2D(32, (3, 3), activation='relu')", "Flatten()", head],
            "Hyperparameters": {"optimizer": "Adam", "loss function": "mean_squared_error", "learning rate": 0.001,
                                "batch size": 32, "epochs": 10, "evaluation metric": "accuracy"}}}) + "\n```"


class FakeChatModel:
    """A chat model that answers `text` to every request and keeps the messages it was sent."""

    def __init__(self, text: str):
        self.text = text
        self.requests: list[list[dict]] = []

    def complete(self, messages, *, on_token=None, **overrides) -> Completion:
        self.requests.append(messages)
        return Completion(text=self.text, usage={"prompt_tokens": 0, "completion_tokens": 0}, cached=False,
                          elapsed=0.0)

    @property
    def prompt(self) -> str:
        return self.requests[-1][-1]["content"]


@pytest.fixture(scope="module")
def retrieval(built_datasets):
    return RetrievalPlanner.from_dataset(built_datasets)


@pytest.fixture(scope="module")
def train_rows(plandata):
    return plandata["train"].select_columns(["user_requirement", "dataset_attributes"])


def _planner(retrieval, train_rows, text: str, shots: int = 3) -> tuple[LLMPlanner, FakeChatModel]:
    client = FakeChatModel(text)
    return LLMPlanner(client, retrieval, shots=shots, rows=train_rows), client


def test_the_prompt_shows_k_examples_of_the_tasks_family_and_the_facts(retrieval, train_rows):
    planner, client = _planner(retrieval, train_rows, _answer("image_classification", "Image Classification"))
    planner.predict(TRAFFIC_SIGNS)
    (system, user), = client.requests
    assert system["role"] == "system" and user["role"] == "user"
    prompt = user["content"]
    assert prompt.count("\nSolution plan:\n") == 3 and "Example 3\n" in prompt and "Example 4\n" not in prompt
    nearest = retrieval.neighbours(TRAFFIC_SIGNS, "", family="image_classification")[:3]
    for index, _ in nearest:
        assert f"User Requirement: {train_rows[index]['user_requirement']}\n" in prompt
        assert retrieval.families[index] == "image_classification"
    shown = [json.loads(line) for line in prompt.splitlines() if line.startswith('{"Task Category"')]
    assert len(shown) == 3 and {plan[FAMILY_KEY] for plan in shown} == {"image_classification"}
    assert all(family_of_category(plan["Task Category"]).name == "image_classification" for plan in shown)
    for line in read_task(TRAFFIC_SIGNS).lines():
        assert f"- {line}\n" in prompt
    assert "output.classes: 43 (read from: 43 classes)" in prompt
    assert all(f"- {name}: " in prompt for name in FAMILIES)
    assert prompt.rstrip().endswith("No text outside the JSON.")
    assert f"User Requirement: {TRAFFIC_SIGNS}\n" in prompt


def test_a_wrong_head_and_family_are_repaired_to_the_task_the_rules_read(retrieval, train_rows):
    planner, _ = _planner(retrieval, train_rows, _answer("object_detection", "Object Detection"))
    prediction = planner.predict(TRAFFIC_SIGNS)
    assert prediction.error is None and prediction.plan is not None
    assert prediction.plan.layers[-1] == "Dense(43, activation='softmax')"
    assert prediction.plan.task_category == "Image Classification"
    assert prediction.task.task.value == "image_classification"
    assert prediction.task.task.source != CLASSIFIER_SOURCE
    assert any("object_detection was overruled" in line for line in prediction.repairs)
    assert any("Dense(43, activation='softmax')" in line for line in prediction.repairs)
    assert json.loads(prediction.plan_text)["Model Architecture"]["Layers"][-1] == "Dense(43, activation='softmax')"


def test_the_parsers_repairs_go_into_the_prediction(retrieval, train_rows):
    answer = _answer("image_classification", "Image Classification").split("```json\n")[1].rstrip("`\n")
    planner, _ = _planner(retrieval, train_rows, answer + "\nHope this helps!")
    prediction = planner.predict(TRAFFIC_SIGNS)
    assert prediction.repairs[0] == "text after the object"


def test_an_llm_that_agrees_with_the_rules_leaves_no_family_note(retrieval, train_rows):
    planner, _ = _planner(retrieval, train_rows, _answer("image_classification", "Image Classification",
                                                         "Dense(43, activation='softmax')"))
    prediction = planner.predict(TRAFFIC_SIGNS)
    assert prediction.plan.layers[-1] == "Dense(43, activation='softmax')"
    assert not any(line.startswith("task family") for line in prediction.repairs)


def test_an_open_family_takes_the_llms(retrieval, train_rows):
    guessed = read_task(CHURN).task
    assert guessed.source == CLASSIFIER_SOURCE  # no rule names this family: the classifier guessed it
    family = "time_series_classification" if guessed.value != "time_series_classification" else "tabular_regression"
    planner, client = _planner(retrieval, train_rows, _answer(family, "Something Else", "Dense(1)"))
    prediction = planner.predict(CHURN)
    assert "only a classifier's guess" in client.prompt
    assert prediction.task.task.value == family and prediction.task.task.source == LLM_FAMILY_SOURCE
    assert family_of_category(prediction.plan.task_category).name == family
    assert any(f"the LLM's {family} replaced" in line for line in prediction.repairs)


def test_an_open_family_keeps_the_guess_when_the_llm_names_no_family(retrieval, train_rows):
    guessed = read_task(CHURN).task
    planner, _ = _planner(retrieval, train_rows, _answer("a kind of magic", "Tabular Classification"))
    prediction = planner.predict(CHURN)
    assert prediction.task.task == guessed
    assert any("'a kind of magic' is no known family" in line for line in prediction.repairs)


@pytest.mark.parametrize("text", ["I cannot help with that.", "", '{"Task Category": [unclosed'])
def test_an_unreadable_answer_gives_a_one_line_error(retrieval, train_rows, text):
    planner, _ = _planner(retrieval, train_rows, text)
    prediction = planner.predict(TRAFFIC_SIGNS)
    if text.startswith("{") and prediction.plan is not None:  # the repairing parser may read a fragment
        assert prediction.error is None
        return
    assert prediction.plan is None and prediction.plan_text == text and prediction.repairs == []
    assert prediction.error.startswith("the LLM's answer holds no plan") and "\n" not in prediction.error


def test_zero_shots_sends_no_examples_and_batches_in_order(retrieval, train_rows):
    planner, client = _planner(retrieval, train_rows, _answer("image_classification", "Image Classification"),
                               shots=0)
    predictions = planner.predict_batch([(TRAFFIC_SIGNS, ""), ("Classify photos as cats or dogs", "")])
    assert len(client.requests) == 2 and "Solution plan:" not in client.prompt
    assert predictions[0].plan.layers[-1] == "Dense(43, activation='softmax')"
    assert predictions[1].plan.layers[-1] == "Dense(1, activation='sigmoid')"


def test_shots_and_rows_are_checked(retrieval, train_rows):
    with pytest.raises(ValueError, match="shots"):
        LLMPlanner(FakeChatModel(""), retrieval, shots=-1, rows=train_rows)
    with pytest.raises(ValueError, match="same DLPlanData-train"):
        LLMPlanner(FakeChatModel(""), retrieval, rows=train_rows.select(range(10)))


def test_load_planner_builds_it_and_names_a_missing_configuration(built_datasets, monkeypatch):
    client = FakeChatModel(_answer("image_classification", "Image Classification"))
    planner = load_planner("llm", data_path=built_datasets, client=client, shots=2)
    assert isinstance(planner, LLMPlanner) and planner.name == "llm" and planner.shots == 2
    assert planner.predict(TRAFFIC_SIGNS).plan.layers[-1] == "Dense(43, activation='softmax')"
    monkeypatch.delenv(ENV_MODEL, raising=False)
    with pytest.raises(LLMNotConfigured, match=f"no LLM model configured: set {ENV_MODEL}"):
        load_planner("llm", data_path=built_datasets)


class _Recording:
    """Passes requests to a real client and keeps what came back."""

    def __init__(self, client):
        self.client, self.completions = client, []

    def complete(self, messages, **options) -> Completion:
        completion = self.client.complete(messages, **options)
        self.completions.append(completion)
        return completion


@pytest.mark.slow
def test_against_a_real_local_server(served_model, retrieval, train_rows):
    base_url, model = served_model
    client = make_client(LLMConfig(base_url=base_url, model=model, max_tokens=24, timeout=120, max_retries=1,
                                   backoff=0.1, cache_dir=None))
    recording = _Recording(client)
    prediction = LLMPlanner(recording, retrieval, shots=1, rows=train_rows).predict(TRAFFIC_SIGNS)
    assert isinstance(prediction, PlanPrediction)
    assert prediction.plan is not None or (prediction.error and "\n" not in prediction.error)
    assert client.calls >= 1
    (completion,) = recording.completions
    assert completion.cached is False and completion.usage["prompt_tokens"] > 0 and completion.text.strip()
