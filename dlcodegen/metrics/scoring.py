"""CodeBLEU scoring with normalisation and a cache of prepared references.

A leaderboard scores many submissions against the same references: the references are normalised and analysed
once per process (keyed by their content) and reused by every later call.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from dlcodegen.metrics.codebleu import DEFAULT_WEIGHTS, PreparedCode, PreparedReference, corpus_codebleu
from dlcodegen.metrics.normalize import NORMALIZATIONS, normalize

_CACHE_SIZE = 8


@dataclass
class PreparedReferences:
    references: list[list[PreparedReference]]
    unformatted: int  # references black could not format (dlcodegen normalisation only)


_cache: OrderedDict[str, PreparedReferences] = OrderedDict()


def _as_lists(references: Sequence[str | Sequence[str]]) -> list[list[str]]:
    lists = []
    for position, refs in enumerate(references):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs or not all(isinstance(ref, str) for ref in refs):
            raise ValueError(f"reference {position} must be a string or a non-empty list of strings")
        lists.append(refs)
    return lists


def _key(references: list[list[str]], lang: str, mode: str) -> str:
    digest = hashlib.sha256(f"{lang}\0{mode}".encode())
    for refs in references:
        digest.update(b"\1")
        for ref in refs:
            digest.update(ref.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def prepared_references(references: Sequence[str | Sequence[str]], lang: str = "python",
                        mode: str = "none") -> PreparedReferences:
    lists = _as_lists(references)
    key = _key(lists, lang, mode)
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    prepared, unformatted = [], 0
    for refs in lists:
        normalized = [normalize(ref, mode) for ref in refs]
        unformatted += sum(not item.black_formatted for item in normalized) if mode != "none" else 0
        prepared.append([PreparedReference(item.text, lang) for item in normalized])
    _cache[key] = PreparedReferences(prepared, unformatted)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return _cache[key]


def score_codebleu(predictions: Sequence[str], references: Sequence[str | Sequence[str]], lang: str = "python",
                   weights: Sequence[float] = DEFAULT_WEIGHTS, normalize_mode: str = "none",
                   per_item: bool = False) -> dict:
    """CodeBLEU of `predictions` against `references` after `normalize_mode` ("none", "dlcodegen", ...)."""
    if normalize_mode not in NORMALIZATIONS:
        raise ValueError(f"unknown normalize={normalize_mode!r}; choose one of {', '.join(NORMALIZATIONS)}")
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references: "
                         "each prediction needs its reference(s)")
    refs = prepared_references(references, lang, normalize_mode)
    normalized = [normalize(prediction or "", normalize_mode) for prediction in predictions]
    result = corpus_codebleu([PreparedCode(item.text, lang) for item in normalized], refs.references, lang,
                             weights, per_item)
    if normalize_mode != "none":
        result["unformatted_predictions"] = sum(not item.black_formatted for item in normalized)
        result["unformatted_references"] = refs.unformatted
    return result
