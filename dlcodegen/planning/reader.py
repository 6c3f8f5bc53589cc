"""Read the item-specific facts of a plan from the item's own text and write them into a neighbour's wording.

The retrieval planner picks the Input and Output of the most fitting neighbour; `adapt` then replaces what that
neighbour says about *its* data (image size, channels, number of classes) with what this item's requirement and
dataset attributes say, and leaves the wording alone where the item's text says nothing.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from dlcodegen.core.task import TaskSpec

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                 "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20}
_COUNT = r"(\d{1,4}|" + "|".join(_NUMBER_WORDS) + r")"
_CLASS_NOUNS = (r"(?:distinct |different |unique |disease |emotion |target |output |possible |main |)"
                r"(?:classes|categories|class labels|types|emotions|species|breeds|diseases|genres)")
_SIZE = re.compile(r"\b(\d{2,4})\s*[x×X]\s*(\d{2,4})(?:\s*[x×X]\s*(\d))?\b")
_TUPLE_SIZE = re.compile(r"\((?:[A-Za-z_][\w\s*]*,\s*)?(\d{2,4}),\s*(\d{2,4})(?:,\s*(\d))?\)")
_CLASS_COUNT = re.compile(rf"\b{_COUNT}\s+{_CLASS_NOUNS}\b", re.I)
_GRAYSCALE = re.compile(r"\b(gr[ae]y\s?-?scale|single[- ]channel|1 channel|one channel|black and white)\b", re.I)
_COLOR = re.compile(r"\b(rgb|colou?r(?:ed)? images?|3 channels|three (?:colou?r )?channels)\b", re.I)
# In a neighbour's text: a size tuple such as (batch_size, 224, 224, 3) and a count such as "7 classes".
_SHAPE_TUPLE = re.compile(r"\((\s*[A-Za-z_][\w\s*]*,\s*)?\d{2,4},\s*\d{2,4}(?:,\s*(\d))?\)")
_COUNTED_CLASSES = re.compile(r"\b\d{1,4}(?=\s+(?:[a-z]+\s)?(?:classes|categories)\b)")


@dataclass
class ItemFacts:
    size: tuple[int, int] | None = None  # (height, width) of an image
    channels: int | None = None
    num_classes: int | None = None

    @classmethod
    def of(cls, spec: TaskSpec) -> "ItemFacts":
        height, width = spec.input.height.value, spec.input.width.value
        return cls(size=(height, width) if height and width else None, channels=spec.input.channels.value,
                   num_classes=spec.output.classes.value)


def flat_attributes(attributes) -> str:
    """The attributes as plain text: a JSON object (DLPlanData's `json` format) flattened to `key: value` parts."""
    if attributes is None:
        return ""
    value = attributes
    if not isinstance(attributes, dict):
        text = str(attributes)
        if not text.lstrip().startswith("{"):
            return text
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if not isinstance(value, dict):
            return text
    return ". ".join(f"{key}: {', '.join(map(str, item)) if isinstance(item, list) else item}"
                     for key, item in value.items())


def _count(word: str) -> int | None:
    word = word.lower()
    value = int(word) if word.isdigit() else _NUMBER_WORDS.get(word)
    return value if value and 1 < value <= 1000 else None


def read_facts(requirement: str, attributes) -> ItemFacts:
    """What the requirement and attributes say about image size, channels and the number of classes."""
    text = f"{requirement} {flat_attributes(attributes)}"
    facts = ItemFacts()
    size = _SIZE.search(text) or _TUPLE_SIZE.search(text)
    if size:
        facts.size = (int(size.group(1)), int(size.group(2)))
        facts.channels = int(size.group(3)) if size.group(3) else None
    if facts.channels is None:
        facts.channels = 1 if _GRAYSCALE.search(text) else 3 if _COLOR.search(text) else None
    count = _CLASS_COUNT.search(text)
    if count:
        facts.num_classes = _count(count.group(1))
    return facts


def adapt(text: str, facts: "ItemFacts | TaskSpec") -> str:
    """A neighbour's Input or Output with its image size, channels and class count replaced by this item's."""
    if isinstance(facts, TaskSpec):
        facts = ItemFacts.of(facts)
    if facts.size:
        height, width = facts.size

        def size(match: re.Match) -> str:
            channels = facts.channels or match.group(3)
            return f"{height}x{width}" + (f"x{channels}" if match.group(3) else "")

        def shape(match: re.Match) -> str:
            channels = facts.channels or match.group(2)
            return f"({match.group(1) or ''}{height}, {width}" + (f", {channels})" if match.group(2) else ")")

        text = _SHAPE_TUPLE.sub(shape, _SIZE.sub(size, text))
    if facts.num_classes:
        text = _COUNTED_CLASSES.sub(str(facts.num_classes), text)
    return text
