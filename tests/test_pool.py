"""The code sample pool: adding user samples (.py and .ipynb), dedupe, bad inputs, and loading with DLSamplePool."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from dlcodegen.generator.pool import (MAX_SAMPLE_BYTES, POOL_DIR_ENV, Sample, add_sample, load_pool, pool_dir,
                                      user_samples)
from dlcodegen.core.plan import Plan, RequirementError

CODE = '''import tensorflow as tf
model = tf.keras.Sequential([
    tf.keras.layers.Conv2D(16, (3, 3), activation='relu', input_shape=(64, 64, 3)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(2, activation='softmax'),
])
model.compile(optimizer='adam', loss='categorical_crossentropy', metrics=['accuracy'])
model.fit(x, y, epochs=3, batch_size=8)
'''
REQUIREMENT = "Classify 64x64 photos of cats and dogs with a small CNN."


class FakePlanner:
    """Stands in for the retrieval planner: a fixed task category, and a record of what it was asked."""

    name = "fake"

    def __init__(self, category: str = "Image Classification"):
        self.category, self.calls = category, []

    def predict(self, requirement, attributes=""):
        self.calls.append((requirement, attributes))
        return SimpleNamespace(plan=Plan(task_category=self.category))


def _notebook(path: Path, cells: list[str]) -> Path:
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# A notebook\n"]}] + [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": cell.splitlines(keepends=True)} for cell in cells],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return path


def test_add_a_python_file(tmp_path):
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    planner = FakePlanner()
    pool = tmp_path / "pool"
    sample = add_sample(source, REQUIREMENT, "10,000 labelled photos", planner=planner, pool_dir=pool)
    assert isinstance(sample, Sample) and sample.source_id is None
    assert sample.key.startswith("user/") and len(sample.key) == len("user/") + 12
    assert sample.code == CODE and sample.requirement == REQUIREMENT
    assert planner.calls == [(REQUIREMENT, "10,000 labelled photos")]
    plan = sample.plan
    assert plan.task_category == "Image Classification"
    assert plan.layers == ["Conv2D(16, (3, 3), activation='relu', input_shape=(64, 64, 3))", "Flatten()",
                           "Dense(2, activation='softmax')"]
    assert (plan.optimizer, plan.epochs, plan.batch_size) == ("Adam", 3, 8)
    files = list(pool.iterdir())
    assert [path.name for path in files] == [sample.key.split("/")[1] + ".json"]
    record = json.loads(files[0].read_text(encoding="utf-8"))
    assert set(record) == {"key", "code", "requirement", "dataset_attributes", "plan_text", "added"}
    assert record["dataset_attributes"] == "10,000 labelled photos"
    assert Plan.from_text(record["plan_text"]) == plan


def test_add_a_notebook_and_dedupe(tmp_path):
    pool = tmp_path / "pool"
    cells = ["!pip install -q tensorflow\n%matplotlib inline\nimport tensorflow as tf", CODE]
    notebook = _notebook(tmp_path / "train.ipynb", cells)
    first = add_sample(notebook, REQUIREMENT, planner=FakePlanner(), pool_dir=pool)
    assert first.code.startswith("!pip install -q tensorflow\n%matplotlib inline\n")
    assert first.plan.layers and first.plan.epochs == 3
    again = add_sample(notebook, "Another wording of the same task.", planner=FakePlanner("Other"), pool_dir=pool)
    assert again == first  # same code: same key, the existing sample
    assert len(list(pool.glob("*.json"))) == 1
    script = tmp_path / "train.py"
    script.write_text(CODE, encoding="utf-8")
    other = add_sample(script, REQUIREMENT, planner=FakePlanner(), pool_dir=pool)
    assert other.key != first.key and len(list(pool.glob("*.json"))) == 2
    assert not list(pool.glob(".tmp-*"))  # atomic writes leave no temporary file


def test_add_without_a_planner_leaves_the_category_empty(tmp_path):
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    sample = add_sample(source, REQUIREMENT, pool_dir=tmp_path / "pool")
    assert sample.plan.task_category is None and sample.plan.layers


@pytest.mark.parametrize("case, error, message", [
    ("missing", FileNotFoundError, "does not exist"),
    ("binary", ValueError, "binary file"),
    ("latin1", ValueError, "not UTF-8 text"),
    ("empty", ValueError, "holds no code"),
    ("empty_notebook", ValueError, "holds no code cells"),
    ("large", ValueError, "at most 1,000,000 bytes"),
    ("prose", ValueError, "does not parse as Python"),
    ("not_a_notebook", ValueError, "not a Jupyter notebook"),
    ("directory", ValueError, "is not a file"),
])
def test_bad_files_give_one_clear_error_and_write_nothing(tmp_path, case, error, message):
    source = {
        "missing": tmp_path / "nowhere.py",
        "binary": tmp_path / "model.h5",
        "latin1": tmp_path / "latin1.py",
        "empty": tmp_path / "empty.py",
        "empty_notebook": tmp_path / "empty.ipynb",
        "large": tmp_path / "large.py",
        "prose": tmp_path / "notes.py",
        "not_a_notebook": tmp_path / "broken.ipynb",
        "directory": tmp_path / "folder",
    }[case]
    if case == "binary":
        source.write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00\x00\x01" * 10)
    elif case == "latin1":
        source.write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    elif case == "empty":
        source.write_text("\n   \n", encoding="utf-8")
    elif case == "empty_notebook":
        _notebook(source, [])
    elif case == "large":
        source.write_text("x = 1\n" * (MAX_SAMPLE_BYTES // 6 + 1), encoding="utf-8")
    elif case == "prose":
        source.write_text("These are my notes: train a CNN, then (maybe) fine-tune it!\n", encoding="utf-8")
    elif case == "not_a_notebook":
        source.write_text("{this is not json", encoding="utf-8")
    elif case == "directory":
        source.mkdir()
    pool = tmp_path / "pool"
    with pytest.raises(error, match=message) as raised:
        add_sample(source, REQUIREMENT, planner=FakePlanner(), pool_dir=pool)
    assert "\n" not in str(raised.value)
    assert not pool.exists() or not any(pool.iterdir())


@pytest.mark.parametrize("requirement", ["", "   ", None, "x" * 20_001])
def test_bad_requirements_are_refused_before_anything_is_read(tmp_path, requirement):
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    planner = FakePlanner()
    with pytest.raises(RequirementError):
        add_sample(source, requirement, planner=planner, pool_dir=tmp_path / "pool")
    assert planner.calls == [] and not (tmp_path / "pool").exists()


def test_pool_dir_resolution(tmp_path, monkeypatch):
    monkeypatch.delenv(POOL_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert pool_dir() == tmp_path / "xdg" / "dlcodegen" / "pool"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert pool_dir() == tmp_path / "home" / ".local" / "share" / "dlcodegen" / "pool"
    monkeypatch.setenv(POOL_DIR_ENV, str(tmp_path / "env"))
    assert pool_dir() == tmp_path / "env"
    assert pool_dir(tmp_path / "explicit") == tmp_path / "explicit"


def test_environment_pool_is_used_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv(POOL_DIR_ENV, str(tmp_path / "env-pool"))
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    sample = add_sample(source, REQUIREMENT, planner=FakePlanner())
    assert [s.key for s in user_samples()] == [sample.key]


def test_a_damaged_user_file_is_skipped_with_a_warning(tmp_path):
    pool = tmp_path / "pool"
    source = tmp_path / "train.py"
    source.write_text(CODE, encoding="utf-8")
    good = add_sample(source, REQUIREMENT, planner=FakePlanner(), pool_dir=pool)
    (pool / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.warns(UserWarning, match="broken.json"):
        samples = user_samples(pool)
    assert [sample.key for sample in samples] == [good.key]


def test_load_pool_includes_user_samples(built_datasets, tmp_path):
    pool = tmp_path / "pool"
    source = _notebook(tmp_path / "train.ipynb", [CODE])
    added = add_sample(source, REQUIREMENT, planner=FakePlanner(), pool_dir=pool)
    samples = load_pool(data_path=built_datasets, pool_dir=pool)
    assert len(samples) == 47
    assert samples[-1] == added
    shipped = samples[:46]
    assert [sample.key for sample in shipped] == [f"dlsamplepool/{i}" for i in range(46)]
    assert sorted(sample.source_id for sample in shipped) == list(range(46))
    assert all(isinstance(sample.plan, Plan) and sample.code and sample.requirement for sample in shipped)
    assert len(load_pool(data_path=built_datasets, pool_dir=pool, include_user=False)) == 46
    assert len(load_pool(data_path=built_datasets, pool_dir=tmp_path / "no-pool-here")) == 46
