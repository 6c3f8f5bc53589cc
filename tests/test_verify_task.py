"""verify's task levels: `task_fit` (the model against the task, as pure checks and end to end) and `learns`."""

import json

import pytest

from dlcodegen.core.task import Fact, InputSpec, OutputSpec, TaskSpec
from dlcodegen.planning.task_reader import read_task
from dlcodegen.verify import tensorflow_available, verify_code
from dlcodegen.verify.task_fit import SeenModel, SeenOutput, fit_error, stated_input

needs_tf = pytest.mark.skipif(not tensorflow_available(), reason="verify needs TensorFlow (the test extra has it)")


def task(family, kind, classes=None, **facts) -> TaskSpec:
    inputs = {name: Fact(value, "test") for name, value in facts.items() if name in InputSpec.__dataclass_fields__}
    outputs = {name: Fact(value, "test") for name, value in facts.items() if name in OutputSpec.__dataclass_fields__}
    return TaskSpec(Fact(family, "test"), InputSpec(**inputs),
                    OutputSpec(kind=Fact(kind, "test"), classes=Fact(classes, "test") if classes else Fact(),
                               **outputs))


def seen(*outputs, fed=((32, 32, 3),), own=False) -> SeenModel:
    return SeenModel(fed, tuple(SeenOutput(*output) for output in outputs), own, fed)


CATS = task("image_classification", "binary", 2, height=128, width=128, channels=3)
SIGNS = task("image_classification", "multiclass", 43, height=32, width=32, channels=3)
LOAD = task("time_series_forecasting", "regression", horizon=24)
ROADS = task("image_segmentation", "mask", 3, height=64, width=64)


@pytest.mark.parametrize("spec, model, expected", [
    # the cats-vs-dogs model of the issue: a feature map where the head should be
    (CATS, seen(((128, 128, 64), "linear", "binary_crossentropy")), "the model gives (batch, 128, 128, 64)"),
    (CATS, seen(((1,), "sigmoid", "binary_crossentropy")), None),
    (CATS, seen(((2,), "softmax", "sparse_categorical_crossentropy")), None),
    (CATS, seen(((1,), "sigmoid", "mean_squared_error")), "loss: mean_squared_error does not fit"),
    # a wrong class count, and no head (a 64-unit linear Dense)
    (SIGNS, seen(((10,), "softmax", "categorical_crossentropy")), "the task states 43 classes, the model's output has 10"),
    (SIGNS, seen(((64,), "linear", "categorical_crossentropy")), "has 64 units"),
    (SIGNS, seen(((43,), "softmax", "binary_crossentropy")), "loss: binary_crossentropy does not fit 43 classes"),
    (SIGNS, seen(((43,), "softmax", "categorical_crossentropy")), None),
    # a sigmoid regression, a classification loss on a forecast, the right forecaster
    (LOAD, seen(((24,), "sigmoid", "mean_squared_error"), fed=((168, 1),)), "ends in sigmoid"),
    (LOAD, seen(((24,), "linear", "binary_crossentropy"), fed=((168, 1),)), "loss: binary_crossentropy"),
    (LOAD, seen(((1,), "linear", "mean_squared_error"), fed=((168, 1),)), "the task wants 24 value(s)"),
    (LOAD, seen(((24,), "linear", "huber"), fed=((168, 1),)), None),
    # segmentation without a decoder, then with one
    (ROADS, seen(((16, 16, 3), "softmax", "sparse_categorical_crossentropy"), fed=((64, 64, 3),)),
     "the mask must match the input's 64x64, the model gives 16x16"),
    (ROADS, seen(((3,), "softmax", "categorical_crossentropy"), fed=((64, 64, 3),)), "a mask task wants"),
    (ROADS, seen(((64, 64, 3), "softmax", "sparse_categorical_crossentropy"), fed=((64, 64, 3),)), None),
    # a time-series classifier whose output is an image
    (task("time_series_classification", "multiclass", 5), seen(((140, 1, 5), "softmax", "categorical_crossentropy"),
                                                               fed=((140, 1),)), "wants (batch, units)"),
    (task("token_classification", "tags", 9), seen(((50, 9), "softmax", "sparse_categorical_crossentropy"),
                                                   fed=((50,),)), None),
    (task("token_classification", "tags", 9), seen(((9,), "softmax", "sparse_categorical_crossentropy"),
                                                   fed=((50,),)), "wants (batch, steps, classes)"),
    (task("anomaly_detection", "reconstruction"), seen(((128, 1), "linear", "mean_absolute_error"), fed=((128, 1),)),
     None),
    (task("anomaly_detection", "reconstruction"), seen(((1,), "sigmoid", "binary_crossentropy"), fed=((128, 1),)),
     "an autoencoder must give back its input"),
])
def test_fit_error_names_the_expected_and_the_actual(spec, model, expected):
    error = fit_error(spec, model)
    if expected is None:
        assert error is None
    else:
        assert error is not None and expected in error and "\n" not in error


def test_the_task_batch_takes_the_stated_input_and_refuses_a_contradicting_model():
    assert stated_input(SIGNS, (None, None, 3)) == ((32, 32, 3), None)
    shape, clash = stated_input(SIGNS, (128, 128, 3))
    assert clash == "input: the task states (32, 32, 3), the model takes (128, 128, 3)"
    assert stated_input(LOAD, (None, 1)) == ((None, 1), None)


CATS_DOGS = '''
from tensorflow import keras
from tensorflow.keras import layers


def build_model():
    model = keras.Sequential([keras.Input(shape=(128, 128, 3)), layers.Conv2D(2, (3, 3), padding="same"),
                              layers.Dense(64)])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


if __name__ == "__main__":
    build_model()
'''
CATS_DOGS_FIXED = CATS_DOGS.replace('layers.Dense(64)', 'layers.GlobalAveragePooling2D(), layers.Dense(1, activation="sigmoid")')
NO_LEARNING = CATS_DOGS_FIXED.replace('optimizer="adam"', 'optimizer=keras.optimizers.SGD(learning_rate=1e-9)')


@needs_tf
def test_verify_with_a_task_stops_the_cats_and_dogs_model_at_task_fit_and_passes_the_fixed_one():
    cats = read_task("Classify images of cats and dogs (128x128 RGB) with a small CNN.")
    broken = verify_code(CATS_DOGS, task=cats)
    assert (broken.level, broken.failed) == ("train_step", "task_fit") and not broken.passed
    assert "(batch, 128, 128, 64)" in broken.error
    fixed = verify_code(CATS_DOGS_FIXED, task=cats)
    assert fixed.passed and fixed.level == "learns", fixed.summary
    stuck = verify_code(NO_LEARNING, task=cats)
    assert (stuck.level, stuck.failed) == ("task_fit", "learns") and "the loss went from" in stuck.error
    without_task = verify_code(CATS_DOGS)
    assert without_task.passed and without_task.level == "train_step"


@needs_tf
def test_verify_cli_reads_the_task_beside_the_file_and_from_the_options(tmp_path, capsys):
    from dlcodegen.cli import main

    project = tmp_path / "project.py"
    project.write_text(CATS_DOGS, encoding="utf-8")
    assert main(["verify", str(project)]) == 0  # no task: stops at train_step
    (tmp_path / "task.json").write_text(json.dumps(CATS.to_dict()), encoding="utf-8")
    assert main(["verify", str(project)]) == 1
    out = capsys.readouterr().out
    assert "task: from" in out and "failed at task_fit: output:" in out
    assert main(["verify", str(project), "--task", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
