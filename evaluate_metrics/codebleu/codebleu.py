"""CodeBLEU as an `evaluate` metric: CodeXGLUE's definition, in percent, after the DLCodeGen paper's normalisation
(the package's default; `normalize="none"` for none)."""

import datasets
import evaluate

from dlcodegen.metrics.codebleu import DEFAULT_WEIGHTS
from dlcodegen.metrics.normalize import DEFAULT_NORMALIZATION
from dlcodegen.metrics.scoring import score_codebleu

_CITATION = """\
@misc{ren2020codebleu,
  title  = {CodeBLEU: a Method for Automatic Evaluation of Code Synthesis},
  author = {Shuo Ren and Daya Guo and Shuai Lu and Long Zhou and Shujie Liu and Duyu Tang and Neel Sundaresan
            and Ming Zhou and Ambrosio Blanco and Shuai Ma},
  year   = {2020},
  eprint = {2009.10297},
  archivePrefix = {arXiv}
}
"""

_DESCRIPTION = """\
CodeBLEU = alpha * BLEU + beta * keyword-weighted BLEU + gamma * AST subtree match + theta * data-flow match,
corpus level, as in CodeXGLUE, in percent (0-100), by default after the DLCodeGen paper's post-processing read
literally (`normalize="dlcodegen"`: fence lines and comments out line by line, black at line length 210, one line,
spaces around special characters, spaces inside strings made underscores), as every score of the dlcodegen package.
With `normalize="none"` the scores are 100 times the `codebleu` PyPI package's, except where it departs from
CodeXGLUE (a corpus data-flow score of 0 counts as 1 there). `"dlcodegen-principled"` is a cleaner reading
(fenced code extracted, CodeXGLUE's comment remover, strings kept whole).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated code strings.
    references: list of reference code strings, or list of lists of references (one list per prediction).
    lang: programming language (default "python").
    weights: (alpha, beta, gamma, theta), default (0.25, 0.25, 0.25, 0.25).
    normalize: "dlcodegen" (default: the paper's post-processing, read literally), "none", "dlcodegen-principled"
        or "dlcodegen-principled-split-strings" (see the metric card).
    per_item: also return `per_item`, a list with the five scores of each pair on its own.
Returns:
    codebleu, ngram_match_score, weighted_ngram_match_score, syntax_match_score, dataflow_match_score: percent
    (0-100); with a dlcodegen normalisation also unformatted_predictions and unformatted_references (documents
    black could not parse, scored unformatted).
Examples:
    >>> codebleu = evaluate.load("./evaluate_metrics/codebleu")
    >>> code = "def add(a, b):\n    total = a + b\n    return total"
    >>> codebleu.compute(predictions=[code], references=[code])["codebleu"]
    100.0
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class CodeBLEU(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=[
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Sequence(datasets.Value("string"))}),
                datasets.Features({"predictions": datasets.Value("string"),
                                   "references": datasets.Value("string")}),
            ],
            reference_urls=["https://arxiv.org/abs/2009.10297",
                            "https://github.com/microsoft/CodeXGLUE/tree/main/Code-Code/code-to-code-trans/evaluator"],
        )

    def _compute(self, predictions, references, lang="python", weights=DEFAULT_WEIGHTS,
                 normalize=DEFAULT_NORMALIZATION, per_item=False):
        return score_codebleu(predictions, references, lang=lang, weights=tuple(weights), normalize_mode=normalize,
                              per_item=per_item)
