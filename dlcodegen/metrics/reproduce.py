"""Recompute the paper's Table II from its released generations and compare cell by cell."""

from __future__ import annotations

from dataclasses import dataclass

from dlcodegen.metrics.normalize import DEFAULT_NORMALIZATION
from dlcodegen.paper import TABLE2, TABLE2_BACKBONES, TABLE2_COLUMN_TITLES, TABLE2_COLUMNS, TABLE2_METHODS

CODEBLEU_TOLERANCE = 1.5


@dataclass
class Table2Row:
    backbone: str
    method: str
    ours: tuple[float, ...]  # percent, in TABLE2_COLUMNS order
    paper: tuple[float, ...]
    unformatted: int

    @property
    def diff(self) -> tuple[float, ...]:
        return tuple(ours - paper for ours, paper in zip(self.ours, self.paper))


def generation_sets(generations) -> dict[tuple[str, str], dict[int, str]]:
    """The released generations (`dlcodeeval-generations` rows) as {(backbone, method): {id: generation}}."""
    by_key: dict[tuple[str, str], dict[int, str]] = {}
    for row in generations:
        by_key.setdefault((row["backbone"], row["method"]), {})[row["id"]] = row["generation"]
    return by_key


def reproduce_table2(references: list[str], generations, normalize_mode: str = DEFAULT_NORMALIZATION,
                     progress: bool = True) -> tuple[list[Table2Row], int]:
    """Score the 10 released generation sets; returns the rows and the number of unformatted references."""
    from tqdm.auto import tqdm

    from dlcodegen.metrics.scoring import score_codebleu

    by_key = generation_sets(generations)
    rows, unformatted_refs = [], 0
    keys = [(backbone, method) for backbone in TABLE2_BACKBONES for method in TABLE2_METHODS]
    for backbone, method in tqdm(keys, desc="Table II", disable=not progress):
        generated = by_key[(backbone, method)]
        predictions = [generated[index] for index in range(len(references))]
        scores = score_codebleu(predictions, references, normalize_mode=normalize_mode)
        unformatted_refs = scores.get("unformatted_references", 0)
        rows.append(Table2Row(backbone, method, tuple(scores[key] for key in TABLE2_COLUMNS),
                              TABLE2[(backbone, method)], scores.get("unformatted_predictions", 0)))
    return rows, unformatted_refs


def ranking(rows: list[Table2Row], backbone: str, use_paper: bool) -> list[str]:
    chosen = [row for row in rows if row.backbone == backbone]
    return [row.method for row in sorted(chosen, key=lambda row: -(row.paper if use_paper else row.ours)[-1])]


def format_table2(rows: list[Table2Row], unformatted_refs: int, normalize_mode: str) -> str:
    header = "| backbone | method | " + " | ".join(TABLE2_COLUMN_TITLES) + " | unformatted |"
    lines = [f"Table II recomputed with normalize={normalize_mode!r}: ours / paper (ours - paper), percent", "",
             header, "|" + " --- |" * (len(TABLE2_COLUMN_TITLES) + 3)]
    for row in rows:
        cells = [f"{ours:.2f} / {paper:.2f} ({diff:+.2f})" for ours, paper, diff in zip(row.ours, row.paper, row.diff)]
        lines.append(f"| {row.backbone} | {row.method} | " + " | ".join(cells) + f" | {row.unformatted}/46 |")
    lines.append("")
    lines.append(f"References black could not format (scored unformatted): {unformatted_refs}/46")
    worst = max(rows, key=lambda row: abs(row.diff[-1]))
    within = sum(abs(row.diff[-1]) <= CODEBLEU_TOLERANCE for row in rows)
    lines.append(f"CodeBLEU cells within {CODEBLEU_TOLERANCE} points of the paper: {within}/{len(rows)} "
                 f"(largest gap {worst.diff[-1]:+.2f}: {worst.backbone} {worst.method})")
    for backbone in TABLE2_BACKBONES:
        ours, paper = ranking(rows, backbone, False), ranking(rows, backbone, True)
        verdict = "same ranking" if ours == paper else "DIFFERENT ranking"
        lines.append(f"{backbone}: {verdict}: ours {' > '.join(ours)}; paper {' > '.join(paper)}")
    return "\n".join(lines)
