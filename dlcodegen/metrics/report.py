"""Side-by-side text tables of plan metrics (Table IV layout)."""

from __future__ import annotations

from dlcodegen.metrics.plan_metrics import EM_FIELDS, LOWER_IS_BETTER, METRIC_NAMES, RESULT_KEYS
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


def format_plan_report(columns: dict[str, dict], split: str, paper: bool = False) -> str:
    """Markdown table: one row per metric, one column per planner (and the paper's GPT-2-large when asked)."""
    names = list(columns)
    header = ["metric", *names] + (["paper GPT-2-large (beam)"] if paper else [])
    lines = [f"Plan metrics on DLPlanData {split}", "", "| " + " | ".join(header) + " |",
             "|" + " --- |" * len(header)]
    for key in RESULT_KEYS:
        cells = [_cell(columns[name].get(key)) for name in names]
        if paper:
            cells.append(_cell(TABLE4_GPT2_LARGE_BEAM.get(key)))
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
