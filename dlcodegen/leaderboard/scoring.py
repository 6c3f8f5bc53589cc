"""Scoring a submission: CodeBLEU and its four components (`normalize="dlcodegen"`, prepared references), mean
output lines beside the references', a length-calibrated CodeBLEU and plan adherence. Code is read, never run.

Length calibration: CodeBLEU on DLCodeEval rewards length (an unrelated notebook of the pool scores above every
method of the paper). The calibrated score is the submission's CodeBLEU minus the CodeBLEU of `random-sibling`
outputs cut to the submission's length item by item, averaged over `draws` seeded draws: the gain over an unrelated
notebook of the same length. Length is counted as CodeBLEU sees it: the sibling, normalised once, keeps as many
tokens as the submission's normalised answer has.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from dlcodegen.core.items import Item
from dlcodegen.core.plan import Plan
from dlcodegen.metrics.codebleu import PreparedReference
from dlcodegen.metrics.normalize import DEFAULT_NORMALIZATION

logger = logging.getLogger(__name__)

COMPONENTS = {"ngram_match_score": "ngram", "weighted_ngram_match_score": "weighted_ngram",
              "syntax_match_score": "syntax", "dataflow_match_score": "dataflow"}
# Stamped on every entry. Bump it whenever the same code would get different scores (normalisation, CodeBLEU,
# calibration, the adherence planner); entries with another stamp are rescored from their stored code.
# "" (no stamp): the principled normalisation that was `dlcodegen` before the paper-literal reading; "2": that reading.
SCORER_VERSION = "2"
CALIBRATION_SEED = 1000  # draws use seeds 1000, 1001, ...: apart from the `random-sibling` row's seed 0


@dataclass
class ScoringConfig:
    draws: int = 3  # seeded random-sibling draws for the calibration
    adherence: bool = True  # plan adherence to the shipped planner's plan of each item


class Scorer:
    """Scores `{id: code}` against DLCodeEval; thread-safe (one scoring at a time: CodeBLEU is CPU-bound).

    Submitted code comes without a plan: adherence is judged against `plans` (id -> the shipped planner's plan of
    the item), predicted once when the scorer is built and reused for every submission."""

    def __init__(self, items: list[Item], pool, plans: dict[int, Plan | None] | None = None,
                 config: ScoringConfig | None = None):
        self.items, self.pool, self.plans = items, list(pool), plans or {}
        self.config = config or ScoringConfig()
        self.ids: list[int] = [item.id for item in items if item.id is not None]
        self.references: list[str] = [item.reference for item in items if item.reference is not None]
        if not len(self.ids) == len(self.references) == len(items):
            raise ValueError("every item the scorer scores against needs an id and a reference")
        self._lock = threading.RLock()  # prepare() runs under it too: a warm-up thread and a first score() share it
        self._references: list[list[PreparedReference]] = []
        self._siblings: list[list[list[str]]] | None = None  # per draw, per item: the sibling's normalised tokens

    @classmethod
    def from_data(cls, data_path=None, config: ScoringConfig | None = None) -> "Scorer":
        """DLCodeEval, the sample pool (without the user's samples) and, for adherence, the shipped planner's plans."""
        from dlcodegen.data import load_local
        from dlcodegen.generator.pool import load_pool

        config = config or ScoringConfig()
        rows = load_local("dlcodeeval", split="test", path=data_path)
        items = [Item(row["user_requirement"], row["dataset_attributes"], row["id"], row["reference_code"])
                 for row in rows]
        plans: dict[int, Plan | None] | None = None
        if config.adherence:
            from dlcodegen.planning.planners import load_planner

            planner = load_planner(None, data_path=data_path)
            plans = {item.id: planner.predict(item.requirement, item.attributes).plan for item in items
                     if item.id is not None}
            logger.debug("predicted the adherence plans of %d items with %s", len(items), planner.name)
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

        self._references = prepared_references(self.references).references
        self._siblings = [[normalize(random_sibling(self.pool, item.requirement, item.id, seed).sample.code,
                                     DEFAULT_NORMALIZATION).text.split() for item in self.items]
                          for seed in range(CALIBRATION_SEED, CALIBRATION_SEED + self.config.draws)]
        logger.info("scorer prepared: %d references, %d calibration draws", len(self.items), self.config.draws)

    def _baseline(self, draw: list[list[str]], lengths: list[int]) -> float:
        """CodeBLEU (percent) of one draw of siblings, each cut to the submission's normalised length."""
        from dlcodegen.metrics.codebleu import PreparedCode, corpus_codebleu

        cut = [PreparedCode(" ".join(tokens[:n])) for tokens, n in zip(draw, lengths)]
        return 100 * corpus_codebleu(cut, self._references)["codebleu"]

    def score(self, codes: dict[int, str]) -> dict:
        """Percentages (0-100) and line counts; `codes` must hold every item id."""
        from dlcodegen.metrics.scoring import score_generations

        predictions = [codes[item_id] for item_id in self.ids]
        with self._lock:
            self.prepare()
            scored = score_generations(predictions, self.references, [self.plans.get(item_id) for item_id in self.ids])
            lengths = [len(text.split()) for text in scored.normalized]
            baselines = [self._baseline(draw, lengths) for draw in self._siblings or []]
        scores = {"codebleu": scored.codebleu["codebleu"],
                  **{name: scored.codebleu[key] for key, name in COMPONENTS.items()},
                  "mean_lines": scored.mean_lines,
                  "reference_mean_lines": scored.reference_mean_lines,
                  "calibrated_codebleu": scored.codebleu["codebleu"] - sum(baselines) / len(baselines),
                  "calibration_draws": len(baselines),
                  "adherence": scored.adherence["overall"] if scored.adherence else None}
        logger.debug("scored %d items: CodeBLEU %.2f", len(predictions), scores["codebleu"])
        return {key: round(value, 4) if isinstance(value, float) else value for key, value in scores.items()}
