"""The task family where the words leave it open: a linear text classifier over the taxonomy's families, trained on
more than DLPlanData's one phrasing.

DLPlanData's requirements all read "I want to build ... model for ... using ...": a classifier fitted on them
learns the phrasing. Each training item is therefore shown several ways (`variants`): the requirement with its
attributes, the requirement alone, the attributes alone, the requirement's core clause ("classify cassava leaf
diseases into 5 categories"), and that clause reworded the ways people write ("train a model to ...", "how do I
...?", lower case, with the first sentence of the attributes). The variants of one item (and of its near-copies)
are held out together in cross-validation (`training/task_classifier.py`), so the chosen config is the one that
reads new wordings best, not the one that memorises the items.
"""

from __future__ import annotations

import logging
import random
import re
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from dlcodegen.core.items import Attributes
from dlcodegen.core.task import family_of_category
from dlcodegen.planning.classify import DEFAULT_FOLDER, TextClassifier, TextClassifierConfig, item_text
from dlcodegen.planning.reader import flat_attributes

logger = logging.getLogger(__name__)

FOLDER_NAME = "task_family"  # under the shipped plan classifiers
DEFAULT_CONFIG = TextClassifierConfig(word_ngrams=(1, 2), min_df=1, max_features=12000, model="svm", C=1.0,
                                      class_weight="balanced")

_PREFIX = re.compile(r"^\s*(?:i|we)\s+(?:want|need|would like|aim|plan|intend|am trying|'m trying|wish)\s+to\s+"
                     r"(?:(?:build|develop|create|train|implement|design|construct|perform|conduct|use|apply|"
                     r"explore|analy[sz]e|evaluate|compare|fine-tune|leverage|utili[sz]e|work on)\s*(?:,\s*|and\s+|"
                     r"or\s+)?)*(?:(?:a|an|the|various|multiple|several|different|some)\s+)?", re.I)
_MODEL_NOUN = re.compile(r"^(?:[\w-]+\s+){0,4}?(?:models?|networks?|pipelines?|systems?|classifiers?|solutions?|"
                         r"approach(?:es)?|code|architectures?|tasks?)\s+(?:to|for|that|which|capable of)\s+", re.I)
_CLAUSE_END = re.compile(r",| using | with | while | by | and (?:evaluate|explore|visuali[sz]e|compare|analy[sz]e)|"
                         r" leveraging | employing | incorporating ", re.I)
_REWORDINGS = ("{core}", "Train a model to {core}.", "How do I {core}?", "{core} with deep learning",
               "{core}. {attributes}", "Build a neural network to {core}", "{core} in keras")


def core_clause(requirement: str) -> str:
    """"I want to build a model for classifying X using Y, and ..." -> "classifying X"."""
    text = _MODEL_NOUN.sub("", _PREFIX.sub("", requirement.strip()), count=1)
    end = _CLAUSE_END.search(text)
    core = (text[:end.start()] if end and end.start() > 12 else text).strip(" .")
    return core or requirement.strip()


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0] if text else ""


def variants(requirement: str, attributes: Attributes, rng: random.Random) -> list[str]:
    """The ways one item is shown to the classifier (see the module docstring)."""
    attributes_text = flat_attributes(attributes)
    core = core_clause(requirement)
    texts = [item_text(requirement, attributes_text), requirement, core]
    if attributes_text.strip():
        texts.append(attributes_text)
    for template in rng.sample(_REWORDINGS, 2):
        text = template.format(core=core, attributes=_first_sentence(attributes_text))
        texts.append(text.lower() if rng.random() < 0.5 else text)
    return list(dict.fromkeys(text for text in texts if text.strip()))


def family_label(row: dict) -> str | None:
    """A row's family: its `family` key (real-world items are labelled with one), else its DLPlanData category's."""
    if row.get("family"):
        return row["family"]
    family = family_of_category(row.get("task_category"))
    return family.name if family else None


def realworld_rows(path: str | Path) -> list[dict]:
    """The real-world task items (`datasets_builder/realworld_tasks`) as training rows of `training_texts`."""
    import json

    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [{"user_requirement": row["requirement"], "dataset_attributes": row["attributes"], "family": row["task"]}
            for row in map(json.loads, filter(str.strip, lines))]


def training_texts(rows: Sequence[dict], seed: int = 0) -> tuple[list[str], list[str], list[int]]:
    """(texts, family labels, item index) of every variant of the rows whose category belongs to a family."""
    rng = random.Random(seed)
    texts, labels, items = [], [], []
    for index, row in enumerate(rows):
        label = family_label(row)
        if label is None:
            continue
        for text in variants(row["user_requirement"], row["dataset_attributes"], rng):
            texts.append(text)
            labels.append(label)
            items.append(index)
    return texts, labels, items


def _identity(label: str | None) -> str | None:
    return label or None


class TaskClassifier:
    """Predicts a family key of `dlcodegen.core.task.FAMILIES` from a requirement and its attributes."""

    def __init__(self, classifier: TextClassifier):
        self.classifier = classifier

    @classmethod
    def fit(cls, rows: Sequence[dict], config: TextClassifierConfig | None = None, seed: int = 0) -> "TaskClassifier":
        texts, labels, _ = training_texts(rows, seed)
        return cls(TextClassifier(config or DEFAULT_CONFIG, normalize=_identity).fit(texts, labels))

    @classmethod
    def load(cls, folder: str | Path) -> "TaskClassifier":
        return cls(TextClassifier.load(folder, normalize=_identity))

    def save(self, folder: str | Path) -> Path:
        return self.classifier.save(folder)

    def predict_family(self, requirement: str, attributes: Attributes = "") -> str:
        return self.classifier.predict_keys([item_text(requirement, flat_attributes(attributes))])[0]

    def predict_families(self, items: Sequence[tuple[str, Attributes]]) -> list[str]:
        return self.classifier.predict_keys([item_text(r, flat_attributes(a)) for r, a in items])


def shipped_folder() -> Path:
    return DEFAULT_FOLDER / FOLDER_NAME


@lru_cache(maxsize=1)
def default_task_classifier() -> TaskClassifier:
    """The shipped classifier; fitted on DLPlanData-train (a few seconds, with a warning) when it is absent."""
    folder = shipped_folder()
    if (folder / "classifier.json").is_file():
        return TaskClassifier.load(folder)
    from dlcodegen.data import load_local

    logger.warning("no shipped task classifier in %s: fitting one on DLPlanData train instead", folder)
    return TaskClassifier.fit(list(load_local("dlplandata", split="train")))
