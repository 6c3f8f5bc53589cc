"""Plan metrics: hand-computed cases for every field, malformed and truncated plans, clear errors."""

import json

import evaluate
import pytest

from dlcodegen.cli import main as cli_main
from dlcodegen.core.distance import layers_distance, levenshtein
from dlcodegen.core.plan import normalize_label
from dlcodegen.metrics.plan_metrics import compute_plan_metrics


def plan(category="Image Classification", inp="(None, 32, 32, 3) images", out="(None, 10) probabilities",
         layers=("Conv2D(32, 3)", "Dense(10)"), optimizer="Adam", loss="categorical_crossentropy", lr=0.001,
         batch=32, epochs=10, metric="accuracy"):
    return {"Task Category": category, "Dataset": {"Input": inp, "Output": out},
            "Model Architecture": {"Layers": list(layers) if layers is not None else None, "Hyperparameters": {
                "optimizer": optimizer, "loss function": loss, "learning rate": lr, "batch size": batch,
                "epochs": epochs, "evaluation metric": metric}}}


def test_identical_plans_score_perfectly():
    scores = compute_plan_metrics([plan()], [plan()])
    assert scores["bleu"] == pytest.approx(100) and scores["input_bleu"] == pytest.approx(100)
    assert scores["category_em"] == scores["loss_function_em"] == scores["optimizer_em"] == 100.0
    assert scores["layers_mld"] == 0 and scores["epochs_mae"] == 0 and scores["unparseable"] == 0


def test_exact_match_fields_by_hand():
    predictions = [plan(optimizer="adam"), plan(optimizer="SGD"), plan(optimizer="tf.keras.optimizers.Adam(1e-3)"),
                   plan(optimizer=None)]
    scores = compute_plan_metrics(predictions, [plan()] * 4)
    assert scores["optimizer_em"] == 50.0  # adam, Adam(1e-3) match; SGD and a missing optimizer do not
    aliases = compute_plan_metrics([plan(loss="CategoricalCrossentropy()"), plan(loss="Categorical Crossentropy"),
                                    plan(loss="mse")], [plan(), plan(), plan(loss="Mean Squared Error")])
    assert aliases["loss_function_em"] == 100.0
    categories = compute_plan_metrics([plan(category="image classification "), plan(category="Text Generation")],
                                      [plan(), plan()])
    assert categories["category_em"] == 50.0
    metrics = compute_plan_metrics([plan(metric="AUC, Accuracy")], [plan(metric="accuracy, auc")])
    assert metrics["metric_em"] == 100.0


def test_missing_reference_field_is_not_judged():
    scores = compute_plan_metrics([plan(optimizer="SGD"), plan()], [plan(optimizer=None), plan()])
    assert scores["optimizer_em"] == 100.0  # only the second pair has a reference optimizer
    nothing = compute_plan_metrics([plan()], [plan(optimizer=None, epochs=None, layers=None)])
    assert nothing["optimizer_em"] is None and nothing["epochs_mae"] is None and nothing["layers_mld"] is None


def test_mae_fields_by_hand():
    predictions = [plan(lr=0.01, batch=64, epochs=5), plan(lr="0.001", batch=None, epochs=20)]
    scores = compute_plan_metrics(predictions, [plan(), plan()])
    assert scores["learning_rate_mae"] == pytest.approx((0.009 + 0) / 2)
    assert scores["batch_size_mae"] == pytest.approx((32 + 32) / 2)  # a missing prediction counts as 0
    assert scores["epochs_mae"] == pytest.approx((5 + 10) / 2)


def test_layers_mld_by_hand():
    assert levenshtein("Dense(10)", "Dense(1)") == 1
    assert levenshtein("", "abc") == 3 and levenshtein("kitten", "sitting") == 3
    assert layers_distance(["Dense(1)"], ["Dense(10)", "Flatten()"]) == pytest.approx((1 + 9) / 2)
    assert layers_distance(None, ["ab"]) == 2 and layers_distance([], []) == 0
    scores = compute_plan_metrics([plan(layers=["Conv2D(32, 3)", "Dense(1)"]), plan(layers=[])],
                                  [plan(), plan()])
    assert scores["layers_mld"] == pytest.approx((1 / 2 + (13 + 9) / 2) / 2)


def test_bleu_fields_by_hand():
    import sacrebleu

    pred, ref = plan(inp="images of 32 by 32 pixels"), plan(inp="images of 64 by 64 pixels")
    scores = compute_plan_metrics([pred], [ref])
    assert scores["input_bleu"] == pytest.approx(
        sacrebleu.corpus_bleu(["images of 32 by 32 pixels"], [["images of 64 by 64 pixels"]]).score)
    assert scores["output_bleu"] == pytest.approx(100)


def test_malformed_and_truncated_predictions():
    reference = json.dumps(plan())
    truncated = reference[: reference.index('"Hyperparameters"') + 40]
    single_quoted = str(plan())  # Python repr: single quotes, None
    trailing = reference.replace('"accuracy"}', '"accuracy",}')
    garbage = "I cannot answer that."
    scores = compute_plan_metrics([truncated, single_quoted, trailing, garbage, "", None], [reference] * 6)
    assert scores["unparseable"] == 3
    assert scores["category_em"] == pytest.approx(300 / 6)
    assert scores["optimizer_em"] == pytest.approx(300 / 6)  # the truncated plan kept its optimizer
    assert scores["count"] == 6


def test_errors_are_clear():
    with pytest.raises(ValueError, match="got 1 predictions but 2 references"):
        compute_plan_metrics([plan()], [plan(), plan()])
    with pytest.raises(ValueError, match="no predictions"):
        compute_plan_metrics([], [])
    with pytest.raises(ValueError, match="reference 0 is not a readable plan"):
        compute_plan_metrics([plan()], ["not a plan"])


def test_normalize_label():
    assert normalize_label("tf.keras.losses.BinaryCrossentropy(from_logits=True)") == "binarycrossentropy"
    assert normalize_label("binary_crossentropy") == "binarycrossentropy"
    assert normalize_label("  ") is None and normalize_label(None) is None


def test_evaluate_module_and_reference_run(plandata):
    metric = evaluate.load("./evaluate_metrics/dl_plan_metrics")
    test = plandata["test"]
    scores = metric.compute(predictions=test["plan_text"][:50], references=test["plan_text"][:50])
    assert scores["category_em"] == 100.0 and scores["layers_mld"] == 0
    as_dicts = metric.compute(predictions=[plan()], references=[json.dumps(plan())])
    assert as_dicts["optimizer_em"] == 100.0
    with pytest.raises(ValueError, match="got 1 predictions but 2 references"):
        metric.compute(predictions=[plan()], references=[plan(), plan()])


def test_eval_plans_cli(tmp_path, built_datasets, plandata, capsys):
    validation = plandata["validation"]
    rows = [{"id": row["id"], "plan": row["plan_text"] if row["id"] % 2 else json.loads(row["plan_text"])}
            for row in validation]
    path = tmp_path / "plans.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert cli_main(["eval", "plans", "--predictions", str(path), "--split", "validation",
                     "--data", str(built_datasets), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["category_em"] == 100.0 and scores["count"] == 100
    path.write_text("".join(json.dumps(row) + "\n" for row in rows[:10]))
    assert cli_main(["eval", "plans", "--predictions", str(path), "--split", "validation",
                     "--data", str(built_datasets)]) == 2
    assert "90 id(s) missing" in capsys.readouterr().err


def test_plan_report_puts_the_papers_table_iv_and_the_difference_beside_ours():
    from dlcodegen.metrics.report import format_plan_report
    from dlcodegen.paper import TABLE4_GPT2_LARGE_BEAM

    ours = {**TABLE4_GPT2_LARGE_BEAM, "category_em": 95.0, "batch_size_mae": 100.0, "input_bleu": 20.0}
    report = format_plan_report({"mine": ours}, "test", paper=True)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in report.splitlines() if line.startswith("| ")}
    assert "paper GPT-2-large (beam)" in report and "mine - paper" in report
    assert "+3.25 (ours better)" in rows["Category EM %"]
    assert "-28.26 (ours better)" in rows["Batch size MAE (lower better)"]
    assert "-6.90 (paper better)" in rows["Input BLEU"]
    assert "beats the paper's GPT-2-large (beam) on 2/10 fields" in report
