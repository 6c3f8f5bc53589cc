"""The paper's released RQ3 plan predictions (`Results/RQ3/results/*.txt` of the artifact), scored like our planners.

Each file holds one line per DLPlanData test item, in the order of the test split. A line is the DLPlanData record
the model was prompted with, completed by the model: `{"User Requirement": ..., "Dataset Attributes": ...,
"Code Plan": PLAN}`. The predicted plan is PLAN, the text between `"Code Plan":` and the record's closing brace
(the line's last character), exactly as the model wrote it: GPT-2's plans are often truncated, and the record's
brace is not part of them (read as the plan's own, it would close the wrong bracket of a cut-off plan). That text
goes through `compute_plan_metrics`, so `Plan.from_text` repairs or rejects it as it does our planners' output; a
line without a `"Code Plan"` key holds no plan and counts as unparseable.

The caller passes the artifact folder (the CLI finds it as the datasets builder does); this module never looks
for it, so the metrics package stays free of the folder packages.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.core.plan import PLAN_LABEL, REQUIREMENT_LABEL
from dlcodegen.metrics.plan_metrics import compute_plan_metrics

logger = logging.getLogger(__name__)

RESULTS_DIR = "Results/RQ3/results"
TEST_ITEMS = 400  # DLPlanData test items: one released line each
ALL = "all"

_PLAN_KEY = re.compile(r'["\']%s["\']\s*:' % re.escape(PLAN_LABEL))
_REQUIREMENT_KEY = re.compile(r'\s*\{\s*"%s"\s*:\s*' % re.escape(REQUIREMENT_LABEL))
_SPACE = re.compile(r"\s+")


def column_title(name: str) -> str:
    """The report column of a released set."""
    return f"paper {name} (released)"


def results_folder(artifact: str | Path) -> Path:
    """The artifact's folder of released plan predictions; MissingError when it is not there."""
    folder = Path(artifact) / RESULTS_DIR
    if not folder.is_dir():
        raise MissingError(f"{folder} is missing: the DLCodeGen artifact at {artifact} holds no released RQ3 plan "
                           "predictions")
    return folder


def released_names(artifact: str | Path) -> list[str]:
    """The released prediction sets, named by their files (`GPT-2-Large_Beam`, ...)."""
    return sorted(path.stem for path in results_folder(artifact).glob("*.txt"))


def select_names(requested: Sequence[str], artifact: str | Path) -> list[str]:
    """`requested` in order without repeats, `all` expanded; MissingError naming the sets when one has no file."""
    available = released_names(artifact)
    chosen: list[str] = []
    for name in requested:
        for item in available if name == ALL else [name]:
            if item not in available:
                raise _missing_set(artifact, item, available)
            if item not in chosen:
                chosen.append(item)
    return chosen


def _missing_set(artifact: str | Path, name: str, available: list[str]) -> MissingError:
    return MissingError(f"{results_folder(artifact) / (name + '.txt')} is missing: the released sets are "
                        f"{', '.join(available) or 'none'} (or {ALL})")


def plan_text(line: str) -> str:
    """The predicted plan of one released line: after `"Code Plan":`, without the record's closing brace."""
    match = _PLAN_KEY.search(line)
    if match is None:
        return ""  # the prompt alone: no plan to read
    text = line[match.end():].strip()
    if line.lstrip().startswith("{") and text.endswith("}"):
        text = text[:-1].rstrip()
    return text


def line_requirement(line: str) -> str | None:
    """The user requirement the line starts with, or None when it cannot be read."""
    match = _REQUIREMENT_KEY.match(line)
    if match is None:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(line, match.end())
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ReleasedPlans:
    """One released set read and aligned to the test split by order."""

    name: str
    plan_texts: tuple[str, ...]
    requirements_read: int  # lines whose requirement could be read
    identical: int  # ... and equals the test item's
    identical_ignoring_spaces: int  # ... once all whitespace is removed (GPT-2's decoding drops some spaces)

    def describe(self) -> str:
        return (f"{column_title(self.name)}: {len(self.plan_texts)} lines aligned to the DLPlanData test split by "
                f"order; requirement of the line = the test item's on {self.identical}/{self.requirements_read} "
                f"lines, {self.identical_ignoring_spaces}/{self.requirements_read} ignoring whitespace")


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = [line.rstrip("\r") for line in text.split("\n")]  # not splitlines: JSON strings may hold U+2028
    return lines[:-1] if lines and lines[-1] == "" else lines


def read_released(name: str, artifact: str | Path, requirements: Sequence[str]) -> ReleasedPlans:
    """Read the set `name` and check it against the test split's `requirements` (all 400, in order).

    InputError when the file does not hold one line per test item, or a line's requirement is another item's.
    """
    if len(requirements) != TEST_ITEMS:
        raise ValueError(f"the released predictions align to the {TEST_ITEMS} DLPlanData test items, "
                         f"got {len(requirements)} requirements")
    path = results_folder(artifact) / f"{name}.txt"
    if not path.is_file():
        raise _missing_set(artifact, name, released_names(artifact))
    lines = _lines(path)
    if len(lines) != TEST_ITEMS:
        raise InputError(f"{path} holds {len(lines)} lines, not {TEST_ITEMS}: one per DLPlanData test item expected")
    read = identical = loose = 0
    for position, (line, expected) in enumerate(zip(lines, requirements)):
        found = line_requirement(line)
        if found is None:
            continue
        read += 1
        identical += found == expected
        if _SPACE.sub("", found) != _SPACE.sub("", expected):
            raise InputError(f"{path} line {position + 1} carries the requirement of another item than test item "
                             f"{position}: the file is not in the order of the test split")
        loose += 1
    released = ReleasedPlans(name, tuple(plan_text(line) for line in lines), read, identical, loose)
    logger.info("%s", released.describe())
    return released


def score_released(released: ReleasedPlans, rows, limit: int | None = None) -> dict:
    """The plan metrics of a released set on the test `rows` (or their first `limit`), as `evaluate_planner`'s."""
    if limit:
        rows = rows.select(range(min(limit, len(rows))))
    return compute_plan_metrics(list(released.plan_texts[:len(rows)]), rows["plan_text"])


def evaluate_released(name: str, artifact: str | Path, rows, limit: int | None = None) -> dict:
    """Read the released set `name` against the DLPlanData test `rows` and score it."""
    return score_released(read_released(name, artifact, rows["user_requirement"]), rows, limit)
