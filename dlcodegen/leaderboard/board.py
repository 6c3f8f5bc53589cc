"""The board: entries as rows (best task-fit rate first, CodeBLEU beside it; any column can sort it), for
`leaderboard show`, its `--json` and the Space's table."""

from __future__ import annotations

from typing import Any

from dlcodegen.leaderboard.store import Entry
from dlcodegen.leaderboard.submission import escape_markdown

# JSON key -> column title in the Space and the text table; one home for both.
COLUMNS = {
    "rank": "#", "method": "Method", "backbone": "Backbone", "source": "Source", "date": "Date",
    "codebleu": "CodeBLEU", "paper_codebleu": "Paper CodeBLEU", "calibrated_codebleu": "Length-calibrated",
    "ngram": "n-gram", "weighted_ngram": "Weighted n-gram", "syntax": "Syntax", "dataflow": "Dataflow",
    "mean_lines": "Mean lines", "reference_mean_lines": "Reference lines", "adherence": "Plan adherence %",
    "parse_rate": "Parses %", "model_built_rate": "Builds %", "train_step_rate": "Trains a step %",
    "task_fit_rate": "Fits the task %", "learns_rate": "Learns %", "execution": "Execution",
    "contact": "Contact", "link": "Link", "hash": "Hash",
}
RATE_COLUMNS = ("parse_rate", "model_built_rate", "train_step_rate", "task_fit_rate", "learns_rate")
NUMBER_COLUMNS = ("codebleu", "paper_codebleu", "calibrated_codebleu", "ngram", "weighted_ngram", "syntax",
                  "dataflow", "mean_lines", "reference_mean_lines", "adherence", *RATE_COLUMNS)
TEXT_TABLE_COLUMNS = ("rank", "method", "backbone", "source", "task_fit_rate", "codebleu", "paper_codebleu",
                      "calibrated_codebleu", "mean_lines", "adherence", "train_step_rate", "learns_rate", "execution",
                      "hash")
DEFAULT_SORT = "task_fit_rate"


def _execution(entry: Entry, status: dict, seeds: dict) -> tuple[dict, str]:
    """(the entry's level rates, its execution status: done, pending, partial (a seed row with only the measured
    train-step rate) or "-" (never requested))."""
    if entry.hash in status:
        record = status[entry.hash]
        return (record.get("rates") or {}, "done") if record["status"] == "done" else ({}, "pending")
    shipped = seeds.get(f"{entry.backbone}/{entry.method}") if entry.source != "submission" else None
    if shipped:
        return shipped, "done"
    measured = entry.scores.get("verify_rate")
    return ({"train_step_rate": measured}, "partial") if measured is not None else ({}, "-")


def board_rows(entries: list[Entry], status: dict | None = None, seeds: dict | None = None,
               sort: str = DEFAULT_SORT) -> list[dict]:
    """One dict per entry, sorted by `sort` (best first; CodeBLEU breaks ties); scores in percent (0-100), `hash`
    in full. `status` are the execution results by hash, `seeds` the shipped rates of the seed rows."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        scores = entry.scores
        rates, execution = _execution(entry, status or {}, seeds or {})
        rows.append({"method": entry.method, "backbone": entry.backbone, "source": entry.source,
                     "date": entry.date[:10], **{name: scores.get(name) for name in NUMBER_COLUMNS},
                     **{name: rates.get(name) for name in RATE_COLUMNS}, "execution": execution,
                     "contact": entry.contact, "link": entry.link, "hash": entry.hash})
    return [{"rank": position, **row} for position, row in enumerate(sort_rows(rows, sort), start=1)]


def sort_rows(rows: list[dict], column: str = DEFAULT_SORT) -> list[dict]:
    """Best first by `column` (numbers high first, except mean lines: none is better; text A-Z), CodeBLEU next;
    rows without a value last."""
    if column not in COLUMNS or column == "rank":
        raise ValueError(f"cannot sort by {column!r}: choose one of {', '.join(name for name in COLUMNS if name != 'rank')}")
    if column in NUMBER_COLUMNS:
        return sorted(rows, key=lambda row: (row[column] is None, -(row[column] or 0.0), -(row["codebleu"] or 0.0),
                                             row["method"], row["backbone"]))
    return sorted(rows, key=lambda row: (str(row[column] or "").lower(), -(row["codebleu"] or 0.0), row["method"]))


def _shown(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def format_board(rows: list[dict]) -> str:
    """A plain-text table for the terminal."""
    table = [[COLUMNS[name] for name in TEXT_TABLE_COLUMNS]]
    table += [[_shown(row[name])[:12] if name == "hash" else _shown(row[name]) for name in TEXT_TABLE_COLUMNS]
              for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(TEXT_TABLE_COLUMNS))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in table)


def _link_target(link: str) -> str:
    """The URL with brackets and parentheses percent-encoded, so it cannot end the Markdown link early."""
    return link.translate({ord("("): "%28", ord(")"): "%29", ord("["): "%5B", ord("]"): "%5D"})


def display_rows(rows: list[dict]) -> list[dict]:
    """Rows as the Space shows them: submitter text escaped for Markdown, the method linked when a link exists,
    numbers rounded, the hash shortened."""
    shown = []
    for row in rows:
        method = escape_markdown(row["method"])
        if row["link"]:
            method = f"[{method}]({_link_target(row['link'])})"
        shown.append({**row, "method": method, "backbone": escape_markdown(row["backbone"]),
                      "contact": escape_markdown(row["contact"]), "hash": row["hash"][:12],
                      **{name: None if row[name] is None else round(row[name], 2) for name in NUMBER_COLUMNS}})
    return shown


def filter_rows(rows: list[dict], search: str = "", sources=None, backbones=None) -> list[dict]:
    """Rows whose method, backbone, contact or hash contain every word of `search` (case-insensitive), from the
    chosen sources and backbones (None: all)."""
    words = search.lower().split()
    kept = []
    for row in rows:
        text = " ".join(str(row[name]) for name in ("method", "backbone", "contact", "hash", "source")).lower()
        if all(word in text for word in words) and (sources is None or row["source"] in sources) and \
                (backbones is None or row["backbone"] in backbones):
            kept.append(row)
    return kept
