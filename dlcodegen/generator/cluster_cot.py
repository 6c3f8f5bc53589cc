"""Cluster-CoT's demonstrations: per task category, a representative DLPlanData requirement and its reasoning chain.

The representative of a category is chosen without an LLM (Auto-CoT's heuristic, adapted): among the category's
requirements of at most 60 words, the one whose words are most shared by the category's other requirements. Its
zero-shot chain of thought is asked of the configured LLM the first time the category is needed; the response
cache keeps it, so it is built once.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

from dlcodegen.core.errors import InputError
from dlcodegen.core.plan import normalize_label
from dlcodegen.generator.retrieve import words

MAX_REPRESENTATIVE_WORDS = 60


@dataclass(frozen=True)
class Demonstration:
    category: str
    requirement: str
    attributes: str
    chain: str


@dataclass(frozen=True)
class _Representative:
    category: str
    requirement: str
    attributes: str


class ClusterCoT:
    def __init__(self, rows):
        """`rows`: dicts with `user_requirement`, `dataset_attributes` and `task_category` (DLPlanData columns)."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            key = normalize_label(row["task_category"])
            if key:
                groups[key].append(row)
        if not groups:
            raise InputError("no DLPlanData rows with a task category to build Cluster-CoT demonstrations from")
        self.representatives = {key: _representative(members) for key, members in groups.items()}
        self._largest = max(groups, key=lambda key: len(groups[key]))
        self._chains: dict[str, Demonstration] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_dataset(cls, path=None) -> ClusterCoT:
        from dlcodegen.data import load_local

        train = load_local("dlplandata", split="train", path=path)
        return cls(train.select_columns(["user_requirement", "dataset_attributes", "task_category"]))

    def demonstration(self, context, category: str | None) -> Demonstration:
        """The category's demonstration (the largest category's when the plan's is unknown)."""
        key = normalize_label(category)
        key = key if key in self.representatives else self._largest
        with self._lock:
            if key in self._chains:
                return self._chains[key]
        representative = self.representatives[key]
        chain = context.ask("chain", "cot_chain.j2", code=False, requirement=representative.requirement,
                            attributes=representative.attributes)
        demonstration = Demonstration(representative.category, representative.requirement,
                                      representative.attributes, chain)
        with self._lock:
            return self._chains.setdefault(key, demonstration)


class ClusterCoTSource:
    """Cluster-CoT's demonstrations, built at first use (from DLPlanData-train at `data_path`) and kept: a generator
    is given one, and the runs of its Cluster-CoT methods share it. `ClusterCoTSource(demonstrations=...)` gives
    ready ones (tests, a custom set)."""

    def __init__(self, data_path=None, demonstrations: ClusterCoT | None = None):
        self.data_path, self._built = data_path, demonstrations
        self._lock = threading.Lock()

    def get(self) -> ClusterCoT:
        with self._lock:
            if self._built is None:
                self._built = ClusterCoT.from_dataset(self.data_path)
            return self._built


def _representative(members: list[dict]) -> _Representative:
    documents = [set(words(row["user_requirement"])) for row in members]
    frequency = Counter(word for document in documents for word in document)
    short = [i for i, row in enumerate(members)
             if len(row["user_requirement"].split()) <= MAX_REPRESENTATIVE_WORDS] or list(range(len(members)))

    def centrality(i: int) -> float:
        return sum(frequency[word] - 1 for word in documents[i]) / max(1, len(documents[i]))

    best = members[max(short, key=lambda i: (centrality(i), -i))]
    return _Representative(best["task_category"], best["user_requirement"], best["dataset_attributes"])
