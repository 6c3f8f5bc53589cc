"""Side-by-side text tables of plan metrics (Table IV layout)."""

from __future__ import annotations

from dlcodegen.core.plan import EM_FIELDS
from dlcodegen.metrics.plan_metrics import LOWER_IS_BETTER, METRIC_NAMES, RESULT_KEYS
from dlcodegen.paper import TABLE4_GPT2_LARGE_BEAM


def title(key: str) -> str:
    """`METRIC_NAMES` with the unit and direction a table reader needs."""
    unit = " %" if key in EM_FIELDS else ""
    direction = " (lower better)" if key in LOWER_IS_BETTER and key != "unparseable" else ""
    return f"{METRIC_NAMES[key]}{unit}{direction}"


def _cell(value) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int):
        return str(value)
    return f"{value:.3f}" if abs(value) < 1 else f"{value:.2f}"


def _difference(ours, theirs, key: str) -> str:
    """ours - paper, marked with the side that is better (lower for error metrics)."""
    if ours is None or theirs is None:
        return "n/a"
    difference = ours - theirs
    better = difference < 0 if key in LOWER_IS_BETTER else difference > 0
    return f"{_cell(difference) if difference < 0 else '+' + _cell(difference)} {'(ours better)' if better else '(paper better)'}"


def format_plan_report(columns: dict[str, dict], split: str, paper: bool = False) -> str:
    """Markdown table: one row per metric, one column per planner; with `paper`, the paper's GPT-2-large (Table IV,
    test split) beside them and, per planner, the difference (ours - paper) with which side is better."""
    names = list(columns)
    header = ["metric", *names]
    if paper:
        header += ["paper GPT-2-large (beam)", *[f"{name} - paper" for name in names]]
    lines = [f"Plan metrics on DLPlanData {split}", "", "| " + " | ".join(header) + " |",
             "|" + " --- |" * len(header)]
    for key in RESULT_KEYS:
        cells = [_cell(columns[name].get(key)) for name in names]
        if paper:
            theirs = TABLE4_GPT2_LARGE_BEAM.get(key)
            cells.append(_cell(theirs))
            cells += [_difference(columns[name].get(key), theirs, key) for name in names]
        lines.append(f"| {title(key)} | " + " | ".join(cells) + " |")
    if paper:
        lines.append("")
        for name in names:
            beaten = [key for key, theirs in TABLE4_GPT2_LARGE_BEAM.items()
                      if columns[name].get(key) is not None and (
                          columns[name][key] < theirs if key in LOWER_IS_BETTER else columns[name][key] > theirs)]
            lines.append(f"{name} beats the paper's GPT-2-large (beam) on {len(beaten)}/{len(TABLE4_GPT2_LARGE_BEAM)}"
                         f" fields: {', '.join(METRIC_NAMES[key] for key in beaten) or 'none'}")
    return "\n".join(lines)
