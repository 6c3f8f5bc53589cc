"""Scoring a submission: CodeBLEU and its four components (`normalize="dlcodegen"`, prepared references), mean
output lines beside the references', a length-calibrated CodeBLEU and plan adherence. Code is read, never run.

Length calibration: CodeBLEU on DLCodeEval rewards length (an unrelated notebook of the pool scores above every
method of the paper). The calibrated score is the submission's CodeBLEU minus the CodeBLEU of `random-sibling`
outputs cut to the submission's length item by item, averaged over `draws` seeded draws: the gain over an unrelated
notebook of the same length. Length is counted as CodeBLEU sees it: the sibling, normalised once, keeps as many
tokens as the submission's normalised answer has.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

COMPONENTS = {"ngram_match_score": "ngram", "weighted_ngram_match_score": "weighted_ngram",
              "syntax_match_score": "syntax", "dataflow_match_score": "dataflow"}
NORMALIZE = "dlcodegen"
# Stamped on every entry. Bump it whenever the same code would get different scores (normalisation, CodeBLEU,
# calibration, the adherence planner); entries with another stamp are rescored from their stored code.
# "" (no stamp): the principled normalisation that was `dlcodegen` before the paper-literal reading; "2": that reading.
SCORER_VERSION = "2"
CALIBRATION_SEED = 1000  # draws use seeds 1000, 1001, ...: apart from the `random-sibling` row's seed 0


@dataclass
class ScoringConfig:
    draws: int = 3  # seeded random-sibling draws for the calibration
    adherence: bool = True  # plan adherence to the shipped planner's plan of each item


@dataclass(frozen=True)
class Item:
    id: int
    requirement: str
    attributes: str
    reference: str


def count_lines(code: str) -> int:
    """`str.splitlines`, as `bench` and the README's tables count lines."""
    return len(code.splitlines())


class Scorer:
    """Scores `{id: code}` against DLCodeEval; thread-safe (one scoring at a time: CodeBLEU is CPU-bound)."""

    def __init__(self, items: list[Item], pool, plans: dict | None = None, config: ScoringConfig | None = None):
        self.items, self.pool, self.plans = items, list(pool), plans or {}
        self.config = config or ScoringConfig()
        self.ids = [item.id for item in items]
        self._lock = threading.RLock()  # prepare() runs under it too: a warm-up thread and a first score() share it
        self._references = None
        self._siblings = None  # per draw, per item: the sibling's normalised tokens

    @classmethod
    def from_data(cls, data_path=None, config: ScoringConfig | None = None) -> "Scorer":
        """DLCodeEval, the sample pool (without the user's samples) and, for adherence, the shipped planner's plans."""
        from dlcodegen.data import load_local
        from dlcodegen.generator.pool import load_pool

        config = config or ScoringConfig()
        rows = load_local("dlcodeeval", split="test", path=data_path)
        items = [Item(row["id"], row["user_requirement"], row["dataset_attributes"], row["reference_code"])
                 for row in rows]
        plans = None
        if config.adherence:
            from dlcodegen.planning.planners import load_planner

            planner = load_planner(None, data_path=data_path)
            plans = {item.id: planner.predict(item.requirement, item.attributes).plan for item in items}
        return cls(items, load_pool(data_path=data_path, include_user=False), plans, config)

    def prepare(self) -> None:
        """Normalise and analyse the references and the siblings (once; the first `score` does it otherwise)."""
        with self._lock:
            if self._siblings is None:
                self._prepare()

    def _prepare(self) -> None:
        from dlcodegen.generator.retrieve import random_sibling
        from dlcodegen.metrics.normalize import normalize
        from dlcodegen.metrics.scoring import prepared_references

        self._references = prepared_references([item.reference for item in self.items], mode=NORMALIZE).references
        self._siblings = [[normalize(random_sibling(self.pool, item.requirement, item.id, seed).sample.code,
                                     NORMALIZE).text.split() for item in self.items]
                          for seed in range(CALIBRATION_SEED, CALIBRATION_SEED + self.config.draws)]

    def _codebleu(self, normalized: list[str]) -> dict:
        from dlcodegen.metrics.codebleu import PreparedCode, corpus_codebleu

        return corpus_codebleu([PreparedCode(text) for text in normalized], self._references)

    def score(self, codes: dict[int, str]) -> dict:
        """Percentages (0-100) and line counts; `codes` must hold every item id."""
        from dlcodegen.metrics.normalize import normalize

        predictions = [codes[item.id] for item in self.items]
        with self._lock:
            self.prepare()
            normalized = [normalize(code, NORMALIZE).text for code in predictions]
            result = self._codebleu(normalized)
            lengths = [len(text.split()) for text in normalized]
            baselines = [self._codebleu([" ".join(tokens[:n]) for tokens, n in zip(draw, lengths)])["codebleu"]
                         for draw in self._siblings]
        lines = [count_lines(code) for code in predictions]
        scores = {"codebleu": 100 * result["codebleu"],
                  **{name: 100 * result[key] for key, name in COMPONENTS.items()},
                  "mean_lines": sum(lines) / len(lines),
                  "reference_mean_lines": sum(count_lines(item.reference) for item in self.items) / len(self.items),
                  "calibrated_codebleu": 100 * (result["codebleu"] - sum(baselines) / len(baselines)),
                  "calibration_draws": len(baselines),
                  "adherence": self._adherence(codes)}
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in scores.items()}

    def _adherence(self, codes: dict[int, str]) -> float | None:
        from dlcodegen.metrics.adherence import mean_adherence, plan_adherence

        judged = [plan_adherence(codes[item_id], plan) for item_id, plan in self.plans.items() if plan is not None]
        return mean_adherence(judged)["overall"] if judged else None
