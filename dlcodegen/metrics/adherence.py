"""Plan adherence: does the code do what the plan asked? The code's plan is read statically (`plan_from_code`) and
compared with the plan field by field.

Per field, in percent: `layers` is the share of the planned layers found in the code's layers in the same order
(longest common subsequence; input layers are left out on both sides). A planned layer is found when the code has
a layer of the same Keras class (aliases such as MaxPool2D/MaxPooling2D are one class; a prose layer such as "Dense
Layer with ReLU activation" is a `Dense`) with every argument the plan's call states (`Dense(128,
activation='relu')` needs 128 and relu; a bare `Dense` or prose needs the class only; a setting name such as
NUM_CLASSES on either side stands for any value; a kernel 3 equals (3, 3)). So a planned layer left out, replaced
by another class or given other arguments is a miss. `optimizer`, `loss_function`, `evaluation_metric` are
100 when equal after the plan metrics' label normalisation, else 0; `learning_rate`, `batch_size`, `epochs` are 100
when equal. Fields the plan does not state are not judged (None). `overall` is the mean of the judged fields, and
`hyperparameters` the mean of the six hyperparameter fields.
"""

from __future__ import annotations

import math

from dlcodegen.core.plan import LABEL_FIELDS, NUMBER_FIELDS, Plan, normalize_label

ADHERENCE_FIELDS = ("layers", *LABEL_FIELDS, *NUMBER_FIELDS)


_ALIASES = {"MaxPool2D": "MaxPooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D", "MaxPool1D": "MaxPooling1D",
            "GlobalMaxPool2D": "GlobalMaxPooling2D", "GlobalMaxPool1D": "GlobalMaxPooling1D",
            "GlobalAvgPool1D": "GlobalAveragePooling1D", "AvgPool2D": "AveragePooling2D"}
_VALUE_KEYWORDS = {"units", "filters", "rate", "kernel_size", "pool_size"}  # the same as their positional value


def _class(name: str) -> str:
    return _ALIASES.get(name, name)


def _argument_tokens(text: str) -> frozenset[str]:
    """The arguments a layer's call syntax states, normalised; empty for prose and bare names."""
    import ast

    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return frozenset()
    if not isinstance(node, ast.Call):
        return frozenset()
    tokens = {_value(argument) for argument in node.args}
    for keyword in node.keywords:
        if keyword.arg is None or keyword.arg in ("name", "input_shape", "input_dim", "input_length"):
            continue
        value = _value(keyword.value)
        tokens.add(value if keyword.arg in _VALUE_KEYWORDS else f"{keyword.arg}={value}")
    return frozenset(tokens)


def _value(node) -> str:
    import ast

    if isinstance(node, ast.Tuple) and node.elts and len({ast.unparse(e) for e in node.elts}) == 1:
        node = node.elts[0]  # (3, 3) -> 3
    text = ast.unparse(node).replace('"', "'")
    return "*" if text.isupper() or text.split(".")[-1].isupper() or (
        isinstance(node, ast.Name) and node.id.lower() in ("num_classes", "vocab_size", "max_len", "embedding_dim")) \
        else text


def layer_calls(layers: list[str] | None) -> list[tuple[str, frozenset[str]]]:
    """Each non-input layer as (Keras class, the arguments its text states)."""
    from dlcodegen.planning.layers import INPUT_LAYERS, resolve_layer

    calls = []
    for text in layers or []:
        call = resolve_layer(text)
        name = call.name if call is not None else text.split("(")[0].strip()
        if name and name not in INPUT_LAYERS:
            calls.append((_class(name), _argument_tokens(text)))
    return calls


def layer_types(layers: list[str] | None) -> list[str]:
    return [name for name, _ in layer_calls(layers)]


def _found(planned: tuple[str, frozenset[str]], written: tuple[str, frozenset[str]]) -> bool:
    name, wanted = planned
    if name != written[0]:
        return False
    have = written[1]
    return all(token in have or token == "*" or "*" in have and "=" not in token or
               ("=" in token and f"{token.split('=', 1)[0]}=*" in have) for token in wanted)


def _common_subsequence(planned: list, written: list) -> int:
    previous = [0] * (len(written) + 1)
    for item in planned:
        current = [0]
        for j, other in enumerate(written):
            current.append(previous[j] + 1 if _found(item, other) else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def compare_plans(code_plan: Plan, plan: Plan) -> dict[str, float | None]:
    """Per-field adherence of `code_plan` (read from code) to `plan`, in percent."""
    scores: dict[str, float | None] = {}
    planned = layer_calls(plan.layers)
    scores["layers"] = 100.0 * _common_subsequence(planned, layer_calls(code_plan.layers)) / len(planned) \
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
