"""Field-level plan metrics of the DLCodeGen paper (Table IV): BLEU, exact match, mean Levenshtein distance, MAE.

Every definition is spelled out in `evaluate_metrics/dl_plan_metrics/README.md`; keep the two in step.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Sequence

from dlcodegen.planning.plan import Plan, PlanParseError

EM_FIELDS = {"category_em": "task_category", "loss_function_em": "loss_function", "optimizer_em": "optimizer",
             "metric_em": "evaluation_metric"}
MAE_FIELDS = {"learning_rate_mae": "learning_rate", "batch_size_mae": "batch_size", "epochs_mae": "epochs"}
RESULT_KEYS = ("bleu", "input_bleu", "output_bleu", "category_em", "layers_mld", "learning_rate_mae",
               "loss_function_em", "optimizer_em", "batch_size_mae", "epochs_mae", "metric_em", "unparseable",
               "count")
# Display names, one home for the CLI report, the model card and the leaderboard.
METRIC_NAMES = {
    "bleu": "Plan BLEU", "input_bleu": "Input BLEU", "output_bleu": "Output BLEU", "category_em": "Category EM",
    "layers_mld": "Layers MLD", "learning_rate_mae": "LR MAE", "loss_function_em": "Loss function EM",
    "optimizer_em": "Optimizer EM", "batch_size_mae": "Batch size MAE", "epochs_mae": "Epochs MAE",
    "metric_em": "Metric EM", "unparseable": "Unparseable", "count": "Items",
}
LOWER_IS_BETTER = frozenset({"layers_mld", "learning_rate_mae", "batch_size_mae", "epochs_mae", "unparseable"})

# Spellings that name the same thing once case and punctuation are gone.
_ALIASES = {
    "mse": "meansquarederror", "mae": "meanabsoluteerror", "mape": "meanabsolutepercentageerror",
    "rmse": "rootmeansquarederror", "bce": "binarycrossentropy", "cce": "categoricalcrossentropy",
    "scce": "sparsecategoricalcrossentropy", "logloss": "binarycrossentropy", "acc": "accuracy",
    "auc": "auc", "rocauc": "auc", "sgd": "sgd", "iou": "meaniou", "intersectionoverunion": "meaniou",
}
_WRAPPERS = re.compile(r"^(?:tf\.)?(?:keras\.)?(?:(?:losses|optimizers|metrics|optimizers\.legacy)\.)")


@dataclass
class _Item:
    plan: Plan | None  # None: the prediction could not be read
    text: str  # the text used for whole-plan BLEU


def normalize_label(value: str | None) -> str | None:
    """Comparable form of a categorical field: module prefix, call arguments, case and punctuation removed."""
    if value is None:
        return None
    parts = []
    for part in str(value).split(","):
        part = _WRAPPERS.sub("", part.strip().strip("'\"`"))
        part = re.sub(r"\(.*\)?$", "", part)  # Adam(learning_rate=1e-3) -> Adam
        part = re.sub(r"\bloss\b$", "", part.strip(), flags=re.I) if len(part.split()) > 1 else part
        key = re.sub(r"[^a-z0-9]", "", part.lower())
        if key:
            parts.append(_ALIASES.get(key, key))
    return ",".join(sorted(set(parts))) if parts else None


def levenshtein(a: str, b: str) -> int:
    """Character-level edit distance (unit costs for insertion, deletion and substitution)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b)


def layers_distance(predicted: list[str] | None, reference: list[str]) -> float:
    """Mean character-level Levenshtein distance between the layers at the same position (missing ones: "")."""
    predicted = predicted or []
    length = max(len(predicted), len(reference))
    if length == 0:
        return 0.0
    padded_pred = predicted + [""] * (length - len(predicted))
    padded_ref = reference + [""] * (length - len(reference))
    return sum(levenshtein(p, r) for p, r in zip(padded_pred, padded_ref)) / length


def _read(value: Any) -> _Item:
    if isinstance(value, Plan):
        return _Item(value, value.to_json())
    if isinstance(value, dict):
        try:
            plan = Plan.from_dict(value)
        except PlanParseError:
            return _Item(None, json.dumps(value, ensure_ascii=False))
        return _Item(plan, plan.to_json())
    text = "" if value is None else str(value)
    try:
        plan = Plan.from_text(text)
    except PlanParseError:
        return _Item(None, text)
    return _Item(plan, plan.to_json())


def _bleu(hypotheses: list[str], references: list[str]) -> float:
    import sacrebleu

    if not hypotheses:
        return 0.0
    return sacrebleu.corpus_bleu(hypotheses, [references]).score


def _field(item: _Item, name: str):
    return getattr(item.plan, name) if item.plan is not None else None


def compute_plan_metrics(predictions: Sequence[str | dict | Plan | None],
                         references: Sequence[str | dict | Plan]) -> dict[str, float | None]:
    """Table IV metrics of `predictions` against `references` (plans as JSON text, dicts or `Plan`s).

    A field that no reference states has nothing to be judged against and is reported as `None`.
    """
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references: "
                         "each prediction needs its reference plan")
    if not predictions:
        raise ValueError("no predictions to score")
    preds = [_read(value) for value in predictions]
    refs = [_read(value) for value in references]
    for position, ref in enumerate(refs):
        if ref.plan is None:
            raise ValueError(f"reference {position} is not a readable plan")
    result: dict[str, float] = {"bleu": _bleu([p.text for p in preds], [r.text for r in refs])}
    for key, name in (("input_bleu", "input"), ("output_bleu", "output")):
        pairs = [(_field(p, name) or "", _field(r, name)) for p, r in zip(preds, refs) if _field(r, name)]
        result[key] = _bleu([p for p, _ in pairs], [r for _, r in pairs]) if pairs else None
    for key, name in EM_FIELDS.items():
        judged = [(normalize_label(_field(p, name)), normalize_label(_field(r, name))) for p, r in zip(preds, refs)
                  if normalize_label(_field(r, name)) is not None]
        result[key] = 100.0 * sum(p == r for p, r in judged) / len(judged) if judged else None
    layer_pairs = [(_field(p, "layers"), _field(r, "layers")) for p, r in zip(preds, refs)
                   if _field(r, "layers") is not None]
    result["layers_mld"] = (sum(layers_distance(p, r) for p, r in layer_pairs) / len(layer_pairs)
                            if layer_pairs else None)
    for key, name in MAE_FIELDS.items():
        errors = [abs((_field(p, name) or 0) - _field(r, name)) for p, r in zip(preds, refs)
                  if _field(r, name) is not None]
        result[key] = sum(errors) / len(errors) if errors else None
    result["unparseable"] = sum(p.plan is None for p in preds)
    result["count"] = len(preds)
    return {key: result[key] for key in RESULT_KEYS}
