"""Side-by-side text tables of plan metrics (Table IV layout)."""

from __future__ import annotations

from dlcodegen.paper import LOWER_IS_BETTER, TABLE4_GPT2_LARGE_BEAM
from dlcodegen.plan_metrics import RESULT_KEYS

TITLES = {
    "bleu": "Plan BLEU", "input_bleu": "Input BLEU", "output_bleu": "Output BLEU", "category_em": "Category EM %",
    "layers_mld": "Layers MLD (lower better)", "learning_rate_mae": "LR MAE (lower better)",
    "loss_function_em": "Loss function EM %", "optimizer_em": "Optimizer EM %",
    "batch_size_mae": "Batch size MAE (lower better)", "epochs_mae": "Epochs MAE (lower better)",
    "metric_em": "Metric EM %", "unparseable": "Unparseable", "count": "Items",
}


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
        lines.append(f"| {TITLES[key]} | " + " | ".join(cells) + " |")
    if paper:
        lines.append("")
        for name in names:
            beaten = [key for key, theirs in TABLE4_GPT2_LARGE_BEAM.items()
                      if columns[name].get(key) is not None and (
                          columns[name][key] < theirs if key in LOWER_IS_BETTER else columns[name][key] > theirs)]
            lines.append(f"{name} beats the paper's GPT-2-large (beam) on {len(beaten)}/{len(TABLE4_GPT2_LARGE_BEAM)}"
                         f" fields: {', '.join(TITLES[key].split(' (')[0] for key in beaten) or 'none'}")
    return "\n".join(lines)
