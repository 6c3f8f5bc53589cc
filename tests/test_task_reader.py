"""The rules of the task reader on requirements written the way people write them (dlcodegen.planning.task_reader)."""

from __future__ import annotations

import pytest

import json

from dlcodegen.core.task import TaskSpec
from dlcodegen.planning.task_reader import CLASSIFIER_SOURCE, read_task, read_task_rules

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


MORE_FAMILIES = [
    ("Train an agent with DQN to balance the CartPole.", "reinforcement_learning"),
    ("Upscale low-resolution photos 4x (super-resolution).", "image_to_image"),
    ("Turn photos of horses into zebras with CycleGAN.", "image_to_image"),
    ("Find the named entities (people, places) in news sentences.", "token_classification"),
    ("Recognise human activity from smartphone accelerometer windows.", "time_series_classification"),
    ("Classify short video clips of sports by the action shown.", "video_classification"),
    ("Verify whether two face photos show the same person with a siamese network.", "image_similarity"),
    ("Write new song lyrics in the style of my favourite band.", "text_generation"),
    ("Predict the next word as the user types.", "text_generation"),
    ("Estimate a person's age from a face photo.", "image_regression"),
    ("Classify product photos with their titles and descriptions into categories (multimodal).",
     "multimodal_classification"),
    ("Spam or not? Classify SMS messages.", "text_classification"),
    ("Regress the price of a house from a CSV of 79 features.", "tabular_regression"),
    ("Predict whether a passenger survived from the columns of a CSV table.", "tabular_classification"),
    ("Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN.", "image_classification"),
]
NEGATIONS = [
    ("Classify generated images as real or fake.", "image_classification"),  # about generated images
    ("Bird species classification; bounding boxes are included but I only want the label. Classify the photos.",
     "image_classification"),
    ("Identify which of 40 speakers is talking in a recording. Not transcription.", "audio_classification"),
    ("Detect fraud in credit card transactions, a CSV with 30 columns, fraud or not.", "tabular_classification"),
]


@pytest.mark.parametrize(("requirement", "family"), MORE_FAMILIES + NEGATIONS)
def test_every_family_and_negations(requirement, family):
    task = read_task_rules(requirement).task
    assert task.value == family and task.source and task.source.lower() in requirement.lower()


def test_what_the_words_leave_open_is_not_stated():
    assert not read_task_rules("Predict whether a customer churns from their account data.").task.stated


class FixedClassifier:
    """A task classifier that always answers one family (what `read_task` falls back to)."""

    def __init__(self, family):
        self.family, self.calls = family, 0

    def predict_family(self, requirement, attributes=""):
        self.calls += 1
        return self.family


def test_the_classifier_decides_only_where_the_rules_are_silent():
    classifier = FixedClassifier("tabular_classification")
    open_task = read_task("Predict whether a customer churns from their account data.", classifier=classifier)
    assert open_task.task.value == "tabular_classification" and open_task.task.source == CLASSIFIER_SOURCE
    assert open_task.output.kind.value == "binary" and open_task.input.kind.value == "tabular"
    stated = read_task("Forecast the next 7 days of sales.", classifier=classifier)
    assert stated.task.value == "time_series_forecasting" and classifier.calls == 1


def test_the_shipped_classifier_reads_open_wordings():
    assert read_task("Predict whether a customer churns from their account data.").task.value == \
        "tabular_classification"


def test_every_fact_kind_keeps_its_words():
    audio = read_task_rules("Classify 1-second clips sampled at 16 kHz into 35 spoken words.")
    assert (audio.input.sample_rate.value, audio.input.clip_seconds.value) == (16000, 1.0)
    assert audio.input.sample_rate.source == "16 kHz" and audio.output.classes.value == 35
    text = read_task_rules("Classify reviews padded to 200 tokens with a vocabulary of 20,000 words.")
    assert (text.input.sequence_length.value, text.input.vocabulary.value) == (200, 20000)
    series = read_task_rules("Forecast the next 24 hours from the previous 7 days of hourly readings of 5 sensors.")
    assert series.input.sequence_length.value == 168 and series.output.horizon.value == 24
    assert series.input.features.value == 5
    tabular = read_task_rules("Predict house prices; the target column is 'SalePrice'.", "79 features")
    assert tabular.output.target_column.value == "SalePrice" and tabular.input.features.value == 79
    named = read_task_rules("Classify tweets as positive, negative or neutral.")
    assert named.output.classes.value == 3 and named.output.class_names.value == ("positive", "negative", "neutral")
    multilabel = read_task_rules("Classify each photo with one or more of 17 labels (multi-label).")
    assert multilabel.output.kind.value == "multilabel"
    volume = read_task_rules("Segment tumours in 128x128x64 MRI volumes.")
    assert volume.input.depth.value == 64 and volume.input.kind.value == "volume"


def test_a_task_survives_task_json():
    spec = read_task_rules("Classify tweets as positive, negative or neutral.")
    assert TaskSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert any(line.startswith("output.classes: 3 (read from: ") for line in spec.lines())


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
