"""Plan adherence: does the code do what the plan asked? The code's plan is read statically (`plan_from_code`) and
compared with the plan field by field.

Per field, in percent: `layers` is the share of the planned layer types found in the code's layers in the same
order (longest common subsequence of Keras class names: a prose layer such as "Dense Layer with ReLU activation"
counts as `Dense`; input layers are left out on both sides); `optimizer`, `loss_function`, `evaluation_metric` are
100 when equal after the plan metrics' label normalisation, else 0; `learning_rate`, `batch_size`, `epochs` are 100
when equal. Fields the plan does not state are not judged (None). `overall` is the mean of the judged fields, and
`hyperparameters` the mean of the six hyperparameter fields.
"""

from __future__ import annotations

import math

from dlcodegen.core.plan import LABEL_FIELDS, NUMBER_FIELDS, Plan, normalize_label

ADHERENCE_FIELDS = ("layers", *LABEL_FIELDS, *NUMBER_FIELDS)


def layer_types(layers: list[str] | None) -> list[str]:
    from dlcodegen.planning.layers import INPUT_LAYERS, resolve_layer

    names = []
    for text in layers or []:
        call = resolve_layer(text)
        name = call.name if call is not None else text.split("(")[0].strip()
        if name and name not in INPUT_LAYERS:
            names.append(name.replace("MaxPool2D", "MaxPooling2D").replace("GlobalAvgPool2D", "GlobalAveragePooling2D"))
    return names


def _common_subsequence(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b):
            current.append(previous[j] + 1 if item == other else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compare_plans(code_plan: Plan, plan: Plan) -> dict[str, float | None]:
    """Per-field adherence of `code_plan` (read from code) to `plan`, in percent."""
    scores: dict[str, float | None] = {}
    planned = layer_types(plan.layers)
    scores["layers"] = 100.0 * _common_subsequence(planned, layer_types(code_plan.layers)) / len(planned) \
        if planned else None
    for name in LABEL_FIELDS:
        wanted = normalize_label(getattr(plan, name))
        scores[name] = None if wanted is None else 100.0 * (normalize_label(getattr(code_plan, name)) == wanted)
    for name in NUMBER_FIELDS:
        wanted, found = getattr(plan, name), getattr(code_plan, name)
        scores[name] = None if wanted is None else 100.0 * (found is not None and math.isclose(found, wanted))
    judged = [value for value in scores.values() if value is not None]
    scores["hyperparameters"] = _mean([scores[name] for name in (*LABEL_FIELDS, *NUMBER_FIELDS)
                                       if scores[name] is not None])
    scores["overall"] = _mean(judged)
    return scores


def plan_adherence(code: str, plan: Plan) -> dict[str, float | None]:
    """Adherence of `code` to `plan` (see the module docstring)."""
    from dlcodegen.analysis import plan_from_code

    return compare_plans(plan_from_code(code, plan.task_category), plan)


def mean_adherence(rows: list[dict[str, float | None]]) -> dict[str, float | None]:
    """Field-wise mean over items (each field over the items that judge it)."""
    keys = (*ADHERENCE_FIELDS, "hyperparameters", "overall")
    return {key: _mean([row[key] for row in rows if row.get(key) is not None]) for key in keys}
