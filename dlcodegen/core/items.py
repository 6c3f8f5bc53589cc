"""The items the pipeline works on: a benchmark `Item` (requirement, dataset attributes decoded once, reference), a
pool `Sample` and a `Retrieved` sample, and the one way dataset attributes become text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Union

from .errors import InputError
from .plan import Plan

# What a dataset's attributes may be: free text, or (DLPlanData's `json` format) a JSON object or list.
Attributes = Union[str, dict, list, None]
ATTRIBUTE_FORMATS = ("text", "json")


def attributes_text(attributes: Attributes) -> str:
    """The attributes as prompts and planners see them: text as it is, a dict or list as its JSON (key order kept)."""
    if attributes is None:
        return ""
    if isinstance(attributes, str):
        return attributes
    return json.dumps(attributes, ensure_ascii=False)


# `dataset_attributes` is a string column; `dataset_attributes_format` says how to read it back:
# "text" -> the upstream value was this string; "json" -> the upstream value was a dict (or list) and the column
# holds its JSON encoding (key order kept), so `decode_attributes` returns exactly the upstream value.

def encode_attributes(value: Attributes) -> tuple[str, str]:
    if isinstance(value, str):
        return value, "text"
    return json.dumps(value, ensure_ascii=False), "json"


def decode_attributes(text: str, fmt: str) -> Attributes:
    """Inverse of the card's `dataset_attributes` encoding: the upstream string or dict."""
    if fmt == "text":
        return text
    if fmt == "json":
        return json.loads(text)
    raise InputError(f"unknown dataset_attributes_format {fmt!r}: expected one of {', '.join(ATTRIBUTE_FORMATS)}")


@dataclass(frozen=True)
class Item:
    """One requirement to generate for: a DLCodeEval or DLPlanData row, or what a user typed (`id` None)."""

    requirement: str
    attributes: Attributes = ""
    id: int | None = None
    reference: str | None = None  # the reference code (DLCodeEval) or plan text (DLPlanData), when known

    @property
    def attributes_text(self) -> str:
        return attributes_text(self.attributes)

    @classmethod
    def from_row(cls, row: Mapping[str, Any], reference_column: str | None = None) -> "Item":
        """A dataset row (`user_requirement`, `dataset_attributes` [+ `dataset_attributes_format`], `id`)."""
        text = row.get("dataset_attributes") or ""
        fmt = row.get("dataset_attributes_format")
        attributes = decode_attributes(text, fmt) if fmt and text else text
        reference = row.get(reference_column) if reference_column else None
        return cls(row["user_requirement"], attributes, row.get("id"), reference)


@dataclass(frozen=True)
class Sample:
    """A code sample of the pool that Code RAG searches."""

    key: str  # "dlsamplepool/<id>" or "user/<12 hex of sha256(code)>"
    code: str
    requirement: str
    plan: Plan  # parsed once, when the pool is loaded
    source_id: int | None  # the DLCodeEval item this notebook is the reference of (None for user samples)


@dataclass(frozen=True)
class Retrieved:
    sample: Sample
    score: float
