"""The offline generator: a coherent project that writes the plan in, reaches `train_step`, and needs no LLM."""

from __future__ import annotations

import ast
import json

import pytest

from dlcodegen.cli import main as cli_main
from dlcodegen.planning.layers import resolve_layer
from dlcodegen.generator.offline import project_spec, render_project
from dlcodegen.metrics.adherence import plan_adherence
from dlcodegen.analysis import plan_from_code
from dlcodegen.core.plan import Plan

PLANS = {
    "image": Plan(task_category="Image Classification", input="Images of shape (64, 64, 3)", output="4 classes",
                  layers=["Conv2D(16, (3, 3), activation='relu')", "MaxPooling2D((2, 2))", "Flatten Layer",
                          "Dense Layer (32 neurons) with ReLU activation", "Dropout(0.5)",
                          "Dense(4, activation='softmax')"],
                  optimizer="Adam", loss_function="categorical_crossentropy", learning_rate=0.0005, batch_size=16,
                  epochs=12, evaluation_metric="accuracy"),
    "text": Plan(task_category="Text Classification", input="Token sequences of length 50", output="binary label",
                 layers=["Embedding Layer", "Bidirectional(LSTM(32))", "Dense(1, activation='sigmoid')"],
                 optimizer="RMSprop", loss_function="Binary Crossentropy", learning_rate=0.001, batch_size=64,
                 epochs=5, evaluation_metric="accuracy, AUC"),
    "tabular": Plan(task_category="Tabular Regression", input="(13,) numeric features", output="house price",
                    layers=["Dense(64, activation='relu')", "Dense(32, activation='relu')", "Dense(1)"],
                    optimizer="sgd", loss_function="mse", learning_rate=0.01, batch_size=32, epochs=100,
                    evaluation_metric="mae"),
    "series": Plan(task_category="Time Series Forecasting", input="windows of shape (24, 1)", output="next value",
                   layers=["LSTM(50, return_sequences=True)", "LSTM(50)", "Dense(1)"], optimizer="adam",
                   loss_function="mean_squared_error", learning_rate=0.001, batch_size=32, epochs=20,
                   evaluation_metric="mean_absolute_error"),
}


@pytest.mark.parametrize("kind", PLANS)
def test_paper_normalisation_keeps_every_function_body(kind):
    """The paper's scorer skips from one line starting with triple quotes to the next: a one-line docstring would
    hide the code that follows it."""
    from dlcodegen.metrics.normalize import normalize

    code = offline_project(f"A {PLANS[kind].task_category.lower()} project.", PLANS[kind])
    normalized = normalize(code, "dlcodegen").text
    for statement in ("def build_model", "model.compile", "def train", "model.fit", "def evaluate", "def main"):
        assert statement.replace(".", " . ") in normalized or statement in normalized, statement
    assert "Training and validation data" not in normalized  # docstrings themselves are still skipped


@pytest.mark.parametrize("kind", PLANS)
def test_project_parses_and_its_extracted_plan_is_the_plan(kind):
    plan = PLANS[kind]
    code = offline_project(f"A {plan.task_category.lower()} project.", plan)
    module = ast.parse(code)
    functions = {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
    assert {"load_data", "build_model", "train", "evaluate", "main"} <= functions
    adherence = plan_adherence(code, plan)
    assert {name: value for name, value in adherence.items() if value is not None and value < 100} == {}
    extracted = plan_from_code(code, plan.task_category)
    for name in ("optimizer", "learning_rate", "batch_size", "epochs"):
        assert str(getattr(extracted, name)).lower() == str(getattr(plan, name)).lower()


def offline_project(requirement, plan, sample=None):
    return render_project(project_spec(requirement, plan, sample))


def test_input_shape_and_kind_come_from_the_plan():
    assert project_spec("r", PLANS["image"]).input_shape == (64, 64, 3)
    assert project_spec("r", PLANS["text"]).kind == "tokens"
    assert project_spec("r", PLANS["series"]).input_shape == (24, 1)
    assert project_spec("r", PLANS["tabular"]).input_shape == (13,)


@pytest.mark.parametrize("text,expected", [
    ("Dense Layer (128 neurons) with ReLU activation", "layers.Dense(128, activation='relu')"),
    ("Dropout Layer (0.3)", "layers.Dropout(0.3)"),
    ("Dense(num_classes, activation='softmax')", "layers.Dense(NUM_CLASSES, activation='softmax')"),
    ("Conv2D(32, (3,3), activation='relu', input_shape=(150, 150, 3))",
     "layers.Conv2D(32, (3, 3), activation='relu')"),
    ("VGG16(weights='imagenet', include_top=False)", "keras.applications.VGG16(weights='imagenet', include_top=False)"),
])
def test_plan_layers_become_keras_calls(text, expected):
    assert resolve_layer(text).code == expected


def test_prose_that_names_no_layer_is_left_out_with_a_note():
    plan = Plan(layers=["Dense(8)", "A clever attention mechanism of our own", "Dense(1)"], loss_function="mse")
    spec = project_spec("r", plan)
    assert [layer.name for layer in spec.layers] == ["Dense", "Dense"]
    assert any("clever attention" in note for note in spec.notes)


def test_offline_projects_reach_train_step():
    from dlcodegen.verify import VerifyConfig, verify_code

    for kind in ("image", "text"):
        code = offline_project("A project.", PLANS[kind])
        outcome = verify_code(code, VerifyConfig(timeout=120))
        assert outcome.passed, (kind, outcome.as_dict())


def test_bench_verify_reports_levels_and_adherence(built_datasets, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DLCODEGEN_MODEL", raising=False)
    out = tmp_path / "offline.jsonl"
    assert cli_main(["bench", "--method", "offline", "--data", str(built_datasets), "--out", str(out), "--limit", "2",
                     "--verify"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [set(row) for row in rows] == [{"id", "code", "plan", "verify"}] * 2
    printed = capsys.readouterr().out
    assert "plan adherence %: layers" in printed and "verify: train_step reached by" in printed


def test_verify_command_exit_codes(tmp_path, capsys):
    good = tmp_path / "project.py"
    good.write_text(offline_project("A tabular regression project.", PLANS["tabular"]))
    assert cli_main(["verify", str(good), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["level"] == "train_step"
    broken = tmp_path / "broken.py"
    broken.write_text("import tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(-3)])\n"
                      "model.build((None, 4))\nmodel.compile(loss='mse')\n")
    assert cli_main(["verify", str(broken)]) == 1
    assert "failed at model_built" in capsys.readouterr().out
    empty = tmp_path / "empty.py"
    empty.write_text("")
    assert cli_main(["verify", str(empty)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "empty" in error
