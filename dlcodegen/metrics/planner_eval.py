"""A planner judged on DLPlanData: its plan metrics, and the fields a hybrid planner takes from its model."""

from __future__ import annotations

import json
from pathlib import Path

from dlcodegen.core.plan import EM_FIELDS, MAE_FIELDS
from dlcodegen.metrics.plan_metrics import LOWER_IS_BETTER, compute_plan_metrics
from dlcodegen.planning.planners import HYBRID_FILE, predict_split

# The plan field each Table IV metric judges.
METRIC_FIELDS = {"input_bleu": "input", "output_bleu": "output", "layers_mld": "layers", **EM_FIELDS, **MAE_FIELDS}


def better_fields(retrieval_metrics: dict, neural_metrics: dict) -> list[str]:
    """The plan fields whose metric the neural planner beats the retrieval planner on (strictly)."""
    fields = []
    for key, name in METRIC_FIELDS.items():
        ours, theirs = neural_metrics.get(key), retrieval_metrics.get(key)
        if ours is None or theirs is None:
            continue
        if (ours < theirs) if key in LOWER_IS_BETTER else (ours > theirs):
            fields.append(name)
    return fields


def write_hybrid_choice(model: str | Path, retrieval_metrics: dict, neural_metrics: dict, split: str) -> dict:
    """Record in the model folder which fields the hybrid takes from the model, and the evidence."""
    choice = {"neural_fields": better_fields(retrieval_metrics, neural_metrics), "chosen_on": f"DLPlanData {split}",
              "retrieval": retrieval_metrics, "neural": neural_metrics}
    (Path(model) / HYBRID_FILE).write_text(json.dumps(choice, indent=2) + "\n", encoding="utf-8")
    return choice



def evaluate_planner(planner, rows, limit: int | None = None, progress: bool = True) -> dict:
    """Plan metrics of `planner` on DLPlanData `rows` (a split, or its first `limit` rows)."""
    if limit:
        rows = rows.select(range(min(limit, len(rows))))
    predictions = predict_split(planner, rows, progress)
    return compute_plan_metrics([p.plan if p.plan is not None else p.plan_text for p in predictions],
                                rows["plan_text"])
