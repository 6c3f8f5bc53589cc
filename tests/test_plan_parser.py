"""`Plan.from_text` on strict, malformed and truncated plans cut from the real DLPlanData test split."""

import json
import random

import pytest

from dlcodegen.core.plan import Plan, PlanParseError, format_plan_prompt, parse_json_object


@pytest.fixture(scope="module")
def real_plans(plandata):
    return list(plandata["test"]["plan_text"])


def test_strict_json_needs_no_repair(real_plans):
    for text in real_plans[:50]:
        plan = Plan.from_text(text)
        assert plan.repairs == ()
        assert plan == Plan.from_dict(json.loads(text))
        assert Plan.from_text(plan.to_json()) == plan  # canonical JSON round-trips


def test_both_schema_spellings_give_the_same_fields():
    lower = {"Task Category": "Image Classification", "Model architecture": {"Layers": ["Dense(1)"],
             "Hypermeters": {"optimizer": "adam", "learning rate": "0.001", "batch size": 32}}}
    upper = {"task category": "Image Classification", "Model Architecture": {"Layers": ["Dense(1)"],
             "Hyperparameters": {"Optimizer": "adam", "learning_rate": 0.001, "Batch Size": "32"}}}
    assert Plan.from_dict(lower) == Plan.from_dict(upper)
    assert Plan.from_dict(lower).learning_rate == 0.001 and Plan.from_dict(upper).batch_size == 32


def test_truncated_real_plans_are_repaired(real_plans):
    rng = random.Random(7)
    for text in rng.sample(real_plans, 40):
        cut = text[: rng.randint(len(text) // 3, len(text) - 2)]
        plan = Plan.from_text(cut)
        original = Plan.from_text(text)
        assert any(repair.startswith("truncated") for repair in plan.repairs)
        assert plan.task_category == original.task_category  # the category comes first and survives
        if plan.layers:  # every complete layer before the cut is kept (the last may be cut short)
            assert original.layers[: len(plan.layers) - 1] == plan.layers[:-1]


def test_python_flavoured_plans_are_repaired(real_plans):
    for text in real_plans[:20]:
        value = json.loads(text)
        plan = Plan.from_text(repr(value))  # single quotes, None/True
        assert plan == Plan.from_dict(value)
        trailing = text[:-1] + ",}" if text.endswith("}") else text
        assert Plan.from_text(trailing) == Plan.from_dict(value)


def test_model_output_with_prose_and_fences():
    text = 'Sure! Here is the plan:\n```json\n{"Task Category": "Text Classification", "Model Architecture": ' \
           '{"Layers": ["Embedding(10000, 64)", "LSTM(64)",], "Hyperparameters": {"epochs": 5}}}\n```\nGood luck.'
    plan = Plan.from_text(text)
    assert plan.task_category == "Text Classification" and plan.layers == ["Embedding(10000, 64)", "LSTM(64)"]
    assert plan.epochs == 5 and "trailing comma" in plan.repairs


def test_generated_completion_closing_the_record():
    plan = Plan.from_text('{"Task Category": "Image Segmentation"}}')  # the planner also closes the outer record
    assert plan.task_category == "Image Segmentation" and plan.repairs == ("text after the object",)


@pytest.mark.parametrize("text, message", [
    ("", "empty"), ("   ", "empty"), ("the model could not produce a plan", "no '{'"),
    ('{"a": [1, 2}: 3', "cannot repair"), ("[1, 2, 3]", "no '{'"),
])
def test_unrepairable_text_raises_a_clear_error(text, message):
    with pytest.raises(PlanParseError, match=message):
        Plan.from_text(text)


def test_parse_json_object_reports_repairs():
    value, repairs = parse_json_object("{'a': True, 'b': [1, 2,], 'c': 'x")
    assert value == {"a": True, "b": [1, 2], "c": "x"}
    assert set(repairs) >= {"single quotes", "Python literals", "trailing comma", "unterminated string"}


def test_prompt_format_and_empty_requirement():
    assert format_plan_prompt("Classify digits", "28x28 images").endswith('"Code Plan": ')
    with pytest.raises(ValueError, match="requirement is empty"):
        format_plan_prompt("  ", "x")
