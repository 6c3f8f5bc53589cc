"""The board: entries as rows (best CodeBLEU first), for `leaderboard show`, its `--json` and the Space's table."""

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
    "verify_rate": "Verify pass %", "contact": "Contact", "link": "Link", "hash": "Hash",
}
NUMBER_COLUMNS = ("codebleu", "paper_codebleu", "calibrated_codebleu", "ngram", "weighted_ngram", "syntax",
                  "dataflow", "mean_lines", "reference_mean_lines", "adherence", "verify_rate")
TEXT_TABLE_COLUMNS = ("rank", "method", "backbone", "source", "codebleu", "paper_codebleu", "calibrated_codebleu",
                      "mean_lines", "adherence", "verify_rate", "hash")


def board_rows(entries: list[Entry]) -> list[dict]:
    """One dict per entry, best CodeBLEU first; scores in percent (0-100), `hash` in full."""
    rows: list[dict[str, Any]] = []
    for entry in entries:
        scores = entry.scores
        rows.append({"method": entry.method, "backbone": entry.backbone, "source": entry.source,
                     "date": entry.date[:10], **{name: scores.get(name) for name in NUMBER_COLUMNS},
                     "contact": entry.contact, "link": entry.link, "hash": entry.hash})
    rows.sort(key=lambda row: (-(row["codebleu"] or 0.0), row["method"], row["backbone"]))
    return [{"rank": position, **row} for position, row in enumerate(rows, start=1)]


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
