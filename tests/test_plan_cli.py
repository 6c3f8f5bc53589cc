"""`dlcodegen plan "REQUIREMENT"` and `dlcodegen plan predict --items FILE.jsonl` through the CLI, and the
`dl-plan-generation` pipeline's three input forms."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dlcodegen.cli import main as cli_main

MODEL = Path(__file__).resolve().parent.parent / "models" / "planner-scratch-small"


def run_cli(*args) -> int:
    return cli_main([str(arg) for arg in args])


def test_plan_one_requirement_prints_the_task_then_the_plan(built_datasets, capsys):
    assert run_cli("plan", "Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN.",
                   "--data", built_datasets) == 0
    printed = capsys.readouterr().out
    assert printed.index("== Task ==") < printed.index("== Plan ==")
    assert "output.classes: 43 (read from: 43 classes)" in printed
    assert "Dense(43, activation='softmax')" in printed


def test_plan_one_requirement_as_json(built_datasets, capsys):
    assert run_cli("plan", "Forecast the next 24 hours of electricity load.", "--attributes", "hourly readings",
                   "--json", "--data", built_datasets) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["plan"]["Task Category"] == "Time Series Forecasting"
    assert row["task"]["output"]["horizon"] == {"value": 24, "source": "next 24 hours"}
    assert isinstance(row["repairs"], list)


def test_plan_predict_items_writes_a_row_per_item(built_datasets, tmp_path, capsys):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": 7, "requirement": "cats vs dogs cnn", "attributes": ""}) + "\n" +
                     json.dumps({"id": 3, "requirement": "Translate English sentences to French."}) + "\n")
    out = tmp_path / "plans.jsonl"
    assert run_cli("plan", "predict", "--items", items, "--out", out, "--data", built_datasets) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [7, 3]
    assert set(rows[0]) == {"id", "plan", "plan_text", "task"}
    assert "Translation" in rows[1]["plan"]["Task Category"] and rows[1]["task"]["task"]["value"] == "translation"
    assert rows[0]["plan"]["Model Architecture"]["Layers"][-1] == "Dense(1, activation='sigmoid')"


@pytest.mark.parametrize(("lines", "message"), [
    (['{"id": 1, "requirement": "x"}', '{"id": 1, "requirement": "y"}'], "items.jsonl:2: duplicate id 1"),
    (['{"id": 1, "requirement": "x"}', '{"id": 2'], "items.jsonl:2: not valid JSON"),
    (['{"id": "a", "requirement": "x"}'], "items.jsonl:1: id must be an integer"),
    (['{"id": 1, "attributes": "x"}'], 'items.jsonl:1: "requirement" must be a non-empty string'),
])
def test_bad_rows_get_one_line_and_nothing_is_written(tmp_path, capsys, lines, message):
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(lines) + "\n")
    out = tmp_path / "plans.jsonl"
    assert run_cli("plan", "predict", "--items", items, "--out", out) == 2
    error = capsys.readouterr().err
    assert message in error and len(error.strip().splitlines()) == 1
    assert not out.exists()


def test_the_pipeline_takes_a_string_and_both_dict_spellings():
    import dlcodegen.hf  # noqa: F401
    from transformers import pipeline

    planner = pipeline("dl-plan-generation", model=str(MODEL))
    requirement, attributes = "Classify images of cats and dogs.", "25,000 RGB images"
    for given in (requirement, {"requirement": requirement, "attributes": attributes},
                  {"user_requirement": requirement, "dataset_attributes": attributes}):
        assert planner(given, max_new_tokens=48)["plan"] is not None
    with pytest.raises(ValueError, match="requirement"):
        planner({"prompt": requirement}, max_new_tokens=8)
