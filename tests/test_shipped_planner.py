"""The committed planner folder loads offline with both `pipeline()` forms and returns a plan."""

import os
import subprocess
import sys
from pathlib import Path

MODEL = Path(__file__).resolve().parent.parent / "models" / "planner-scratch-small"
REQUEST = {"user_requirement": "I want to build a convolutional neural network to classify images of cats and dogs.",
           "dataset_attributes": "25,000 RGB images of cats and dogs resized to 150x150; labels 'cat' and 'dog'."}


def test_committed_folder_is_a_complete_model_repo():
    names = {path.name for path in MODEL.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "plan_pipeline.py", "plan.py",
            "README.md"} <= names
    assert (MODEL / "model.safetensors").stat().st_size < 30 * 2**20
    assert "model-index" in (MODEL / "README.md").read_text()


def test_registered_task_returns_a_plan():
    import dlcodegen.hf  # noqa: F401
    from transformers import pipeline

    planner = pipeline("dl-plan-generation", model=str(MODEL))
    output = planner(REQUEST, max_new_tokens=160)
    assert output["plan"] is not None, output
    assert output["plan"]["Task Category"]


def test_remote_code_form_returns_a_plan(tmp_path):
    script = ("import json, sys\nfrom transformers import pipeline\n"
              f"p = pipeline(model={str(MODEL)!r}, trust_remote_code=True)\n"
              f"out = p({REQUEST!r}, max_new_tokens=160)\n"
              "assert out['plan'] is not None and out['plan']['Task Category'], out\n"
              "assert not any(name.startswith('dlcodegen') for name in sys.modules)\n"
              "print('ok')\n")
    env = {**os.environ, "HF_MODULES_CACHE": str(tmp_path / "modules"), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


def test_committed_folder_carries_the_current_parser_and_pipeline():
    """The folder's copies must match the package (refresh with hf.model_folder.add_pipeline_code)."""
    repo = MODEL.parent.parent
    assert (MODEL / "plan.py").read_text() == (repo / "dlcodegen" / "core" / "plan.py").read_text()
    assert (MODEL / "errors.py").read_text() == (repo / "dlcodegen" / "core" / "errors.py").read_text()
    assert (MODEL / "plan_pipeline.py").read_text() == (repo / "dlcodegen" / "planning" / "plan_pipeline.py").read_text()
