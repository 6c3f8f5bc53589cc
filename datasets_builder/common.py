"""Pieces shared by the four builders: the config with a `source`, file location and attribute encoding."""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from dlcodegen.core.items import decode_attributes, encode_attributes  # noqa: F401 - re-exported for the builders
from dlcodegen.core.plan import ATTRIBUTES_LABEL as ATTRIBUTES_KEY, REQUIREMENT_LABEL as REQUIREMENT_KEY

from .raw import RawDataError, RawRecord
from .source import resolve_source

# `dataset_attributes` is a string column; `dataset_attributes_format` says how to read it back:
# "text" -> the upstream value was this string; "json" -> the upstream value was a dict (or list) and the column
# holds its JSON encoding (key order kept), so `decode_attributes` returns exactly the upstream value.
ATTRIBUTE_FEATURES = {
    "dataset_attributes": datasets.Value("string"),
    "dataset_attributes_format": datasets.Value("string"),
}


@dataclass
class ArtifactConfig(datasets.BuilderConfig):
    """`source`: artifact folder or base URL; `None` resolves as `resolve_source` documents."""

    source: str | None = None


def locate(config: ArtifactConfig, dl_manager, relpaths: dict[str, str]) -> dict[str, str]:
    """Local paths of the raw files, downloading them through `dl_manager` when the source is a URL."""
    source = resolve_source(config.source)
    located = {key: source.path_or_url(relpath) for key, relpath in relpaths.items()}
    return dl_manager.download(located) if source.is_remote else located


def read_text(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()



def requirement_fields(record: RawRecord, file: str) -> dict:
    """`user_requirement` and the encoded attributes of a raw record, checked."""
    requirement = record.value.get(REQUIREMENT_KEY)
    if not isinstance(requirement, str) or not requirement.strip():
        raise RawDataError(file, record.line, f"{REQUIREMENT_KEY!r} must be a non-empty string")
    attributes = record.value.get(ATTRIBUTES_KEY)
    if not isinstance(attributes, (str, dict, list)):
        raise RawDataError(file, record.line, f"{ATTRIBUTES_KEY!r} must be a string or an object, "
                                              f"got {type(attributes).__name__}")
    text, fmt = encode_attributes(attributes)
    return {"user_requirement": requirement, "dataset_attributes": text, "dataset_attributes_format": fmt}
