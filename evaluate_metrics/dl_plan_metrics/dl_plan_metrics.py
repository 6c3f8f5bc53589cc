"""Field-level metrics for predicted deep learning solution plans (DLCodeGen paper, Table IV)."""

import json

import datasets
import evaluate

from dlcodegen.metrics.plan_metrics import compute_plan_metrics

_CITATION = """\
@misc{dlcodegen2025,
  title  = {Empowering AI to Generate Better AI Code: Guided Generation of Deep Learning Projects with LLMs},
  author = {Jiao, Mingsheng and Shen, Beijun and others},
  note   = {Artifact: https://github.com/MingshengJiao/DLCodeGen}
}
"""

_DESCRIPTION = """\
Scores predicted solution plans against DLPlanData reference plans, field by field, as the DLCodeGen paper's
Table IV: BLEU-4 of the whole plan and of its Input and Output fields, exact match of the task category, loss
function, optimizer and evaluation metric, mean Levenshtein distance of the layer lists, and mean absolute error
of learning rate, batch size and epochs. Predictions may be malformed or truncated JSON: they are repaired when
possible, and a prediction that cannot be read scores as wrong (and is counted in `unparseable`).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of plans, each JSON text (possibly malformed) or a dict.
    references: list of reference plans, JSON text or dicts.
Returns:
    bleu, input_bleu, output_bleu: BLEU-4, 0-100.
    category_em, loss_function_em, optimizer_em, metric_em: exact match, percent.
    layers_mld: mean Levenshtein distance of the layer lists (lower is better).
    learning_rate_mae, batch_size_mae, epochs_mae: mean absolute error (lower is better).
    unparseable: predictions that could not be read at all. count: number of pairs.
Examples:
    >>> plan_metrics = evaluate.load("./evaluate_metrics/dl_plan_metrics")
    >>> plan = '{"Task Category": "Image Classification", "Model Architecture": {"Hyperparameters": {"epochs": 10}}}'
    >>> plan_metrics.compute(predictions=[plan], references=[plan])["category_em"]
    100.0
"""


def _as_text(value):
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class DLPlanMetrics(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
            reference_urls=["https://github.com/MingshengJiao/DLCodeGen"],
        )

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Compute the plan metrics; see the module's inputs description."""
        # Arrow stores strings: dict plans travel as their JSON text and are read back by the same parser.
        if predictions is not None:
            predictions = [_as_text(value) for value in predictions]
        if references is not None:
            references = [_as_text(value) for value in references]
        if predictions is not None and references is not None and len(predictions) != len(references):
            raise ValueError(f"got {len(predictions)} predictions but {len(references)} references: "
                             "each prediction needs its reference plan")
        return super().compute(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references):
        return compute_plan_metrics(predictions, references)
