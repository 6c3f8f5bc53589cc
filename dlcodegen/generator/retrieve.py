"""Code RAG: BM25 over the sample pool's plans within the plan's task category, and the other ways to pick samples.

Leave-one-out is built in: a query for a DLCodeEval item (`item_id`) never returns the sample whose `source_id` is
that item, and no query returns a sample whose requirement is the query's own, in any method.
"""

from __future__ import annotations

import random
import re
from typing import Sequence

from dlcodegen.core.errors import ConfigurationError
from dlcodegen.core.items import Retrieved, Sample
from dlcodegen.core.plan import Plan, normalize_label
from dlcodegen.core.task import family_of_category

_WORD = re.compile(r"[a-z0-9]+")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def plan_words(plan: Plan) -> list[str]:
    """The plan as a BM25 document: every field's words (layers included), field names left out."""
    values = plan.field_values()
    parts = [str(value) for name, value in values.items() if value is not None and name != "layers"]
    parts.extend(plan.layers or [])
    return words(" ".join(parts))


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).lower() == " ".join(b.split()).lower()


def allowed(pool: Sequence[Sample], requirement: str, item_id: int | None) -> list[Sample]:
    """The pool less the query's own answer (leave-one-out)."""
    return [sample for sample in pool
            if not (item_id is not None and sample.source_id == item_id) and not _same_text(sample.requirement,
                                                                                              requirement)]


def _bm25_top(documents: list[list[str]], query: list[str], k: int) -> list[tuple[int, float]]:
    from rank_bm25 import BM25Okapi

    if not documents:
        return []
    scores = BM25Okapi(documents).get_scores(query)
    order = sorted(range(len(documents)), key=lambda i: (-scores[i], i))[:k]
    return [(i, float(scores[i])) for i in order]


def _task_key(category: str | None) -> str | None:
    family = family_of_category(category)
    return family.name if family else normalize_label(category)


def sample_family(sample: Sample) -> str | None:
    """The task family of a pool sample (from its plan's category)."""
    return _task_key(sample.plan.task_category)


def same_task(samples: Sequence[Sample], plan: Plan) -> list[Sample]:
    """The samples whose task family is the plan's (unknown spellings: the same category)."""
    key = _task_key(plan.task_category)
    return [sample for sample in samples if key and _task_key(sample.plan.task_category) == key]


class CodeRetriever:
    """Code RAG: the plan is the query, the pool's plans are the documents, within the plan's task family (any
    DLPlanData spelling of it); the whole pool only when the family has no sample."""

    def __init__(self, pool: Sequence[Sample]):
        if not pool:
            raise ConfigurationError("the code sample pool is empty: build the datasets or add samples with "
                                     "`dlcodegen pool add`")
        self.pool = list(pool)
        self._documents = {sample.key: plan_words(sample.plan) for sample in self.pool}

    def retrieve(self, plan: Plan, requirement: str, item_id: int | None, k: int) -> list[Retrieved]:
        candidates = allowed(self.pool, requirement, item_id)
        scope = same_task(candidates, plan) or candidates
        top = _bm25_top([self._documents[s.key] for s in scope], plan_words(plan), k)
        return [Retrieved(scope[i], score) for i, score in top]


class RequirementRetriever:
    """CEDAR's retrieval: BM25 over the pool's requirements, the user requirement as the query."""

    def __init__(self, pool: Sequence[Sample]):
        self.pool = list(pool)
        self._documents = {sample.key: words(sample.requirement) for sample in self.pool}

    def retrieve(self, requirement: str, item_id: int | None = None, k: int = 1) -> list[Retrieved]:
        scope = allowed(self.pool, requirement, item_id)
        top = _bm25_top([self._documents[s.key] for s in scope], words(requirement), k)
        return [Retrieved(scope[i], score) for i, score in top]


def random_sibling(pool: Sequence[Sample], requirement: str, item_id: int | None, seed: int) -> Retrieved:
    """A seeded random other sample of the pool: the calibration row (what an unrelated notebook scores)."""
    scope = allowed(pool, requirement, item_id)
    if not scope:
        raise ConfigurationError("the code sample pool has no sample other than the item's own")
    salt = item_id if item_id is not None else sum(map(ord, requirement))
    return Retrieved(random.Random(f"{seed}:{salt}").choice(scope), 0.0)
