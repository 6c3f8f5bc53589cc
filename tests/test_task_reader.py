"""The rules of the task reader on requirements written the way people write them (dlcodegen.planning.task_reader)."""

from __future__ import annotations

import pytest

from dlcodegen.planning.task_reader import read_task_rules

FAMILY_CASES = [
    ("Forecast the next 24 hours of electricity load from the previous 7 days of hourly readings with an LSTM.",
     "time_series_forecasting"),
    ("Generate new handwritten digits with a GAN.", "image_generation"),
    ("Recognise 10 spoken command words from 1-second audio clips.", "audio_classification"),
    ("Translate English sentences to French with a sequence-to-sequence model.", "translation"),
    ("Segment tumours in brain MRI scans.", "image_segmentation"),
    ("Detect cars and pedestrians in street photos and draw bounding boxes around them.", "object_detection"),
    ("Tag each word of a sentence with its part of speech.", "token_classification"),
    ("Write a caption for each photo.", "image_captioning"),
    ("Build a model that answers questions about a paragraph of text.", "question_answering"),
    ("Remove the noise from scanned documents (denoising autoencoder).", "image_to_image"),
    ("Recommend movies to users from their past ratings.", "recommendation"),
    ("Transcribe short voice notes to text.", "speech_recognition"),
]


@pytest.mark.parametrize(("requirement", "family"), FAMILY_CASES)
def test_the_words_that_name_a_family_name_it(requirement, family):
    task = read_task_rules(requirement).task
    assert task.value == family and task.source and task.source.lower() in requirement.lower()


@pytest.mark.parametrize("requirement", [
    "Classify generated images as real or fake.",  # a negation: about generated images, not generating them
    "Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN.",
    "Predict whether a customer churns from their account data.",
])
def test_what_the_words_leave_open_is_not_stated(requirement):
    assert not read_task_rules(requirement).task.stated


def test_sizes_channels_and_class_counts_keep_their_words():
    spec = read_task_rules("Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN.")
    assert (spec.input.height.value, spec.input.width.value, spec.input.channels.value) == (32, 32, 3)
    assert spec.input.height.source == "32x32" and spec.input.channels.source == "RGB"
    assert spec.input.kind.value == "image"
    assert spec.output.classes.value == 43 and spec.output.classes.source == "43 classes"
    assert spec.output.kind.value == "multiclass"
    gray = read_task_rules("Sort grayscale x-rays 256 x 256 pixels into two groups.")
    assert (gray.input.height.value, gray.input.channels.value, gray.output.classes.value) == (256, 1, 2)
    assert gray.output.kind.value == "binary"
    assert read_task_rules("Recognise 10 spoken command words.").output.classes.value == 10


def test_attributes_in_json_and_in_plain_text_are_read_too():
    assert read_task_rules("Classify the images.", {"size": "64x64", "colour": "RGB"}).input.width.value == 64
    cats = read_task_rules("Classify cats and dogs.", "25,000 labelled JPEG images in two folders")
    assert cats.output.classes.value == 2 and cats.output.classes.source == "two folders"


def test_a_forecast_keeps_its_horizon_and_a_regression_output():
    spec = read_task_rules("Forecast the next 24 hours of electricity load.")
    assert spec.output.horizon.value == 24 and spec.output.horizon.source == "next 24 hours"
    assert spec.output.kind.value == "regression" and spec.input.kind.value == "time_series"
    assert not spec.output.classes.stated
