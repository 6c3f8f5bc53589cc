"""Scoring generated code: CodeBLEU after normalisation (with a cache of prepared references), and the summary that
`bench` and the leaderboard both report (`score_generations`: CodeBLEU, mean lines beside the references', plan
adherence).

One scale: every score the package reports is in percent (0-100): CodeBLEU and its four components here, plan
adherence (`adherence`), the plan metrics (`plan_metrics`), the leaderboard. The CodeBLEU engine
(`codebleu.corpus_codebleu`) alone answers fractions in [0, 1], the scale of the `codebleu` package it is tested
equal to; `score_codebleu` is the one place they become percent. One default normalisation: `"dlcodegen"`
(`normalize.DEFAULT_NORMALIZATION`, the paper's post-processing read literally).

A leaderboard scores many submissions against the same references: the references are normalised and analysed
once per process (keyed by their content) and reused by every later call.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

from dlcodegen.core.plan import Plan
from dlcodegen.metrics.codebleu import DEFAULT_WEIGHTS, PreparedCode, PreparedReference, corpus_codebleu
from dlcodegen.metrics.normalize import DEFAULT_NORMALIZATION, NORMALIZATIONS, NormalizedCode, normalize

_CACHE_SIZE = 8
CODEBLEU_KEYS = ("codebleu", "ngram_match_score", "weighted_ngram_match_score", "syntax_match_score",
                 "dataflow_match_score")


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
                        mode: str = DEFAULT_NORMALIZATION) -> PreparedReferences:
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


def _percent(fractions: dict) -> dict:
    return {key: 100 * fractions[key] for key in CODEBLEU_KEYS}


def _check(normalize_mode: str, predictions: Sequence, references: Sequence) -> None:
    if normalize_mode not in NORMALIZATIONS:
        raise ValueError(f"unknown normalize={normalize_mode!r}; choose one of {', '.join(NORMALIZATIONS)}")
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references: "
                         "each prediction needs its reference(s)")


def _score_normalized(normalized: list[NormalizedCode], references: Sequence[str | Sequence[str]], lang: str,
                      weights: Sequence[float], normalize_mode: str, per_item: bool) -> dict:
    refs = prepared_references(references, lang, normalize_mode)
    fractions = corpus_codebleu([PreparedCode(item.text, lang) for item in normalized], refs.references, lang,
                                weights, per_item)
    result = _percent(fractions)
    if per_item:
        result["per_item"] = [_percent(item) for item in fractions["per_item"]]
    if normalize_mode != "none":
        result["unformatted_predictions"] = sum(not item.black_formatted for item in normalized)
        result["unformatted_references"] = refs.unformatted
    return result


def score_codebleu(predictions: Sequence[str], references: Sequence[str | Sequence[str]], lang: str = "python",
                   weights: Sequence[float] = DEFAULT_WEIGHTS, normalize_mode: str = DEFAULT_NORMALIZATION,
                   per_item: bool = False) -> dict:
    """CodeBLEU and its four components (`CODEBLEU_KEYS`), in percent (0-100), of `predictions` against
    `references` after `normalize_mode` (default `"dlcodegen"`; one of `NORMALIZATIONS`). `per_item` adds the five
    scores of each pair alone; a dlcodegen normalisation adds `unformatted_predictions` and `unformatted_references`
    (documents black could not parse, scored unformatted)."""
    _check(normalize_mode, predictions, references)
    normalized = [normalize(prediction or "", normalize_mode) for prediction in predictions]
    return _score_normalized(normalized, references, lang, weights, normalize_mode, per_item)


def count_lines(code: str) -> int:
    """`str.splitlines`, as `bench`, the leaderboard and the README's tables count lines."""
    return len(code.splitlines())


@dataclass(frozen=True)
class GenerationScores:
    """What `bench` and the leaderboard report of a set of generations; every score in percent (0-100)."""

    codebleu: dict  # `score_codebleu` (default normalisation): codebleu, its four components, unformatted counts
    mean_lines: float
    reference_mean_lines: float
    adherence: dict[str, float | None] | None  # `mean_adherence` over the items with a plan; None: no item had one
    normalized: list[str]  # each generation as CodeBLEU saw it (the leaderboard cuts its baselines to their length)

    @property
    def items(self) -> int:
        return len(self.normalized)


def score_generations(codes: Sequence[str], references: Sequence[str],
                      plans: Sequence[Plan | None]) -> GenerationScores:
    """CodeBLEU (`normalize="dlcodegen"`) of `codes` against `references`, their mean line count beside the
    references', and plan adherence of `codes[i]` to `plans[i]` (None: item i is not judged). Callers choose the
    plans: the plan each item was generated from, else a planner's prediction for it."""
    _check(DEFAULT_NORMALIZATION, codes, references)
    if len(plans) != len(codes):
        raise ValueError(f"got {len(plans)} plans for {len(codes)} generations")
    if not codes:
        raise ValueError("no generations to score")
    from dlcodegen.metrics.adherence import mean_adherence, plan_adherence

    normalized = [normalize(code or "", DEFAULT_NORMALIZATION) for code in codes]
    codebleu = _score_normalized(normalized, references, "python", DEFAULT_WEIGHTS, DEFAULT_NORMALIZATION, False)
    judged = [plan_adherence(code, plan) for code, plan in zip(codes, plans) if plan is not None]
    return GenerationScores(
        codebleu=codebleu,
        mean_lines=sum(map(count_lines, codes)) / len(codes),
        reference_mean_lines=sum(map(count_lines, references)) / len(references),
        adherence=mean_adherence(judged) if judged else None,
        normalized=[item.text for item in normalized])
