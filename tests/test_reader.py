"""The item-specific facts a plan takes from its own item's text, and how they rewrite a neighbour's wording."""

import pytest

from dlcodegen.planning.reader import ItemFacts, adapt, flat_attributes, read_facts


@pytest.mark.parametrize("requirement, attributes, expected", [
    # image classification: size, grayscale and the class count
    ("I want to classify facial expressions with a CNN.",
     "The dataset consists of 48x48 grayscale face images in seven emotion classes.", ItemFacts((48, 48), 1, 7)),
    # image classification: a shape tuple with channels, counted categories
    ("I aim to classify plant diseases.", "Images of shape (256, 256, 3) in 38 categories.", ItemFacts((256, 256), 3, 38)),
    # image segmentation: a size and RGB, no classes
    ("I need to segment tumours in MRI scans with a U-Net.", "RGB images of 128 x 128 pixels with binary masks.",
     ItemFacts((128, 128), 3, None)),
    # text classification: only a class count
    ("I want to classify news articles into 4 categories with an LSTM.", "", ItemFacts(None, None, 4)),
    # tabular regression: nothing to read, so the neighbours' wording is kept
    ("I want to predict house prices from tabular features.", "Columns: area, rooms, price.", ItemFacts()),
    # JSON attributes (DLPlanData's json format) are read as text
    ("I want to build a digit classifier.", '{"Data Each Instance Consists": "28x28 grayscale images", '
                                            '"Target Labels List": ["0", "1"], "Classes": "ten classes"}',
     ItemFacts((28, 28), 1, 10)),
])
def test_read_facts_per_task_category(requirement, attributes, expected):
    assert read_facts(requirement, attributes) == expected


def test_attributes_text_flattens_json_objects_and_keeps_plain_text():
    assert flat_attributes('{"a": "x", "labels": ["cat", "dog"]}') == "a: x. labels: cat, dog"
    assert flat_attributes({"a": 1}) == "a: 1"
    assert flat_attributes("plain {text}") == "plain {text}"
    assert flat_attributes('{"not json') == '{"not json'
    assert flat_attributes(None) == ""


def test_adapt_writes_the_item_facts_into_the_neighbours_wording():
    facts = ItemFacts((48, 48), 1, 7)
    assert adapt("Images resized to 224x224 pixels", facts) == "Images resized to 48x48 pixels"
    assert adapt("Images of size 224x224x3", facts) == "Images of size 48x48x1"
    assert adapt("Shape of the input data is (batch_size, 224, 224, 3).", facts) == \
        "Shape of the input data is (batch_size, 48, 48, 1)."
    assert adapt("5 disease categories", facts) == "7 disease categories"
    assert adapt("10 classes (airplane, ...)", facts) == "7 classes (airplane, ...)"


def test_adapt_leaves_text_alone_where_the_item_says_nothing():
    text = "Images of size 224x224 with 10 classes"
    assert adapt(text, ItemFacts()) == text
    assert adapt("Shape (batch_size, 224, 224)", ItemFacts(size=(64, 32))) == "Shape (batch_size, 64, 32)"
