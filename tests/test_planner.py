"""Planners: the retrieval planner, TRL training (scratch and LoRA) into folders `pipeline()` loads, the CLI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlcodegen.cli import main as cli_main
from dlcodegen.planning.planners import NeuralPlanner, RetrievalPlanner, load_planner

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def retrieval(built_datasets):
    return RetrievalPlanner.from_dataset(built_datasets)


def test_retrieval_planner_finds_a_training_item_itself(retrieval, plandata):
    row = plandata["train"][123]
    assert retrieval.neighbours(row["user_requirement"], row["dataset_attributes"])[0][0] == 123


def test_retrieval_planner_on_a_known_requirement(retrieval):
    prediction = retrieval.predict(
        "I want to build a convolutional neural network to classify images of cats and dogs.",
        "The dataset consists of 25,000 RGB images of cats and dogs, resized to 150x150 pixels. "
        "The target labels are 'cat' and 'dog'.")
    plan = prediction.plan
    assert plan.task_category == "Image Classification"
    assert any(layer.startswith("Conv2D") for layer in plan.layers)
    assert "crossentropy" in plan.loss_function.lower().replace("_", "").replace(" ", "")
    assert plan.epochs and plan.batch_size and plan.learning_rate
    assert json.loads(prediction.plan_text)["Task Category"] == "Image Classification"


def test_retrieval_planner_rejects_an_empty_requirement(retrieval):
    with pytest.raises(ValueError, match="requirement is empty"):
        retrieval.predict("   ", "")


def test_missing_model_folder_is_a_clear_error(tmp_path, capsys, built_datasets):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_planner(str(tmp_path / "no-such-planner"))
    with pytest.raises(FileNotFoundError, match="not a model folder"):
        load_planner(str(tmp_path))
    code = cli_main(["plan", "predict", "--planner", str(tmp_path / "nope"), "--out", str(tmp_path / "p.jsonl"),
                     "--data", str(built_datasets)])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_plan_predict_and_eval_cli(tmp_path, built_datasets, capsys):
    out = tmp_path / "plans.jsonl"
    assert cli_main(["plan", "predict", "--planner", "retrieval", "--split", "validation", "--limit", "5",
                     "--out", str(out), "--data", str(built_datasets)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == [0, 1, 2, 3, 4]
    assert all(row["plan"]["Task Category"] and row["plan_text"] for row in rows)
    capsys.readouterr()
    assert cli_main(["plan", "eval", "--split", "validation", "--limit", "20", "--data", str(built_datasets)]) == 0
    report = capsys.readouterr().out
    assert "| Category EM % |" in report and "| metric | retrieval |" in report


def _train(args, built_datasets, tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, str(REPO / "training" / "sft.py"), "--dataset_name",
               str(built_datasets / "dlplandata"), *args]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def tiny_planner(tmp_path_factory, built_datasets):
    folder = tmp_path_factory.mktemp("planner") / "tiny"
    output = _train(["--config", "training/configs/tiny_test.yaml", "--output_dir", str(folder)], built_datasets,
                    folder)
    assert "planner training summary" in output
    return folder


def test_micro_training_run_makes_a_hub_ready_folder(tiny_planner):
    names = {path.name for path in tiny_planner.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "plan_pipeline.py", "plan.py",
            "README.md"} <= names
    assert not any(name.startswith("checkpoint-") for name in names)
    config = json.loads((tiny_planner / "config.json").read_text())
    assert "solution-plan-generation" in config["custom_pipelines"]
    card = (tiny_planner / "README.md").read_text()
    assert "model-index" in card and "DLPlanData" in card and "Category EM" in card


def test_pipeline_with_the_registered_task(tiny_planner):
    import dlcodegen.hf  # noqa: F401
    from transformers import pipeline

    planner = pipeline("dl-plan-generation", model=str(tiny_planner))
    single = planner({"user_requirement": "Classify handwritten digits.", "dataset_attributes": "28x28 images"},
                     max_new_tokens=16)
    assert set(single) == {"plan", "plan_text", "repairs", "error"} and isinstance(single["plan_text"], str)
    batch = planner(["Forecast sales.", {"user_requirement": "Segment tumours.", "dataset_attributes": {"n": 3}}],
                    max_new_tokens=8, num_beams=3)
    assert len(batch) == 2
    with pytest.raises(ValueError, match="requirement is empty"):
        planner("", max_new_tokens=4)


def test_pipeline_with_remote_code_and_nothing_but_transformers(tiny_planner, tmp_path):
    script = ("import sys\nfrom transformers import pipeline\n"
              f"p = pipeline(model={str(tiny_planner)!r}, trust_remote_code=True)\n"
              "out = p('Classify images of flowers.', max_new_tokens=8)\n"
              "assert 'plan_text' in out and 'plan' in out, out\n"
              "assert not any(name.startswith('dlcodegen') for name in sys.modules)\n"
              "print('ok')\n")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["HF_MODULES_CACHE"] = str(tmp_path / "modules")
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_neural_planner_wraps_the_pipeline(tiny_planner):
    planner = NeuralPlanner(tiny_planner, max_new_tokens=8)
    prediction = planner.predict("Classify images of flowers.", "RGB images")
    assert isinstance(prediction.plan_text, str)
    assert prediction.plan is None or prediction.plan.task_category is None or prediction.plan.task_category


def test_lora_run_on_a_tiny_local_base_model(tiny_planner, built_datasets, tmp_path):
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    base = tmp_path / "tiny-base"
    tokenizer = AutoTokenizer.from_pretrained(tiny_planner)
    GPT2LMHeadModel(GPT2Config(vocab_size=len(tokenizer), n_positions=1024, n_embd=32, n_layer=1, n_head=2,
                               bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id)
                    ).save_pretrained(base)
    tokenizer.save_pretrained(base)
    out = tmp_path / "lora"
    _train(["--model_name_or_path", str(base), "--use_peft", "--lora_r", "4", "--lora_target_modules", "c_attn",
            "--output_dir", str(out), "--max_steps", "2", "--max_train_samples", "16", "--max_eval_samples", "4",
            "--per_device_train_batch_size", "8", "--eval_strategy", "no", "--save_strategy", "no",
            "--learning_rate", "1e-3", "--bf16", "false", "--report_to", "none", "--test_samples", "2"],
           built_datasets, tmp_path)
    assert not (out / "adapter_config.json").exists()  # merged into the base weights on save
    planner = NeuralPlanner(out, max_new_tokens=8)
    assert isinstance(planner.predict("Detect cars in images.").plan_text, str)


def test_prompt_tokens_are_a_prefix_of_the_training_sequence(tiny_planner, plandata):
    """Generation starts exactly where training's completion started (no BPE merge across the boundary)."""
    from transformers import AutoTokenizer

    from dlcodegen.core.plan import Plan, model_prompt

    tokenizer = AutoTokenizer.from_pretrained(tiny_planner)
    for row in list(plandata["validation"])[:20]:
        prompt = model_prompt(row["prompt_text"])
        completion = " " + Plan.from_text(row["plan_text"]).to_json() + "}"
        prompt_ids = tokenizer(prompt)["input_ids"]
        assert tokenizer(prompt + completion)["input_ids"][: len(prompt_ids)] == prompt_ids


def test_hybrid_planner_takes_only_the_chosen_fields_from_the_model(tiny_planner, retrieval):
    from dlcodegen.planning.planners import HybridPlanner

    neural = NeuralPlanner(tiny_planner, max_new_tokens=64)
    hybrid = HybridPlanner(retrieval, neural, ("batch_size", "optimizer"))
    requirement, attributes = "Classify images of cats and dogs.", "RGB images, two labels"
    combined = hybrid.predict(requirement, attributes).plan
    alone = retrieval.predict(requirement, attributes).plan
    generated = neural.predict(requirement, attributes).plan
    assert combined.task_category == alone.task_category and combined.layers == alone.layers
    assert combined.input == alone.input
    for name in ("batch_size", "optimizer"):
        assert getattr(combined, name) == (getattr(generated, name) if getattr(generated, name) is not None
                                           else getattr(alone, name))
    assert hybrid.name.startswith("hybrid:")
    assert HybridPlanner(retrieval, neural, ()).predict(requirement, attributes).plan == alone


def test_hybrid_fields_are_the_ones_the_model_wins_on_validation(tmp_path):
    from dlcodegen.core.errors import UserError
    from dlcodegen.metrics.planner_eval import better_fields, write_hybrid_choice
    from dlcodegen.planning.planners import hybrid_fields

    retrieval = {"input_bleu": 16.0, "category_em": 85.0, "batch_size_mae": 141.0, "epochs_mae": 100.0,
                 "metric_em": None}
    neural = {"input_bleu": 13.0, "category_em": 85.0, "batch_size_mae": 122.0, "epochs_mae": 110.0,
              "metric_em": 50.0}
    assert better_fields(retrieval, neural) == ["batch_size"]  # ties and missing metrics go to retrieval
    with pytest.raises(UserError, match="plan hybrid"):
        hybrid_fields(tmp_path)
    write_hybrid_choice(tmp_path, retrieval, neural, "validation")
    assert hybrid_fields(tmp_path) == ("batch_size",)


def test_retrieval_planner_classifiers_load_from_the_model_folder_or_fit_on_the_data(built_datasets, tmp_path,
                                                                                     monkeypatch):
    from dlcodegen.planning import classify
    from dlcodegen.planning.planners import RetrievalPlannerConfig

    requirement = "Classify chest X-ray images as pneumonia or normal with a CNN."
    shipped = RetrievalPlanner.from_dataset(built_datasets)
    assert set(shipped.classifiers) == {"task_category", "loss_function"}
    assert shipped.predict(requirement).plan.task_category == "Image Classification"
    with pytest.raises(FileNotFoundError, match="lacks a saved classifier"):
        RetrievalPlanner.from_dataset(built_datasets, RetrievalPlannerConfig(classifier_folder=str(tmp_path)))
    monkeypatch.setattr(classify, "DEFAULT_FOLDER", tmp_path / "absent")  # no folder: fitted on train + validation
    fitted = RetrievalPlanner.from_dataset(built_datasets)
    assert fitted.classifiers["task_category"].predict_one(requirement) == "Image Classification"
    assert fitted.predict(requirement).plan.loss_function
