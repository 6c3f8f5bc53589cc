"""Plan predictors: a retrieval planner (no training) and a neural planner (a fine-tuned causal LM).

Both answer `predict(requirement, attributes) -> PlanPrediction` and `predict_batch(items)`; `load_planner`
turns a command-line spec (`retrieval`, a model folder or a Hub id) into one.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from dlcodegen.planning.plan import Plan, check_requirement
from dlcodegen.metrics.plan_metrics import layers_distance, normalize_label

DEFAULT_PLANNER = "retrieval"
CATEGORICAL = ("optimizer", "loss_function", "evaluation_metric")
NUMERIC = ("learning_rate", "batch_size", "epochs")


@dataclass
class PlanPrediction:
    plan: Plan | None
    plan_text: str
    repairs: list[str] = field(default_factory=list)
    error: str | None = None

    def as_row(self, item_id: int) -> dict:
        return {"id": item_id, "plan": self.plan.to_dict() if self.plan else None, "plan_text": self.plan_text}


def _attributes_text(attributes) -> str:
    if attributes is None:
        return ""
    return attributes if isinstance(attributes, str) else str(attributes)


# ---------------------------------------------------------------------------------------------------------------
# Retrieval planner

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset("i want to a an the of and for using with in on that is are be by from this as it its each "
                       "dataset data consists model build".split())


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


@dataclass
class RetrievalPlannerConfig:
    k: int = 20  # neighbours that vote on categorical fields and whose median gives the numbers
    layer_candidates: int = 5  # neighbours among which the most central layer list is chosen (0: nearest's)
    category_classifier: bool = True  # naive Bayes over words and bigrams instead of the neighbours' vote
    classifier_alpha: float = 0.3


class _NaiveBayes:
    """Multinomial naive Bayes over word and bigram presence, for the task category."""

    def __init__(self, documents: list[list[str]], labels: list[str | None], alpha: float):
        import numpy as np

        pairs = [(doc, label) for doc, label in zip(documents, labels) if label]
        self.classes = sorted({label for _, label in pairs})
        index = {label: i for i, label in enumerate(self.classes)}
        self.vocabulary: dict[str, int] = {}
        for doc, _ in pairs:
            for feature in self._features(doc):
                self.vocabulary.setdefault(feature, len(self.vocabulary))
        counts = np.zeros((len(self.classes), len(self.vocabulary)))
        prior = np.zeros(len(self.classes))
        for doc, label in pairs:
            prior[index[label]] += 1
            counts[index[label], [self.vocabulary[f] for f in self._features(doc)]] += 1
        self.log_likelihood = np.log((counts + alpha) / (counts.sum(1, keepdims=True) + alpha * len(self.vocabulary)))
        self.log_prior = np.log(prior / prior.sum())

    @staticmethod
    def _features(words: list[str]) -> set[str]:
        return set(words) | {f"{a}_{b}" for a, b in zip(words, words[1:])}

    def predict(self, words: list[str]) -> str:
        columns = [self.vocabulary[f] for f in self._features(words) if f in self.vocabulary]
        scores = self.log_prior + self.log_likelihood[:, columns].sum(1)
        return self.classes[int(scores.argmax())]


class RetrievalPlanner:
    """BM25 over DLPlanData-train requirements + attributes; the nearest plan, refined by its neighbours."""

    name = "retrieval"

    def __init__(self, rows: Sequence[dict], config: RetrievalPlannerConfig | None = None):
        from rank_bm25 import BM25Okapi

        self.config = config or RetrievalPlannerConfig()
        if not rows:
            raise ValueError("the retrieval planner needs at least one training plan")
        self.plans = [Plan.from_text(row["plan_text"]) for row in rows]
        documents = [_words(f"{row['user_requirement']} {row['dataset_attributes']}") for row in rows]
        self.index = BM25Okapi(documents)
        self.classifier = (_NaiveBayes(documents, [normalize_label(p.task_category) for p in self.plans],
                                       self.config.classifier_alpha)
                           if self.config.category_classifier else None)
        self._category_names = Counter()
        for plan in self.plans:
            if plan.task_category:
                self._category_names[(normalize_label(plan.task_category), plan.task_category)] += 1

    @classmethod
    def from_dataset(cls, path: str | Path | None = None, config: RetrievalPlannerConfig | None = None):
        from dlcodegen.data import load_local

        return cls(list(load_local("dlplandata", split="train", path=path)), config)

    def neighbours(self, requirement: str, attributes="") -> list[tuple[int, float]]:
        check_requirement(requirement)
        words = _words(f"{requirement} {_attributes_text(attributes)}")
        scores = self.index.get_scores(words)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])[: max(1, self.config.k)]
        return [(i, float(scores[i])) for i in order]

    def predict(self, requirement: str, attributes="") -> PlanPrediction:
        neighbours = self.neighbours(requirement, attributes)
        plan = Plan(**self.plans[neighbours[0][0]].field_values())
        for name in CATEGORICAL:
            setattr(plan, name, self._vote(neighbours, name, getattr(plan, name)))
        for name in NUMERIC:
            values = sorted(v for i, _ in neighbours if (v := getattr(self.plans[i], name)) is not None)
            if values:
                setattr(plan, name, statistics.median_low(values))
        if self.classifier is not None:
            plan.task_category = self._category_name(
                self.classifier.predict(_words(f"{requirement} {_attributes_text(attributes)}")))
        else:
            plan.task_category = self._vote(neighbours, "task_category", plan.task_category)
        plan.layers = self._central_layers(neighbours) or plan.layers
        return PlanPrediction(plan, plan.to_json())

    def predict_batch(self, items: Iterable[tuple[str, object]]) -> list[PlanPrediction]:
        return [self.predict(requirement, attributes) for requirement, attributes in items]

    def _vote(self, neighbours, name: str, fallback):
        votes: Counter = Counter()
        spelling: dict[str, str] = {}
        for i, score in neighbours:
            value = getattr(self.plans[i], name)
            key = normalize_label(value)
            if key:
                votes[key] += max(score, 1e-9)
                spelling.setdefault(key, value)
        return spelling[votes.most_common(1)[0][0]] if votes else fallback

    def _category_name(self, key: str) -> str:
        names = [(count, name) for (label, name), count in self._category_names.items() if label == key]
        return max(names)[1] if names else key

    def _central_layers(self, neighbours) -> list[str] | None:
        candidates = [self.plans[i].layers for i, _ in neighbours[: self.config.layer_candidates]
                      if self.plans[i].layers]
        if len(candidates) < 3:
            return None
        return min(candidates, key=lambda c: sum(layers_distance(c, other) for other in candidates))


# ---------------------------------------------------------------------------------------------------------------
# Neural planner


class NeuralPlanner:
    """A causal LM fine-tuned on DLPlanData, through the `dl-plan-generation` pipeline."""

    def __init__(self, model: str | Path, num_beams: int = 1, max_new_tokens: int | None = None,
                 batch_size: int = 1, device: str | int | None = None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from dlcodegen.planning.plan_pipeline import DLPlanGenerationPipeline

        path = Path(model)
        if not path.exists() and (str(model).startswith((".", "/")) or path.suffix or len(path.parts) > 2):
            raise FileNotFoundError(f"planner model folder {model} does not exist")
        if path.exists() and not (path / "config.json").is_file():
            raise FileNotFoundError(f"{model} is not a model folder (no config.json)")
        self.name = str(model)
        self.num_beams, self.max_new_tokens, self.batch_size = num_beams, max_new_tokens, batch_size
        try:
            self.pipe = DLPlanGenerationPipeline(model=AutoModelForCausalLM.from_pretrained(str(model)),
                                                 tokenizer=AutoTokenizer.from_pretrained(str(model)), device=device)
        except OSError as error:  # not a folder here, and the Hub is unreachable or has no such repo
            raise FileNotFoundError(f"planner {model} is neither a model folder here nor a model the Hugging Face "
                                    f"Hub could provide ({type(error).__name__})") from None

    def _options(self) -> dict:
        options = {"num_beams": self.num_beams, "return_plan_object": True}
        if self.max_new_tokens:
            options["max_new_tokens"] = self.max_new_tokens
        return options

    def predict(self, requirement: str, attributes="") -> PlanPrediction:
        check_requirement(requirement)
        return self._wrap(self.pipe({"user_requirement": requirement, "dataset_attributes": attributes},
                                    **self._options()))

    def predict_batch(self, items: Iterable[tuple[str, object]]) -> list[PlanPrediction]:
        inputs = []
        for requirement, attributes in items:
            check_requirement(requirement)
            inputs.append({"user_requirement": requirement, "dataset_attributes": attributes})
        outputs = self.pipe(inputs, batch_size=self.batch_size, **self._options())
        return [self._wrap(output) for output in outputs]

    @staticmethod
    def _wrap(output: dict) -> PlanPrediction:
        return PlanPrediction(output["plan"], output["plan_text"], output["repairs"], output["error"])


class HybridPlanner:
    """Per-field ensemble: the neural planner's text fields, the retrieval planner's everything else."""

    def __init__(self, retrieval: RetrievalPlanner, neural: NeuralPlanner,
                 neural_fields: Sequence[str] = ("input", "output")):
        self.retrieval, self.neural, self.neural_fields = retrieval, neural, tuple(neural_fields)
        self.name = f"hybrid:{neural.name}"

    def predict(self, requirement: str, attributes="") -> PlanPrediction:
        base = self.retrieval.predict(requirement, attributes)
        generated = self.neural.predict(requirement, attributes)
        plan = base.plan
        if generated.plan is not None:
            for name in self.neural_fields:
                if getattr(generated.plan, name):
                    setattr(plan, name, getattr(generated.plan, name))
        return PlanPrediction(plan, plan.to_json(), generated.repairs, generated.error)

    def predict_batch(self, items: Iterable[tuple[str, object]]) -> list[PlanPrediction]:
        return [self.predict(requirement, attributes) for requirement, attributes in items]


def load_planner(spec: str | None = None, data_path: str | None = None, **options):
    """`retrieval`, `hybrid:MODEL`, a model folder or a Hub id; `None` gives the shipped default."""
    spec = spec or DEFAULT_PLANNER
    if spec == "retrieval":
        return RetrievalPlanner.from_dataset(data_path)
    if spec.startswith("hybrid:"):
        return HybridPlanner(RetrievalPlanner.from_dataset(data_path), NeuralPlanner(spec[len("hybrid:"):], **options))
    return NeuralPlanner(spec, **options)


def predict_split(planner, rows, progress: bool = True) -> list[PlanPrediction]:
    """The planner's prediction for each DLPlanData row, in order."""
    from tqdm.auto import tqdm

    return [planner.predict(row["user_requirement"], row["dataset_attributes"])
            for row in tqdm(rows, desc=f"planning with {planner.name}", disable=not progress)]


def predict_rows(planner, rows, progress: bool = True) -> list[dict]:
    """`{"id", "plan", "plan_text"}` for each DLPlanData row."""
    return [prediction.as_row(row_id)
            for prediction, row_id in zip(predict_split(planner, rows, progress), rows["id"])]


def evaluate_planner(planner, rows, limit: int | None = None, progress: bool = True) -> dict:
    """Plan metrics of `planner` on DLPlanData `rows` (a split, or its first `limit` rows)."""
    from dlcodegen.metrics.plan_metrics import compute_plan_metrics

    if limit:
        rows = rows.select(range(min(limit, len(rows))))
    predictions = predict_split(planner, rows, progress)
    return compute_plan_metrics([p.plan if p.plan is not None else p.plan_text for p in predictions],
                                rows["plan_text"])
