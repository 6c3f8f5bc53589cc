"""CodeBLEU (Ren et al., 2020) as CodeXGLUE defines it, with every document analysed once.

Scores equal the `codebleu` PyPI package (which copies CodeXGLUE) to floating-point precision, with one deliberate
difference: the package adds `theta * 1` when the corpus dataflow score is 0 (`dataflow_match_score or 1`, its
issue #59); CodeXGLUE, and this module, add `theta * 0`.

Speed comes from analysing each document once: tokens, n-gram counts, the tree-sitter parse, the subtree
s-expressions and the data-flow graph are computed per document (`PreparedCode`), not per (prediction, reference)
pair, and matched with hash sets/multisets instead of list scans. A leaderboard prepares the references once
(`prepare_references`) and scores every submission against them.

This engine alone answers fractions in [0, 1], the `codebleu` package's scale, so that it can be checked equal to
it; the package reports CodeBLEU in percent through `dlcodegen.metrics.scoring.score_codebleu`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

NGRAM_ORDERS = 4
KEYWORD_WEIGHT, OTHER_WEIGHT = 1, 0.2
SMOOTHING_EPSILON = 0.1
DEFAULT_WEIGHTS = (0.25, 0.25, 0.25, 0.25)


@lru_cache(maxsize=None)
def _language(lang: str):
    from codebleu.utils import AVAILABLE_LANGS, get_tree_sitter_language

    if lang not in AVAILABLE_LANGS:
        raise ValueError(f"unsupported language {lang!r}; CodeBLEU supports {', '.join(AVAILABLE_LANGS)}")
    try:
        return get_tree_sitter_language(lang)
    except ImportError as error:
        raise ValueError(f"the tree-sitter grammar for {lang!r} is not installed ({error})") from None


@lru_cache(maxsize=None)
def _keywords(lang: str) -> frozenset[str]:
    import codebleu

    path = Path(codebleu.__file__).parent / "keywords" / f"{lang}.txt"
    return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines())


@lru_cache(maxsize=None)
def _parser(lang: str):
    from tree_sitter import Parser

    parser = Parser()
    parser.language = _language(lang)
    return parser


def _clean(text: str, lang: str) -> str:
    from codebleu.parser import remove_comments_and_docstrings

    try:
        return remove_comments_and_docstrings(text, lang)
    except Exception:  # noqa: BLE001 - CodeXGLUE scores the text unchanged when tokenize fails
        return text


def _subtree_sexps(root) -> Counter:
    """S-expressions of the root and of every descendant that has children (CodeXGLUE's get_all_sub_trees)."""
    sexps: Counter = Counter()
    stack = [root]
    while stack:
        node = stack.pop()
        sexps[str(node)] += 1
        stack.extend(child for child in node.children if child.children)
    return sexps


def _dataflow(text: str, tree, lang: str) -> Counter:
    """The normalised data-flow multiset, computed exactly as CodeXGLUE's get_data_flow + normalize_dataflow."""
    from codebleu.dataflow_match import dfg_function, normalize_dataflow
    from codebleu.parser import index_to_code_token, tree_to_token_index

    try:
        root = tree.root_node
        tokens_index = tree_to_token_index(root)
        lines = text.split("\n")
        code_tokens = [index_to_code_token(index, lines) for index in tokens_index]
        index_to_code = {index: (position, token) for position, (index, token) in
                         enumerate(zip(tokens_index, code_tokens))}
        try:
            graph, _ = dfg_function[lang](root, index_to_code, {})
        except Exception:  # noqa: BLE001 - as CodeXGLUE: a DFG failure means an empty graph
            graph = []
        graph = sorted(graph, key=lambda item: item[1])
        used = set()
        for item in graph:
            if len(item[-1]) != 0:
                used.add(item[1])
            used.update(item[-1])
        graph = [item for item in graph if item[1] in used]
    except Exception:  # noqa: BLE001
        graph = []
    merged: dict = {}
    for item in graph:
        if item[1] not in merged:
            merged[item[1]] = item
        else:
            previous = merged[item[1]]
            merged[item[1]] = (item[0], item[1], item[2], list(set(previous[3] + item[3])),
                               list(set(previous[4] + item[4])))
    normalised = normalize_dataflow(list(merged.values()))
    return Counter((name, relation, tuple(parents)) for name, relation, parents in normalised)


@dataclass
class _Structure:
    subtrees: Counter
    n_subtrees: int
    dataflow: Counter
    n_dataflow: int


@dataclass
class PreparedCode:
    """One document analysed for CodeBLEU: tokens and n-grams now, syntax and data flow on first use."""

    text: str
    lang: str = "python"
    tokens: list[str] = field(init=False)
    ngram_counts: list[Counter] = field(init=False)
    _cleaned: list[str] = field(init=False, repr=False)
    _structures: dict[str, _Structure] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self):
        self.text = self.text.strip()
        self.tokens = self.text.split()
        self.ngram_counts = [Counter(zip(*(self.tokens[i:] for i in range(n))))
                             if len(self.tokens) >= n else Counter() for n in range(1, NGRAM_ORDERS + 1)]
        self._cleaned = [self.text]

    def cleaned(self, times: int) -> str:
        """The text after `times` passes of comment/docstring removal (CodeXGLUE re-cleans per reference)."""
        while len(self._cleaned) <= times:
            self._cleaned.append(_clean(self._cleaned[-1], self.lang))
        return self._cleaned[times]

    def structure(self, times: int = 1) -> _Structure:
        text = self.cleaned(times)
        if text not in self._structures:
            tree = _parser(self.lang).parse(bytes(text, "utf8"))
            subtrees = _subtree_sexps(tree.root_node)
            dataflow = _dataflow(text, tree, self.lang)
            self._structures[text] = _Structure(subtrees, sum(subtrees.values()), dataflow,
                                                sum(dataflow.values()))
        return self._structures[text]


@dataclass
class PreparedReference(PreparedCode):
    """A reference: also holds the keyword weights of its tokens (first-appearance order, as CodeXGLUE)."""

    token_weights: dict[str, float] = field(init=False)

    def __post_init__(self):
        super().__post_init__()
        keywords = _keywords(self.lang)
        self.token_weights = {token: KEYWORD_WEIGHT if token in keywords else OTHER_WEIGHT
                              for token in self.tokens}


def prepare_references(references: Sequence[str | Sequence[str]], lang: str = "python") \
        -> list[list[PreparedReference]]:
    """Analyse references once; pass the result to `corpus_codebleu` as often as needed."""
    return [[PreparedReference(text, lang) for text in ([refs] if isinstance(refs, str) else refs)]
            for refs in references]


# ---------------------------------------------------------------------------------------------------------------
# The four components, per item (numerator/denominator statistics) and per corpus


@dataclass
class _ItemStats:
    precision: list[tuple[int, int]]  # n-gram BLEU numerator/denominator per order
    recall: list[tuple[float, float]]  # weighted n-gram numerator/denominator per order
    hyp_len: int
    ref_len: int
    pair_len: int  # CodeXGLUE's weighted BLEU measures "reference length" as len([tokens, weights]) == 2
    syntax: tuple[int, int]
    dataflow: tuple[int, int]


def _closest_ref_length(references: list[PreparedReference], hyp_len: int) -> int:
    return min((len(ref.tokens) for ref in references), key=lambda length: (abs(length - hyp_len), length))


def _precision(prediction: PreparedCode, references: list[PreparedReference], n: int) -> tuple[int, int]:
    counts = prediction.ngram_counts[n - 1]
    max_counts: dict = {}
    for reference in references:
        reference_counts = reference.ngram_counts[n - 1]
        for ngram in counts:
            max_counts[ngram] = max(max_counts.get(ngram, 0), reference_counts[ngram])
    numerator = sum(min(count, max_counts[ngram]) for ngram, count in counts.items())
    return numerator, max(1, sum(counts.values()))


def _weighted_sum(weights: dict, counts: dict) -> float:
    total = 0
    for ngram, count in counts.items():
        total += count * (weights[ngram[0]] if ngram[0] in weights else 1)
    return total


def _recall(prediction: PreparedCode, references: list[PreparedReference], n: int) -> tuple[float, float]:
    numerator, denominator = 0, 0
    counts = prediction.ngram_counts[n - 1]
    for reference in references:
        reference_counts = reference.ngram_counts[n - 1]
        clipped = {ngram: min(count, counts[ngram]) for ngram, count in reference_counts.items()}
        if n == 1 and len(reference.token_weights) == len(reference_counts):
            numerator += _weighted_sum(reference.token_weights, clipped)
            denominator += max(1, _weighted_sum(reference.token_weights, reference_counts))
        else:
            numerator += sum(clipped.values())
            denominator += max(1, sum(reference_counts.values()))
    return numerator, denominator


def _item_stats(prediction: PreparedCode, references: list[PreparedReference]) -> _ItemStats:
    syntax_match = syntax_total = flow_match = flow_total = 0
    for times, reference in enumerate(references, start=1):
        predicted, expected = prediction.structure(times), reference.structure(1)
        syntax_match += sum(count for sexp, count in expected.subtrees.items() if sexp in predicted.subtrees)
        syntax_total += expected.n_subtrees
        if expected.n_dataflow:
            flow_total += expected.n_dataflow
            flow_match += sum(min(count, predicted.dataflow[item]) for item, count in expected.dataflow.items())
    hyp_len = len(prediction.tokens)
    return _ItemStats(
        precision=[_precision(prediction, references, n) for n in range(1, NGRAM_ORDERS + 1)],
        recall=[_recall(prediction, references, n) for n in range(1, NGRAM_ORDERS + 1)],
        hyp_len=hyp_len,
        ref_len=_closest_ref_length(references, hyp_len),
        pair_len=2,
        syntax=(syntax_match, syntax_total),
        dataflow=(flow_match, flow_total),
    )


def _bleu(fractions: list[tuple[float, float]], ref_len: int, hyp_len: int) -> float:
    """NLTK's corpus BLEU formula with smoothing method1 (epsilon 0.1), as CodeXGLUE's copy computes it."""
    if fractions[0][0] == 0:
        return 0
    if hyp_len > ref_len:
        brevity = 1
    elif hyp_len == 0:
        brevity = 0
    else:
        brevity = math.exp(1 - ref_len / hyp_len)
    smoothed = [(num + SMOOTHING_EPSILON, den) if num == 0 else (num, den) for num, den in fractions]
    return brevity * math.exp(math.fsum(0.25 * math.log(num / den) for num, den in smoothed))


def _combine(stats: list[_ItemStats], weights: Sequence[float]) -> dict[str, float]:
    precision = [(sum(item.precision[n][0] for item in stats), sum(item.precision[n][1] for item in stats))
                 for n in range(NGRAM_ORDERS)]
    recall = [(_sequential_sum(item.recall[n][0] for item in stats),
               _sequential_sum(item.recall[n][1] for item in stats)) for n in range(NGRAM_ORDERS)]
    hyp_len = sum(item.hyp_len for item in stats)
    ref_len = sum(item.ref_len for item in stats)
    syntax_match, syntax_total = (sum(item.syntax[k] for item in stats) for k in (0, 1))
    flow_match, flow_total = (sum(item.dataflow[k] for item in stats) for k in (0, 1))
    scores = {
        "ngram_match_score": _bleu(precision, ref_len, hyp_len),
        "weighted_ngram_match_score": _bleu(recall, sum(item.pair_len for item in stats), hyp_len),
        "syntax_match_score": syntax_match / syntax_total,
        "dataflow_match_score": flow_match / flow_total if flow_total else 0,
    }
    alpha, beta, gamma, theta = weights
    scores["codebleu"] = (alpha * scores["ngram_match_score"] + beta * scores["weighted_ngram_match_score"]
                          + gamma * scores["syntax_match_score"] + theta * scores["dataflow_match_score"])
    return {key: scores[key] for key in ("codebleu", "ngram_match_score", "weighted_ngram_match_score",
                                         "syntax_match_score", "dataflow_match_score")}


def _sequential_sum(values) -> float:
    total = 0  # left-to-right, like the reference's Counter accumulation, for bit-identical floats
    for value in values:
        total += value
    return total


def corpus_codebleu(predictions: Sequence[str | PreparedCode],
                    references: Sequence[str | Sequence[str]] | list[list[PreparedReference]],
                    lang: str = "python", weights: Sequence[float] = DEFAULT_WEIGHTS,
                    per_item: bool = False) -> dict:
    """Corpus-level CodeBLEU and its four components, fractions in [0, 1] (`score_codebleu` reports them in
    percent, after normalisation); `per_item` adds one dict per pair."""
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references: "
                         "each prediction needs its reference(s)")
    if len(weights) != 4:
        raise ValueError("weights must be four numbers (ngram, weighted ngram, syntax, dataflow)")
    if not predictions:
        raise ValueError("no predictions to score")
    prepared_refs = [refs if refs and isinstance(refs, list) and isinstance(refs[0], PreparedReference)
                     else prepare_references([refs], lang)[0] for refs in references]
    if any(not refs for refs in prepared_refs):
        raise ValueError("every prediction needs at least one reference")
    prepared = [pred if isinstance(pred, PreparedCode) else PreparedCode(_as_text(pred), lang)
                for pred in predictions]
    stats = [_item_stats(pred, refs) for pred, refs in zip(prepared, prepared_refs)]
    result = _combine(stats, weights)
    if per_item:
        result["per_item"] = [_combine([item], weights) for item in stats]
    return result


def _as_text(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"predictions must be strings, got {type(value).__name__}")
    return value
