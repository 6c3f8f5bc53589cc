"""The rows a fresh board starts with: the paper's 10 released generation sets (with the paper's reported
CodeBLEU beside our score) and this package's three methods that need no LLM.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from dlcodegen.paper import TABLE2

BASELINE_METHODS = ("random-sibling", "retrieval-only", "offline")
NO_LLM_BACKBONE = "none"


@dataclass(frozen=True)
class SeedSet:
    method: str
    backbone: str
    source: str  # paper | baseline
    codes: dict[int, str]
    paper_codebleu: float | None = None
    note: str = ""


def measured_verify_rates() -> dict[str, float]:
    text = resources.files("dlcodegen.leaderboard").joinpath("measured.json").read_text(encoding="utf-8")
    return json.loads(text)["verify_rate"]


def paper_sets(data_path=None) -> list[SeedSet]:
    from dlcodegen.data import load_local
    from dlcodegen.metrics.reproduce import generation_sets

    by_key = generation_sets(load_local("dlcodeeval-generations", split="test", path=data_path))
    return [SeedSet(method, backbone, "paper", codes, TABLE2[(backbone, method)][-1],
                    "released with the paper; scored here")
            for (backbone, method), codes in sorted(by_key.items())]


def baseline_sets(pool, data_path=None, progress: bool = True) -> list[SeedSet]:
    """The no-LLM methods run over DLCodeEval (leave-one-out, the shipped planner) on `pool` (DLSamplePool without
    the user's samples: the scorer's)."""
    from tqdm.auto import tqdm

    from dlcodegen.data import load_local
    from dlcodegen.generator.setup import GeneratorSetup, build_generator
    from dlcodegen.planning.planners import load_planner

    items = list(load_local("dlcodeeval", split="test", path=data_path))
    planner = load_planner(None, data_path=data_path)
    sets = []
    for method in BASELINE_METHODS:
        generator, _ = build_generator(GeneratorSetup(method=method, backend="offline", data_path=data_path),
                                       planner=planner, pool=pool)
        codes = {row["id"]: _generated(generator, row) for row in tqdm(items, desc=f"seed {method}",
                                                                           disable=not progress)}
        sets.append(SeedSet(method, NO_LLM_BACKBONE, "baseline", codes, note="this package, no LLM"))
    return sets


def _generated(generator, row: dict) -> str:
    """The method's project for one item; a method that cannot write one (a family the offline generator does not
    write) gives a one-line project saying why, which scores as what it is."""
    from dlcodegen.core.results import GenerationError

    try:
        return generator.generate(row["user_requirement"], row["dataset_attributes"], row["id"]).code
    except GenerationError as error:
        return f"# {error}\n"
