"""The task contract (issue 18, first part): what the user asked for, as a typed `TaskSpec` that every stage can
keep true: the task (a fixed taxonomy of families, each knowing the DLPlanData category spellings it covers), the
input and the output. Every fact carries the words it was read from, or says it was not stated.

Only the types and the taxonomy live here; reading a `TaskSpec` from a requirement is a planning stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

T = TypeVar("T")

InputKind = Literal["image", "volume", "video", "text", "tabular", "time_series", "audio", "noise", "image_text",
                    "graph"]
OutputKind = Literal["binary", "multiclass", "multilabel", "regression", "mask", "image", "tags", "text", "boxes",
                     "embedding", "ranking", "policy", "reconstruction"]


@dataclass(frozen=True)
class Fact(Generic[T]):
    """One fact about the task: its value and the words it was read from (`source`), or not stated (value None)."""

    value: T | None = None
    source: str | None = None  # the user's words ("128x128 RGB"), or a note such as "the task family's default"

    @property
    def stated(self) -> bool:
        return self.value is not None


NOT_STATED: Fact = Fact()


@dataclass(frozen=True)
class TaskFamily:
    name: str  # the key used everywhere (`TaskSpec.task.value`)
    title: str  # the DLPlanData spelling a plan's "Task Category" gets
    input: InputKind
    output: OutputKind  # the usual output; a TaskSpec may state another (multilabel text classification...)
    categories: tuple[str, ...] = ()  # further DLPlanData spellings this family covers


FAMILIES: dict[str, TaskFamily] = {family.name: family for family in (
    TaskFamily("image_classification", "Image Classification", "image", "multiclass",
               ("Multi-Label Classification", "Image Localization and Classification",
                "Clustering and Image Classification")),
    TaskFamily("image_segmentation", "Image Segmentation", "image", "mask",
               ("Image Segmentation and Classification", "Image Classification and Image Segmentation",
                "Image Classification, Image Segmentation", "Image Reconstruction and Segmentation")),
    TaskFamily("object_detection", "Object Detection", "image", "boxes",
               ("Image Object Detection", "Image Classification and Object Detection")),
    TaskFamily("image_to_image", "Image-to-Image", "image", "image",
               ("Image-to-Image Translation", "Image Processing", "Image Denoising", "Image Reconstruction",
                "Image Super-Resolution")),
    TaskFamily("image_generation", "Image Generation", "noise", "image", ("3D Shape Generation",)),
    TaskFamily("image_captioning", "Image Captioning", "image", "text",
               ("Image-to-Text", "Image Caption Generation", "Image Processing and Text Recognition",
                "Image Detection and Text Recognition", "Image-to-Image, Image-to-Text")),
    TaskFamily("image_similarity", "Image Retrieval", "image", "embedding"),
    TaskFamily("image_regression", "Image Regression", "image", "regression",
               ("Image and Tabular Regression", "Tabular and Image Regression",
                "Tabular Regression and Image Classification", "Image and Tabular Data Fusion",
                "Tabular and Image Data Fusion",
                "Tabular and Image Data Fusion for Regression")),
    TaskFamily("video_classification", "Video Classification", "video", "multiclass"),
    TaskFamily("text_classification", "Text Classification", "text", "multiclass",
               ("Text Processing and Classification", "Text Analysis", "Text Analysis and Visualization",
                "Text Regression", "Text Summarization and Classification", "Sentence Similarity",
                "Text Classification or Similarity Analysis", "Sequence Classification")),
    TaskFamily("multimodal_classification", "Text and Image Classification", "image_text", "multiclass",
               ("Image and Text Classification", "Image Classification and Text Classification",
                "Image Classification and Text Processing", "Image and Text Multi-Output Classification")),
    TaskFamily("token_classification", "Token Classification", "text", "tags"),
    TaskFamily("translation", "Translation", "text", "text",
               ("Text-to-Text", "Text-to-Text Translation", "Text Translation")),
    TaskFamily("text_generation", "Text Generation", "text", "text",
               ("Text Summarization", "Summarization")),
    TaskFamily("question_answering", "Question Answering", "text", "text"),
    TaskFamily("tabular_classification", "Tabular Classification", "tabular", "multiclass",
               ("Tabular Classification and Regression", "Tabular Regression or Classification",
                "Tabular Regression and Tabular Classification", "Data Analysis and Machine Learning",
                "Tabular Clustering")),
    TaskFamily("tabular_regression", "Tabular Regression", "tabular", "regression"),
    TaskFamily("time_series_forecasting", "Time Series Forecasting", "time_series", "regression",
               ("Time Series Prediction", "Time-series Forecasting", "Sequence Prediction", "Motion Prediction",
                "Sequential Model Training for Trajectory Prediction")),
    TaskFamily("time_series_classification", "Time Series Classification", "time_series", "multiclass",
               ("EEG Signal Classification", "Graph Signal Classification")),
    TaskFamily("anomaly_detection", "Anomaly Detection", "time_series", "reconstruction",
               ("Time Series Anomaly Detection", "Outlier Detection")),
    TaskFamily("audio_classification", "Audio Classification", "audio", "multiclass"),
    TaskFamily("speech_recognition", "Speech Recognition", "audio", "text",
               ("Audio Source Separation", "Audio Reconstruction")),
    TaskFamily("recommendation", "Recommendation System", "tabular", "ranking"),
    TaskFamily("reinforcement_learning", "Reinforcement Learning", "tabular", "policy"),
)}


# DLPlanData's spellings seen once each, by the family they belong to.
RARE_SPELLINGS = {
    "Image Localization": "object_detection", "Text-to-Image": "image_generation",
    "Image Generation and Manipulation": "image_generation", "Ensemble Learning": "tabular_classification",
    "Data Analysis and Visualization": "tabular_classification", "Text Classification, Question Answering":
    "text_classification", "Text Clustering": "text_classification", "Text-to-Text, Text Similarity": "translation",
    "Text Segmentation": "token_classification", "Text and Audio Data Prediction": "audio_classification",
    "Text and Audio Multimodal Analysis": "audio_classification", "Audio Emotion Recognition": "audio_classification",
    "Audio Processing": "audio_classification", "Image Classification and Regression": "image_classification",
    "Image Classification, Audio Classification": "image_classification",
    "Medical Image Analysis": "image_classification", "Image Classification and Clustering": "image_classification",
    "Image Classification, Image Segmentation, Clustering": "image_segmentation",
    "Tabular Regression, Image Classification": "image_regression", "Multimodal Regression": "image_regression",
    "Image Processing and Regression": "image_regression", "Tabular Regression and Image Regression":
    "image_regression", "Image Clustering": "image_similarity", "Image and Text Matching": "image_similarity",
    "Multi-Modal Classification": "multimodal_classification",
    "Multi-Input Text and Image Classification": "multimodal_classification", "Regression": "tabular_regression",
    "Model Blending and Prediction": "tabular_regression", "Indoor Location Prediction": "tabular_regression",
    "Tabular Data Denoising": "tabular_regression",
}


def _key(category: str) -> str:
    return re.sub(r"[^a-z0-9]", "", category.lower())


_BY_CATEGORY = {**{_key(spelling): FAMILIES[name] for spelling, name in RARE_SPELLINGS.items()},
                **{_key(spelling): family for family in FAMILIES.values()
                   for spelling in (family.title, *family.categories)}}


def family_of_category(category: str | None) -> TaskFamily | None:
    """The family a plan's "Task Category" spelling belongs to (case and punctuation ignored), None if unknown."""
    return _BY_CATEGORY.get(_key(category)) if category else None


@dataclass(frozen=True)
class InputSpec:
    kind: Fact[str] = NOT_STATED  # an InputKind
    height: Fact[int] = NOT_STATED
    width: Fact[int] = NOT_STATED
    channels: Fact[int] = NOT_STATED
    depth: Fact[int] = NOT_STATED  # volumes: slices
    sequence_length: Fact[int] = NOT_STATED  # tokens, time steps or frames
    features: Fact[int] = NOT_STATED  # tabular columns, or values per time step
    sample_rate: Fact[int] = NOT_STATED  # audio, Hz
    clip_seconds: Fact[float] = NOT_STATED
    vocabulary: Fact[int] = NOT_STATED


@dataclass(frozen=True)
class OutputSpec:
    kind: Fact[str] = NOT_STATED  # an OutputKind
    classes: Fact[int] = NOT_STATED  # classes of a classifier, or of a mask
    class_names: Fact[tuple] = NOT_STATED
    targets: Fact[int] = NOT_STATED  # regression targets
    horizon: Fact[int] = NOT_STATED  # forecasting steps ahead
    target_column: Fact[str] = NOT_STATED


@dataclass(frozen=True)
class TaskSpec:
    """What the user asked for. `task.value` is a key of FAMILIES."""

    task: Fact[str] = NOT_STATED
    input: InputSpec = field(default_factory=InputSpec)
    output: OutputSpec = field(default_factory=OutputSpec)

    @property
    def family(self) -> TaskFamily | None:
        return FAMILIES.get(self.task.value) if self.task.value else None

    def facts(self) -> dict[str, Fact]:
        """Every fact by its dotted name ("task", "input.height", "output.classes", ...)."""
        found: dict[str, Fact] = {"task": self.task}
        for prefix, part in (("input", self.input), ("output", self.output)):
            for name in part.__dataclass_fields__:
                found[f"{prefix}.{name}"] = getattr(part, name)
        return found

    def to_dict(self) -> dict:
        """`{"task": {"value", "source"}, "input": {name: {"value", "source"}}, "output": {...}}`, stated facts only
        (task.json); a fact that is absent was not stated."""
        def part(spec) -> dict:
            return {name: fact_dict(fact) for name in spec.__dataclass_fields__
                    if (fact := getattr(spec, name)).stated}

        return {"task": fact_dict(self.task), "input": part(self.input), "output": part(self.output)}

    @classmethod
    def from_dict(cls, data: dict) -> "TaskSpec":
        def facts(part: dict | None, spec_type):
            known = spec_type.__dataclass_fields__
            return spec_type(**{name: _fact(value) for name, value in (part or {}).items() if name in known})

        return cls(task=_fact(data.get("task")), input=facts(data.get("input"), InputSpec),
                   output=facts(data.get("output"), OutputSpec))

    def lines(self) -> list[str]:
        """One line per stated fact, "name: value (read from: words)", for the CLI and the Space."""
        return [f"{name}: {_shown(fact.value)} (read from: {fact.source or 'not said'})"
                for name, fact in self.facts().items() if fact.stated]


def fact_dict(fact: Fact) -> dict:
    value = list(fact.value) if isinstance(fact.value, tuple) else fact.value
    return {"value": value, "source": fact.source}


def _fact(data) -> Fact:
    if not isinstance(data, dict) or data.get("value") is None:
        return NOT_STATED
    value = data["value"]
    return Fact(tuple(value) if isinstance(value, list) else value, data.get("source"))


def _shown(value) -> str:
    return ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
