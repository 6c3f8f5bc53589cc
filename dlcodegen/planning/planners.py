"""Plan predictors: a retrieval planner (no training) and a neural planner (a fine-tuned causal LM).

Both answer `predict(requirement, attributes) -> PlanPrediction` and `predict_batch(items)`; `load_planner`
turns a command-line spec (`retrieval`, a model folder or a Hub id) into one.
"""

from __future__ import annotations

import logging
import math
import os
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from dlcodegen.core.distance import layers_distance
from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.core.items import attributes_text
from dlcodegen.core.protocols import Planner, PlanPrediction
from dlcodegen.core.plan import (CATEGORY_FIELD, IO_FIELDS, LABEL_FIELDS, NUMBER_FIELDS, Plan, check_requirement,
                                 normalize_label)
from dlcodegen.core.task import TaskSpec, family_of_category
from dlcodegen.planning.reader import adapt, flat_attributes
from dlcodegen.planning.task_fit import fit_plan_to_task
from dlcodegen.planning.task_reader import read_task

logger = logging.getLogger(__name__)

DEFAULT_PLANNER = "retrieval"


# ---------------------------------------------------------------------------------------------------------------
# Retrieval planner

_WORD = re.compile(r"[a-z0-9]+")
_STOPWORDS = frozenset("i want to a an the of and for using with in on that is are be by from this as it its each "
                       "dataset data consists model build".split())


def _words(text: str) -> list[str]:
    return [word for word in _WORD.findall(text.lower()) if word not in _STOPWORDS]


_PLAN_FIELDS = tuple(Plan().field_values())


@dataclass
class RetrievalPlannerConfig:
    k: int = 20  # neighbours that vote on categorical fields and whose median gives the numbers
    layer_candidates: int = 5  # neighbours among which the most central layer list is chosen (0: nearest's)
    # fields predicted by the trained text classifiers (dlcodegen.planning.classify) instead of the neighbours' vote
    classified_fields: tuple[str, ...] = ("task_category", "loss_function")  # the metric and optimizer: the vote
    # was better on validation (classifiers fitted on train only: metric 52 vs 57, optimizer 75 vs 77)
    classifier_folder: str | None = None  # saved classifiers; None: the shipped folder, else fitted on the data
    text_candidates: int = 30  # neighbours whose Input and Output compete for this item's (0: nearest's)
    item_word_weight: float = 40.0  # reward per share of a candidate's words found in this item's text
    foreign_word_weight: float = 40.0  # penalty per share of rare words this item's text does not contain
    # fields taken from the neighbours of the task's family (the others: from the nearest plans of any family);
    # all of them: on validation (train-only classifiers) the family's numbers beat the nearest plans' (batch-size
    # MAE 124.3 vs 141.6, epochs 105.6 vs 106.4), layers were even (23.3 vs 23.1)
    family_fields: tuple[str, ...] = _PLAN_FIELDS


_TOKEN = re.compile(r"\w+|[^\w\s]")


class _TextProfile:
    """A field text's word set and n-gram counts, for the consensus score among candidates."""

    def __init__(self, text: str):
        tokens = _TOKEN.findall(text)
        self.text, self.length = text, len(tokens)
        self.ngrams = [Counter(zip(*(tokens[i:] for i in range(n)))) for n in range(1, 5)]
        self.words = _WORD.findall(text.lower())

    def bleu(self, reference: "_TextProfile") -> float:
        """Sentence BLEU with add-one smoothing of the higher orders (sacrebleu's `exp` flavour, close enough)."""
        if not self.length or not reference.length:
            return 0.0
        log_precision = 0.0
        for n, (mine, theirs) in enumerate(zip(self.ngrams, reference.ngrams), start=1):
            total = max(self.length - n + 1, 0)
            matched = sum(min(count, theirs[gram]) for gram, count in mine.items() if gram in theirs)
            if n == 1 and matched == 0:
                return 0.0
            log_precision += math.log((matched + (n > 1)) / (total + (n > 1))) if total else 0.0
        brevity = min(0.0, 1 - reference.length / self.length)
        return 100 * math.exp(brevity + log_precision / 4)


def _row_plan(row: dict) -> Plan:
    """A DLPlanData row's plan from its parsed columns (the dataset builder's `Plan.from_text`), else its text."""
    if all(name in row for name in _PLAN_FIELDS):
        return Plan(**{name: row[name] for name in _PLAN_FIELDS})
    return Plan.from_text(row["plan_text"])


class RetrievalPlanner:
    """BM25 over DLPlanData-train requirements + attributes; the nearest plan, refined by its neighbours."""

    name = "retrieval"

    def __init__(self, rows: Sequence[dict], config: RetrievalPlannerConfig | None = None,
                 classifiers: dict | None = None):
        from rank_bm25 import BM25Okapi

        self.config = config or RetrievalPlannerConfig()
        if not rows:
            raise InputError("the retrieval planner needs at least one training plan")
        self.plans = [_row_plan(row) for row in rows]
        documents = [_words(f"{row['user_requirement']} {row['dataset_attributes']}") for row in rows]
        self.index = BM25Okapi(documents)
        self.classifiers = {name: classifiers[name] for name in self.config.classified_fields
                            if classifiers and name in classifiers}
        self._profiles: dict[tuple[str, int], _TextProfile] = {}  # made when first a candidate (most never are)
        self.families = [family.name if (family := family_of_category(plan.task_category)) else None
                         for plan in self.plans]
        words = Counter(word for plan in self.plans for name in IO_FIELDS
                        for word in set(_WORD.findall((getattr(plan, name) or "").lower())))
        self._rare_words = {word for word, count in words.items() if count < 0.01 * len(self.plans)}

    @classmethod
    def from_dataset(cls, path: str | Path | None = None, config: RetrievalPlannerConfig | None = None):
        """Neighbours from DLPlanData-train; classifiers from the saved folder, or fitted on train + validation."""
        from dlcodegen.data import load_local
        from dlcodegen.planning import classify

        config = config or RetrievalPlannerConfig()
        rows = list(load_local("dlplandata", split="train", path=path))
        folder = Path(config.classifier_folder or classify.DEFAULT_FOLDER)
        if all((folder / name / classify.CONFIG_FILE).is_file() for name in config.classified_fields):
            classifiers = classify.load_classifiers(folder, config.classified_fields)
        else:
            if config.classifier_folder:
                raise MissingError(f"{folder} lacks a saved classifier for one of {config.classified_fields}")
            logger.warning("no shipped plan classifiers in %s (installed without the package data?): fitting them on "
                           "DLPlanData train + validation instead", folder)
            labelled = rows + list(load_local("dlplandata", split="validation", path=path))
            classifiers = classify.fit_classifiers(labelled, config.classified_fields)
        return cls(rows, config, classifiers)

    def neighbours(self, requirement: str, attributes="", family: str | None = None) -> list[tuple[int, float]]:
        """The nearest training plans by BM25, only those of `family` when given (and it has any)."""
        return self._ranked(requirement, attributes, (family,))[0]

    def _ranked(self, requirement: str, attributes, families) -> list[list[tuple[int, float]]]:
        """One BM25 ranking, cut per family (None: any family), best first."""
        check_requirement(requirement)
        words = _words(f"{requirement} {attributes_text(attributes)}")
        scores = self.index.get_scores(words)
        count = max(1, self.config.k, self.config.text_candidates)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        ranked = []
        for family in families:
            kept = [i for i in order if self.families[i] == family] if family and family in self.families else order
            ranked.append([(i, float(scores[i])) for i in kept[:count]])
        return ranked

    def predict(self, requirement: str, attributes="", task: TaskSpec | None = None) -> PlanPrediction:
        """The plan for the item, true to its task (read from the words unless given).

        The fields in `config.family_fields` (all, by default) come from the neighbours of the task's family; the
        others from the nearest plans whatever their family."""
        check_requirement(requirement)
        spec = task or read_task(requirement, attributes)
        in_family = spec.task.value in self.families
        nearest, family = self._ranked(requirement, attributes, (None, spec.task.value))
        pick = {name: family if name in self.config.family_fields else nearest for name in _PLAN_FIELDS}
        plan = Plan(**self.plans[pick["input"][0][0]].field_values())
        k = max(1, self.config.k)
        for name in (CATEGORY_FIELD, *LABEL_FIELDS):
            classifier = self.classifiers.get(name)
            setattr(plan, name, classifier.predict_one(requirement, attributes) if classifier
                    else self._vote(pick[name][:k], name, getattr(plan, name)))
        if in_family and family_of_category(plan.task_category) is not spec.family:
            plan.task_category = self._vote(family[:k], CATEGORY_FIELD, plan.task_category)  # the family's spelling
        for name in NUMBER_FIELDS:
            values = sorted(v for i, _ in pick[name][:k] if (v := getattr(self.plans[i], name)) is not None)
            if values:
                setattr(plan, name, statistics.median_low(values))
        plan.layers = self._central_layers(pick["layers"][:k]) or plan.layers
        item_text = f"{requirement} {flat_attributes(attributes)}"
        for name in IO_FIELDS:
            text = self._item_text_field(name, pick[name][: self.config.text_candidates], item_text)
            if text is not None:
                setattr(plan, name, adapt(text, spec))
        plan, repairs = fit_plan_to_task(plan, spec, texts_from_family=in_family)
        return PlanPrediction(plan, plan.to_json(), repairs, task=spec)

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

    def _item_text_field(self, name: str, candidates, item_text: str) -> str | None:
        """The candidate Input (or Output) most like the others and most about this item's own words."""
        profiles = [profile for i, _ in candidates if (profile := self._profile(name, i)).length]
        if len(profiles) < 2:
            return None
        item_words = set(_WORD.findall(item_text.lower()))

        def score(position: int) -> float:
            candidate = profiles[position]
            if not candidate.words:
                return -math.inf
            consensus = sum(candidate.bleu(other) for j, other in enumerate(profiles) if j != position)
            inside = sum(word in item_words for word in candidate.words) / len(candidate.words)
            foreign = sum(word not in item_words and word in self._rare_words
                          for word in candidate.words) / len(candidate.words)
            return (consensus / (len(profiles) - 1) + self.config.item_word_weight * inside
                    - self.config.foreign_word_weight * foreign)

        return profiles[max(range(len(profiles)), key=score)].text

    def _profile(self, name: str, index: int) -> _TextProfile:
        key = (name, index)
        if key not in self._profiles:
            self._profiles[key] = _TextProfile(getattr(self.plans[index], name) or "")
        return self._profiles[key]

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
                 batch_size: int = 16, device: str | int | None = None):
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from dlcodegen.planning.plan_pipeline import DLPlanGenerationPipeline

        path = Path(model)
        if not path.exists() and (str(model).startswith((".", "/")) or path.suffix or len(path.parts) > 2):
            raise MissingError(f"planner model folder {model} does not exist")
        if path.exists() and not (path / "config.json").is_file():
            raise MissingError(f"{model} is not a model folder (no config.json)")
        self.name = str(model)
        self.num_beams, self.max_new_tokens, self.batch_size = num_beams, max_new_tokens, batch_size
        try:
            self.pipe = DLPlanGenerationPipeline(model=AutoModelForCausalLM.from_pretrained(str(model)),
                                                 tokenizer=AutoTokenizer.from_pretrained(str(model)), device=device)
        except OSError as error:  # not a folder here, and the Hub is unreachable or has no such repo
            raise MissingError(f"planner {model} is neither a model folder here nor a model the Hugging Face "
                                    f"Hub could provide ({type(error).__name__})") from None

    def _options(self) -> dict:
        options = {"num_beams": self.num_beams, "return_plan_object": True}
        if self.max_new_tokens:
            options["max_new_tokens"] = self.max_new_tokens
        return options

    def predict(self, requirement: str, attributes="") -> PlanPrediction:
        check_requirement(requirement)
        return self._wrap(self.pipe({"user_requirement": requirement, "dataset_attributes": attributes},
                                    **self._options()), requirement, attributes)

    def predict_batch(self, items: Iterable[tuple[str, object]]) -> list[PlanPrediction]:
        items = list(items)
        inputs = []
        for requirement, attributes in items:
            check_requirement(requirement)
            inputs.append({"user_requirement": requirement, "dataset_attributes": attributes})
        outputs = self.pipe(inputs, batch_size=self.batch_size, **self._options())
        return [self._wrap(output, *item) for output, item in zip(outputs, items)]

    @staticmethod
    def _wrap(output: dict, requirement: str, attributes) -> PlanPrediction:
        return true_to_task(PlanPrediction(output["plan"], output["plan_text"], output["repairs"], output["error"]),
                            read_task(requirement, attributes))


def true_to_task(prediction: PlanPrediction, spec: TaskSpec | None) -> PlanPrediction:
    """The prediction with its plan kept true to the task (a model's Input/Output rewritten where they describe
    other data), the changes added to its repairs."""
    if prediction.plan is None or spec is None:
        return prediction
    plan, repairs = fit_plan_to_task(prediction.plan, spec, texts_from_family=False)
    fresh = [line for line in repairs if line not in prediction.repairs]
    return PlanPrediction(plan, plan.to_json() if fresh else prediction.plan_text, [*prediction.repairs, *fresh],
                          prediction.error, spec)


HYBRID_FILE = "hybrid.json"  # in a neural planner's model folder: the fields it predicts better than retrieval
def hybrid_fields(model: str | Path) -> tuple[str, ...]:
    import json

    path = Path(model) / HYBRID_FILE
    if not path.is_file():
        raise MissingError(f"hybrid:{model} needs {path}, the fields chosen on validation: "
                        f"run `dlcodegen plan hybrid {model}` first")
    return tuple(json.loads(path.read_text(encoding="utf-8"))["neural_fields"])


class HybridPlanner:
    """Per-field ensemble: the neural planner's fields where it beat retrieval on validation, retrieval's others."""

    def __init__(self, retrieval: RetrievalPlanner, neural: NeuralPlanner, neural_fields: Sequence[str]):
        self.retrieval, self.neural, self.neural_fields = retrieval, neural, tuple(neural_fields)
        self.name = f"hybrid:{neural.name}"

    def predict(self, requirement: str, attributes="") -> PlanPrediction:
        return self.predict_batch([(requirement, attributes)])[0]

    def predict_batch(self, items: Iterable[tuple[str, object]]) -> list[PlanPrediction]:
        items = list(items)
        bases = self.retrieval.predict_batch(items)
        if not self.neural_fields:
            return bases
        results = []
        for base, generated in zip(bases, self.neural.predict_batch(items)):
            plan = base.plan
            if generated.plan is not None and plan is not None:
                for name in self.neural_fields:
                    if getattr(generated.plan, name) is not None:
                        setattr(plan, name, getattr(generated.plan, name))
            prediction = PlanPrediction(plan, plan.to_json() if plan else base.plan_text,
                                        [*generated.repairs, *base.repairs], generated.error)
            results.append(true_to_task(prediction, base.task))
        return results


def load_planner(spec: str | None = None, data_path: str | os.PathLike | None = None, **options) -> Planner:
    """`retrieval`, `llm` (few-shot prompts to the configured LLM; options `client`, `llm_config`, `shots`),
    `hybrid:MODEL`, a model folder or a Hub id; `None` gives the shipped default."""
    spec = spec or DEFAULT_PLANNER
    if spec == "retrieval":
        return RetrievalPlanner.from_dataset(data_path)
    if spec == "llm":
        from dlcodegen.llm import make_client
        from dlcodegen.planning.llm_planner import LLMPlanner

        client = options.pop("client", None) or make_client(options.pop("llm_config", None))
        shots = options.pop("shots", 5)
        if options:
            logger.debug("the llm planner ignores the options %s", ", ".join(sorted(options)))
        return LLMPlanner(client, RetrievalPlanner.from_dataset(data_path), shots=shots, data_path=data_path)
    if spec.startswith("hybrid:"):
        model = spec[len("hybrid:"):]
        return HybridPlanner(RetrievalPlanner.from_dataset(data_path), NeuralPlanner(model, **options),
                             hybrid_fields(model))
    return NeuralPlanner(spec, **options)


def predict_split(planner, rows, progress: bool = True, chunk: int = 16) -> list[PlanPrediction]:
    """The planner's prediction for each DLPlanData row, in order (in chunks, so neural planners batch)."""
    from tqdm.auto import tqdm

    items = [(row["user_requirement"], row["dataset_attributes"]) for row in rows]
    predictions: list[PlanPrediction] = []
    with tqdm(total=len(items), desc=f"planning with {planner.name}", disable=not progress) as bar:
        for start in range(0, len(items), chunk):
            predictions += planner.predict_batch(items[start:start + chunk])
            bar.update(min(chunk, len(items) - start))
    return predictions


def predict_rows(planner, rows, progress: bool = True) -> list[dict]:
    """`{"id", "plan", "plan_text"}` for each DLPlanData row."""
    return [prediction.as_row(row_id)
            for prediction, row_id in zip(predict_split(planner, rows, progress), rows["id"])]
