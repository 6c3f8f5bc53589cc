"""Field-level plan metrics of the DLCodeGen paper (Table IV): BLEU, exact match, mean Levenshtein distance, MAE.
BLEU and exact match are in percent (0-100), the package's one scale; distances and errors in the field's units.

Every definition is spelled out in `evaluate_metrics/dl_plan_metrics/README.md`; keep the two in step.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

from dlcodegen.core.distance import layers_distance
from dlcodegen.core.plan import EM_FIELDS, MAE_FIELDS, Plan, PlanParseError, normalize_label

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


@dataclass
class _Item:
    plan: Plan | None  # None: the prediction could not be read
    text: str  # the text used for whole-plan BLEU


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
    result: dict[str, float | None] = {"bleu": _bleu([p.text for p in preds], [r.text for r in refs])}
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
