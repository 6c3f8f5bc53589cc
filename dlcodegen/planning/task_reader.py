"""Reading the task contract from the user's own words: the rules part of `read_task` (issue 18).

Rules fire only on what the words state unambiguously: a family named by its verb or object (forecast, translate,
segment, generate, detect with boxes, spoken/speech/waveform audio, part-of-speech or entity tags, ...), an image
size ("128x128", "32 x 32 pixels"), channels ("RGB", "grayscale"), a class count ("43 classes", "two groups",
"binary"), a forecasting horizon ("the next 24 hours"). Negations keep the family the sentence is about: "classify
generated images" is a classification. Each fact keeps the words it was read from; what no rule reads stays
not stated, for the trained classifier (not built yet) or the planner to decide.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlcodegen.core.items import Attributes, attributes_text
from dlcodegen.core.task import FAMILIES, NOT_STATED, Fact, InputSpec, OutputSpec, TaskSpec

_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                 "eleven": 11, "twelve": 12, "twenty": 20, "hundred": 100}
_NUMBER = r"(\d+|" + "|".join(_NUMBER_WORDS) + r")"


@dataclass(frozen=True)
class _Rule:
    family: str
    pattern: re.Pattern


def _rule(family: str, pattern: str) -> _Rule:
    return _Rule(family, re.compile(pattern, re.I))


# In order: the first rule that matches names the family. Specific verbs before the general "classify".
_FAMILY_RULES = (
    _rule("translation", r"\btranslat\w*\b"),
    _rule("question_answering", r"\b(answer\w* questions?|question[- ]answering)\b"),
    _rule("token_classification",
          r"\b(part[- ]of[- ]speech|pos[- ]tag\w*|named[- ]entit\w*|ner\b|tag each (word|token))"),
    _rule("image_captioning", r"\b(caption\w*|describe (an |the )?images?)\b"),
    _rule("speech_recognition", r"\b(speech[- ]to[- ]text|transcrib\w*|speech recognition)\b"),
    _rule("audio_classification", r"\b(spoken|speech|waveforms?|audio|sound clips?|recordings?)\b"),
    _rule("time_series_forecasting",
          r"\b(forecast\w*|predict\w* (the )?next \d*\s*(hours?|days?|weeks?|months?|steps?))"),
    _rule("image_segmentation", r"\b(segment\w*|pixel[- ]wise|masks? for)\b"),
    _rule("object_detection", r"\b(detect\w*|locat\w*)\b[^.]*\b(bounding )?box(es)?\b|\bobject detection\b"),
    _rule("image_to_image",
          r"\b(denois\w*|super[- ]resolution|upscal\w*|coloriz\w*|inpaint\w*|restor\w* (old )?photos?)\b"),
    # "classify generated images" is a classification: the negative look-ahead keeps it out
    _rule("image_generation", r"^(?!.*\bclassif\w* (the )?generated\b).*\b(generat\w*|synthesi[sz]\w*)\b.*"
                              r"\b(images?|digits?|faces?|pictures?)\b"),
    _rule("recommendation", r"\b(recommend\w*)\b"),
)
_SIZE = re.compile(r"\b(\d{2,4})\s*[x×]\s*(\d{2,4})(?:\s*(?:px|pixels?))?\b", re.I)
_CHANNELS = ((re.compile(r"\b(rgb|colou?r (images?|photos?))\b", re.I), 3),
             (re.compile(r"\b(gr[ae]y[- ]?scale|black[- ]and[- ]white|single[- ]channel|monochrome)\b", re.I), 1))
_CLASSES = re.compile(_NUMBER + r"\s+(?:[a-z-]+\s+){0,2}?(classes|categories|labels|groups|kinds|types|species|breeds|"
                                r"words|folders)\b", re.I)
_BINARY = re.compile(r"\b(binary|two classes|either \w+ or \w+|\w+ (vs\.?|versus) \w+)\b", re.I)
_HORIZON = re.compile(r"\bnext\s+" + _NUMBER + r"\s+(hours?|days?|weeks?|months?|steps?|time steps?)\b", re.I)


def _number(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS[word.lower()]


def read_family(text: str) -> Fact[str]:
    for rule in _FAMILY_RULES:
        match = rule.pattern.search(text)
        if match:
            return Fact(rule.family, match.group(0).strip())
    return NOT_STATED


def _image_facts(text: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    if size := _SIZE.search(text):
        words = size.group(0)
        facts["height"], facts["width"] = Fact(int(size.group(1)), words), Fact(int(size.group(2)), words)
    for pattern, channels in _CHANNELS:
        if found := pattern.search(text):
            facts["channels"] = Fact(channels, found.group(0))
            break
    return facts


def _output_facts(text: str) -> dict[str, Fact]:
    facts: dict[str, Fact] = {}
    if classes := _CLASSES.search(text):
        facts["classes"] = Fact(_number(classes.group(1)), classes.group(0))
    elif binary := _BINARY.search(text):
        facts["classes"] = Fact(2, binary.group(0))
    if horizon := _HORIZON.search(text):
        facts["horizon"] = Fact(_number(horizon.group(1)), horizon.group(0))
    return facts


def read_task_rules(requirement: str, attributes: Attributes = "") -> TaskSpec:
    """What the requirement and its attributes state unambiguously, each fact with the words it was read from."""
    text = f"{requirement} {attributes_text(attributes)}"
    task = read_family(requirement)
    if not task.stated:
        task = read_family(attributes_text(attributes))
    family = FAMILIES.get(task.value) if task.value else None
    image = _image_facts(text)
    output = _output_facts(text)
    input_kind = Fact(family.input, f"the {family.title} family") if family else (
        Fact("image", "an image size") if "height" in image else NOT_STATED)
    output_kind = NOT_STATED
    if family is not None:
        output_kind = Fact(family.output, f"the {family.title} family")
    if "classes" in output and (family is None or family.output == "multiclass"):
        output_kind = Fact("binary" if output["classes"].value == 2 else "multiclass", output["classes"].source)
    return TaskSpec(task=task, input=InputSpec(kind=input_kind, **image),
                    output=OutputSpec(kind=output_kind, **output))
