"""Every task family's offline project: it renders to valid Python, builds its model, fits a synthetic batch shaped
as the task states (verify's `task_fit`, in process) and learns (verify's `learns`), on CPU in seconds.

The cases (tests/data/offline_families.jsonl) are one or two requirements per family, small enough to train fast.
"""

from __future__ import annotations

import ast
import json
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest

from dlcodegen.core.plan import Plan
from dlcodegen.core.task import FAMILIES
from dlcodegen.generator.offline import FAMILY_TEMPLATES, project_spec, render_project
from dlcodegen.planning.task_reader import read_task
from dlcodegen.verify import tensorflow_available

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "offline_families.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]
needs_tf = pytest.mark.skipif(not tensorflow_available(), reason="the models need TensorFlow (the test extra has it)")


def case_id(case: dict) -> str:
    return f"{case['family']}-{zlib.crc32(case['requirement'].encode()) % 1000:03d}"


def render(case: dict) -> tuple[str, object]:
    task = read_task(case["requirement"], case.get("attributes") or "")
    plan = Plan(layers=case.get("layers"), loss_function=case.get("loss"), optimizer="adam", learning_rate=0.001,
                batch_size=16, epochs=5)
    spec = project_spec(case["requirement"], plan, None, task, case.get("attributes") or "")
    return render_project(spec), task


def test_every_written_family_has_cases_and_every_family_is_written_or_refused():
    assert {case["family"] for case in CASES} == set(FAMILY_TEMPLATES)
    for family in set(FAMILIES) - set(FAMILY_TEMPLATES):
        with pytest.raises(ValueError, match="does not write .* projects yet"):
            from dlcodegen.core.task import Fact, TaskSpec

            project_spec("r", Plan(), None, TaskSpec(Fact(family, "test")))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_reader_reads_the_case_as_its_family(case):
    assert read_task(case["requirement"], case.get("attributes") or "").task.value == case["family"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_project_parses_and_keeps_the_contract(case):
    code, _ = render(case)
    tree = ast.parse(code)
    functions = {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert {"load_data", "build_model", "main"} <= functions
    assert any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test) for node in tree.body)
    assert "urlopen" not in code and "weights=\"imagenet\"" not in code and "weights='imagenet'" not in code


@needs_tf
@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_the_model_fits_the_task_and_learns(case):
    import keras

    from dlcodegen.verify.child.task_levels import learns, task_fit

    code, task = render(case)
    namespace: dict = {"__name__": "project"}
    exec(compile(code, "project.py", "exec"), namespace)
    keras.utils.set_random_seed(0)
    model = namespace["build_model"]()
    notes: list[str] = []
    run = SimpleNamespace(job=SimpleNamespace(task=task.to_dict()), note=notes.append)
    task_fit(run, model)
    learns(run, model, type(model).train_on_batch)
    assert any(note.startswith("learns: loss") for note in notes)


@needs_tf
@pytest.mark.slow
@pytest.mark.parametrize("family", ["image_classification", "text_classification", "time_series_forecasting"])
def test_verify_end_to_end_reaches_learns(family):
    from dlcodegen.verify import verify_code

    case = next(case for case in CASES if case["family"] == family)
    code, task = render(case)
    outcome = verify_code(code, task=task)
    assert outcome.passed and outcome.level == "learns", outcome.summary
