"""Turn a saved model folder into a self-contained Hub repo: pipeline code, `custom_pipelines` and model card."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jinja2

from dlcodegen.metrics.plan_metrics import METRIC_NAMES
from dlcodegen.core import errors, plan
from dlcodegen.planning import plan_pipeline
from dlcodegen.planning.plan_pipeline import REMOTE_TASK



def add_pipeline_code(folder: Path) -> None:
    """Copy the pipeline, its (standard-library only) plan parser and errors, and declare the custom pipeline."""
    for module in (plan_pipeline, plan, errors):
        shutil.copyfile(module.__file__, folder / Path(module.__file__).name)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["custom_pipelines"] = {REMOTE_TASK: {"impl": "plan_pipeline.DLPlanGenerationPipeline",
                                         "pt": ["AutoModelForCausalLM"], "tf": [], "type": "text"}}
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def model_card(metrics: dict, info: dict, template_path: str | Path, model_name: str) -> str:
    from huggingface_hub import EvalResult, ModelCardData

    results = [EvalResult(task_type="text-generation", task_name="Solution plan prediction",
                          dataset_type="dlplandata", dataset_name="DLPlanData", dataset_split="test",
                          metric_type=key, metric_name=METRIC_NAMES.get(key, key), metric_value=round(value, 4))
               for key, value in metrics.items() if key in METRIC_NAMES and value is not None]
    data = ModelCardData(model_name=model_name, license="apache-2.0", language=["en"], library_name="transformers",
                         pipeline_tag="text-generation", tags=["dlcodegen", "code-generation", "planning"],
                         datasets=["dlplandata"], eval_results=results or None)
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        Path(template_path).read_text(encoding="utf-8"))
    body = template.render(metrics=metrics, info=info, model_name=model_name, metric_names=METRIC_NAMES)
    return f"---\n{data.to_yaml()}\n---\n{body}"


INFO_FILE = "training_info.json"


def finalize_model_folder(folder: str | Path, metrics: dict, info: dict, template_path: str | Path) -> None:
    folder = Path(folder)
    if not (folder / "config.json").is_file():
        raise FileNotFoundError(f"{folder} has no config.json: save the model there first")
    template = Path(template_path)
    if not template.is_file():
        raise FileNotFoundError(f"model card template {template} not found (run from the repository root, or pass "
                                "--model_card_template)")
    for checkpoint in folder.glob("checkpoint-*"):  # the best model is already saved at the top level
        shutil.rmtree(checkpoint)
    add_pipeline_code(folder)
    (folder / INFO_FILE).write_text(json.dumps({"info": info, "test_metrics": metrics}, indent=2) + "\n")
    (folder / "README.md").write_text(model_card(metrics, info, template, folder.name), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    """Re-score a planner folder on the DLPlanData test split and re-render its card and pipeline code."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m dlcodegen.hf.model_folder", description=main.__doc__)
    parser.add_argument("folder")
    parser.add_argument("--test-samples", type=int, default=400)
    parser.add_argument("--num-beams", type=int, default=1)
    parser.add_argument("--data", help="folder of built datasets")
    parser.add_argument("--model-card-template", default="model_card.md")
    args = parser.parse_args(argv)

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.metrics.planner_eval import evaluate_planner
    from dlcodegen.planning.planners import NeuralPlanner

    folder = Path(args.folder)
    info = json.loads((folder / INFO_FILE).read_text())["info"]
    add_pipeline_code(folder)  # the scorer below loads the folder's own pipeline code
    metrics = evaluate_planner(NeuralPlanner(folder, num_beams=args.num_beams),
                               load_local("dlplandata", split="test", path=ensure_built(args.data)), args.test_samples)
    info.update(test_samples=args.test_samples, test_num_beams=args.num_beams)
    finalize_model_folder(folder, metrics, info, args.model_card_template)
    print(json.dumps(metrics, indent=2))


if __name__ == "__main__":
    main()
