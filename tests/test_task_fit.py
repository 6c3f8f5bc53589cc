"""Plans kept true to the task (dlcodegen.planning.task_fit): category, head, loss, Input/Output facts."""

from __future__ import annotations

from dlcodegen.core.plan import Plan
from dlcodegen.planning.task_fit import fit_plan_to_task, head_layer
from dlcodegen.planning.task_reader import read_task, read_task_rules

NEIGHBOUR_CLASSIFIER = Plan(task_category="Image Classification", input="Images of flowers", output="5 classes",
                            layers=["Conv2D(32, (3, 3), activation='relu')", "Flatten()", "Dense(64)"],
                            loss_function="Binary Crossentropy")


def test_a_neighbours_64_unit_head_is_replaced_for_a_120_class_task():
    spec = read_task_rules("Classify photos of dogs into 120 breeds with transfer learning.")
    plan, repairs = fit_plan_to_task(NEIGHBOUR_CLASSIFIER, spec)
    assert plan.layers[-1] == "Dense(120, activation='softmax')"
    assert plan.loss_function == "categorical_crossentropy"
    assert "120" in plan.output
    assert any("Dense(64)" in line and "120 classes" in line for line in repairs)
    assert any(line.startswith("loss") for line in repairs)


def test_a_binary_task_gets_one_sigmoid_unit_and_binary_cross_entropy():
    spec = read_task_rules("Classify chest x-rays as pneumonia or normal.")
    plan, _ = fit_plan_to_task(NEIGHBOUR_CLASSIFIER, spec)
    assert plan.layers[-1] == "Dense(1, activation='sigmoid')" and plan.loss_function == "Binary Crossentropy"


def test_forecasting_gets_a_regression_loss_and_horizon_units():
    spec = read_task_rules("Forecast the next 24 hours of electricity load from hourly readings.")
    neighbour = Plan(task_category="Tabular Classification", input="Audio features and text data",
                     output="5 classes representing price actions", layers=["LSTM(64)", "Dense(5, activation='softmax')"],
                     loss_function="Categorical Crossentropy")
    plan, repairs = fit_plan_to_task(neighbour, spec, texts_from_family=False)
    assert plan.task_category == "Time Series Forecasting"
    assert plan.layers[-1] == "Dense(24, activation='linear')"
    assert plan.loss_function == "mean_squared_error"
    assert "Audio" not in plan.input and "classes" not in plan.output  # rewritten from the task's facts
    assert "24" in plan.output
    assert any("Task Category" in line for line in repairs)


def test_segmentation_gets_a_per_pixel_mask_output():
    spec = read_task_rules("Segment 256x256 street photos into 19 classes of objects, pixel-wise.")
    assert head_layer(spec) == "Conv2D(19, (1, 1), padding='same', activation='softmax')"
    plan, repairs = fit_plan_to_task(NEIGHBOUR_CLASSIFIER, spec)
    assert plan.layers[-1] == head_layer(spec) and plan.task_category == "Image Segmentation"
    assert "256x256" in plan.input
    binary = read_task_rules("Segment the road in aerial images (a binary mask).")
    assert head_layer(binary).endswith("activation='sigmoid')")


def test_a_plan_that_already_fits_is_left_alone():
    spec = read_task_rules("Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN.")
    fitting = Plan(task_category="Image Classification", input="32x32 RGB images of traffic signs",
                   output="43 classes of traffic signs", layers=["Conv2D(32, (3, 3))", "Dense(43, activation='softmax')"],
                   loss_function="Sparse Categorical Crossentropy")
    plan, repairs = fit_plan_to_task(fitting, spec)
    assert plan == fitting and repairs == []


def test_what_the_words_leave_open_is_not_forced():
    """A multiclass family without a stated count: any classification loss and head may fit."""
    spec = read_task_rules("Classify images of flowers with a CNN.")
    plan = Plan(task_category="Image Classification", input="Images of flowers", output="Flower species",
                layers=["Dense(5, activation='softmax')"], loss_function="Binary Crossentropy")
    assert fit_plan_to_task(plan, spec) == (plan, [])


def test_speech_recognition_trains_with_ctc():
    spec = read_task_rules("Transcribe voice notes to text.")
    plan, repairs = fit_plan_to_task(Plan(task_category="Speech Recognition", loss_function="Categorical Crossentropy"),
                                     spec)
    assert plan.loss_function == "ctc_loss" and repairs


def test_a_neighbours_channel_count_gives_way_to_the_stated_one():
    spec = read_task("Spot defective screws in close-up photos, ok vs defective, 256x256 grayscale.")
    neighbour = Plan(task_category="Image Classification", input="Images of size 256x256 with 3 channels (RGB)",
                     output="Binary classification", layers=["Dense(1, activation='sigmoid')"],
                     loss_function="binary_crossentropy")
    plan, repairs = fit_plan_to_task(neighbour, spec)
    assert plan.input == "Images of size 256x256 with 1 channel (grayscale)"
    assert any("1 channel" in line and "grayscale" in line for line in repairs)
