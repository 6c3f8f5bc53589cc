"""Plan field text classifiers: fitting, pickle-free save/load, model selection and the shipped models."""

from __future__ import annotations

import json
import pickle
import time
from pathlib import Path

import pytest

from dlcodegen.planning.classify import (CONFIG_FILE, DEFAULT_FOLDER, WEIGHTS_FILE, TextClassifier,
                                         TextClassifierConfig, cv_splits, item_text, load_classifiers, select_config)

SHIPPED = Path(__file__).resolve().parent.parent / "dlcodegen" / "planning" / "plan_classifiers"

TINY = [
    ("Classify photos of cats and dogs", "images of pets in jpg", "Image Classification"),
    ("Classify x-ray images as pneumonia or normal", "chest images, two classes", "Image Classification"),
    ("Recognise handwritten digits in images", "28x28 grayscale images of digits", "image classification"),
    ("Predict house prices from tabular features", "csv with rooms, area and price", "Tabular Regression"),
    ("Predict the price of used cars", "table of mileage, year and price", "Tabular Regression"),
    ("Detect the sentiment of movie reviews", "text reviews labelled positive or negative", "Text Classification"),
    ("Classify news articles by topic", "news text with topic labels", "Text Classification"),
    ("Segment tumours in brain MRI scans", "MRI volumes with masks", "Image Segmentation"),
]
FAST = TextClassifierConfig(word_ngrams=(1, 2), char_ngrams=(2, 4), min_df=1, model="svm", C=1.0)


def _tiny():
    return [item_text(r, a) for r, a, _ in TINY], [label for _, _, label in TINY]


@pytest.mark.parametrize("model", ["svm", "logreg", "ridge"])
def test_fit_predicts_its_training_labels(model):
    texts, labels = _tiny()
    classifier = TextClassifier(TextClassifierConfig(min_df=1, model=model, C=10.0)).fit(texts, labels)
    assert classifier.predict(texts) == ["Image Classification"] * 3 + ["Tabular Regression"] * 2 + \
        ["Text Classification"] * 2 + ["Image Segmentation"]
    # "image classification" and "Image Classification" are one key, written in its most frequent spelling
    assert classifier.classes == ["imageclassification", "imagesegmentation", "tabularregression",
                                  "textclassification"]
    assert classifier.predict_one("Classify images of flowers", {"images": "jpg photos"}) == "Image Classification"


def test_unlabelled_items_are_skipped_and_binary_labels_work():
    texts = ["cats and dogs photos", "house prices table", "unlabelled text", "dog pictures", "price of flats"]
    labels = ["image", "tabular", None, "image", "tabular"]
    classifier = TextClassifier(FAST).fit(texts, labels)
    assert classifier.classes == ["image", "tabular"]
    assert classifier.predict(["photos of dogs", "flat prices"]) == ["image", "tabular"]


def test_single_class_predicts_it():
    classifier = TextClassifier(FAST).fit(["images of cats", "tabular prices"], ["Adam", "adam"])
    assert classifier.predict(["anything at all"]) == ["Adam"]


def test_save_load_round_trip_without_pickle(tmp_path, monkeypatch):
    texts, labels = _tiny()
    classifier = TextClassifier(FAST).fit(texts, labels)
    folder = classifier.save(tmp_path / "clf")
    assert sorted(p.name for p in folder.iterdir()) == [CONFIG_FILE, WEIGHTS_FILE]
    json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))  # plain JSON
    from safetensors import safe_open

    with safe_open(str(folder / WEIGHTS_FILE), "np") as weights:  # plain tensors
        assert {"weights", "scale", "bias"} <= set(weights.keys())
        assert weights.get_tensor("weights").dtype.name == "int8"

    def no_pickle(*args, **kwargs):
        raise AssertionError("pickle used")

    monkeypatch.setattr(pickle, "load", no_pickle)
    monkeypatch.setattr(pickle, "loads", no_pickle)
    monkeypatch.setattr(pickle, "Unpickler", no_pickle)
    loaded = TextClassifier.load(folder)
    probes = texts + ["Classify bird songs", "predict rainfall", "", "Segment roads in satellite photos"]
    assert loaded.predict(probes) == classifier.predict(probes)
    assert (loaded.decision_function(probes) == classifier.decision_function(probes)).all()
    assert loaded.spellings == classifier.spellings and loaded.config == classifier.config


def test_load_rejects_a_folder_without_a_classifier(tmp_path):
    with pytest.raises(FileNotFoundError):
        TextClassifier.load(tmp_path)


def test_config_validation():
    with pytest.raises(ValueError):
        TextClassifierConfig(word_ngrams=None, char_ngrams=None)
    with pytest.raises(ValueError):
        TextClassifierConfig(model="forest")
    assert TextClassifierConfig.from_dict(json.loads(json.dumps(FAST.to_dict()))) == FAST


def test_select_config_returns_a_grid_config_and_its_table():
    texts, labels = _tiny()
    texts, labels = texts * 2, labels * 2
    grid = [TextClassifierConfig(char_ngrams=None, min_df=1, C=0.1), FAST,
            TextClassifierConfig(char_ngrams=None, min_df=1, model="ridge", C=1.0)]
    best, table = select_config(texts, labels, grid, folds=4, seed=0)
    assert best in grid
    assert [row["config"] for row in table] == [config.to_dict() for config in grid]
    assert sum(row["chosen"] for row in table) == 1
    assert all(0 <= row["accuracy"] <= 100 and len(row["folds"]) == 4 for row in table)
    chosen = next(row for row in table if row["chosen"])
    assert chosen["accuracy"] == max(row["accuracy"] for row in table)
    assert grid[table.index(chosen)] == best


def test_cv_splits_keep_singleton_labels():
    splits = cv_splits(7, folds=5, seed=0)
    assert sorted(i for _, held in splits for i in held) == list(range(7))


@pytest.fixture(scope="module")
def shipped():
    if not (SHIPPED / "task_category" / CONFIG_FILE).is_file():
        pytest.fail(f"{SHIPPED} is missing: python -m dlcodegen.training.classifiers")
    return load_classifiers(SHIPPED)


@pytest.mark.parametrize("requirement, category", [
    ("Classify chest X-ray images as pneumonia or normal", "Image Classification"),
    ("Predict the sale price of houses from their size, location and number of rooms", "Tabular Regression"),
    ("Classify the sentiment of tweets as positive, negative or neutral", "Text Classification"),
    ("Segment brain tumours in MRI scans pixel by pixel", "Image Segmentation"),
    ("Predict whether a bank customer will churn from their account data in a CSV file",
     "Tabular Classification"),
])
def test_shipped_category_classifier(shipped, requirement, category):
    assert shipped["task_category"].predict_one(requirement) == category


def test_the_default_folder_is_the_shipped_one():
    assert DEFAULT_FOLDER == SHIPPED  # inside the package, so a wheel ships it (tests/test_packaging.py)


def test_shipped_classifiers_are_complete_and_small(shipped):
    assert set(shipped) == {"task_category", "loss_function", "evaluation_metric", "optimizer"}
    for name, classifier in shipped.items():
        assert (SHIPPED / name / "README.md").is_file()
        assert classifier.info["field"] == name
    x_ray = "Classify chest X-ray images as pneumonia or normal"
    assert "crossentropy" in shipped["loss_function"].predict_one(x_ray).lower().replace("_", "")
    assert shipped["optimizer"].predict_one(x_ray).lower() == "adam"
    size = sum(p.stat().st_size for p in SHIPPED.rglob("*") if p.is_file())
    assert size < 5e6


def test_shipped_single_prediction_is_fast(shipped):
    classifier = shipped["task_category"]
    text = item_text("Classify chest X-ray images as pneumonia or normal",
                     "The dataset consists of 5,863 X-ray images (JPEG) in two categories (Pneumonia/Normal).")
    classifier.predict([text])
    timings = []
    for _ in range(30):
        start = time.perf_counter()
        classifier.predict([text])
        timings.append(time.perf_counter() - start)
    assert sorted(timings)[len(timings) // 2] < 0.05  # median; the budget is 5 ms, with room for a loaded CI
