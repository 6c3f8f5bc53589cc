"""Ablation of the code normalisation before CodeBLEU, measured on the paper's Table II.

Scores the paper's 10 released generation sets (46 items each) against DLCodeEval with the default normalisation
(`normalize="dlcodegen"`, the paper's post-processing read literally), with each of its five steps replaced or
left out in turn, with the principled reading and without normalisation, and prints one row per variant: how many
of the 10 CodeBLEU cells are within 1.5 points of the paper, the largest and the mean |ours - paper|, and whether
both backbones rank the five methods as the paper does. Runs under PYTHONHASHSEED=0 (it restarts itself so),
the setting the README's numbers were measured with; about a minute per variant on 2 CPU cores.

    python benchmarks/normalization_ablation.py [--data build/datasets] [--only NAME ...] [--full]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from typing import Callable


def _variants() -> dict[str, tuple[str, Callable]]:
    """name -> (what differs from the default, code -> NormalizedCode)."""
    from dlcodegen.extract import extract_code
    from dlcodegen.metrics import normalize as steps

    def pipeline(fences=steps.delete_fence_lines, comments=steps.strip_comments_by_line, black=True,
                 one_line=True, spacing=steps.space_specials_underscoring_strings):
        def run(code: str) -> steps.NormalizedCode:
            text = comments(fences(code or ""))
            text, formatted = steps.black_format(text) if black else (text, False)
            if one_line:
                return steps.NormalizedCode(spacing(steps.join_lines(text)), formatted)
            lines = [spacing(line.strip()) for line in text.split("\n") if line.strip()]
            return steps.NormalizedCode("\n".join(lines), formatted)
        return run

    def named(mode: str) -> Callable:
        return lambda code: steps.normalize(code, mode)

    def underscore_only(line: str) -> str:
        return steps._QUOTED.sub(lambda match: match.group(0).replace(" ", "_"), line)

    return {
        "dlcodegen": ("the default (steps 1-5)", named("dlcodegen")),
        "fences-extracted": ("1: fenced code extracted (prose dropped) instead of fence lines deleted",
                             pipeline(fences=extract_code)),
        "codexglue-comments": ("2: CodeXGLUE's comment remover instead of the \"\"\" toggle and # cut",
                               pipeline(comments=steps.remove_comments)),
        "no-black": ("3: black left out", pipeline(black=False)),
        "line-breaks-kept": ("4: line breaks kept (each line spaced on its own)", pipeline(one_line=False)),
        "strings-with-spaces": ("5: strings kept whole with their spaces (no underscores)",
                                pipeline(spacing=lambda line: steps.space_specials_underscoring_strings(
                                    line, underscore=False))),
        "no-spacing": ("5: no spaces put around special characters (strings still underscored)",
                       pipeline(spacing=underscore_only)),
        "dlcodegen-principled": ("fenced code extracted, CodeXGLUE's remover, strings kept whole by a Python "
                                 "string pattern", named("dlcodegen-principled")),
        "dlcodegen-principled-split-strings": ("the same, strings split too",
                                               named("dlcodegen-principled-split-strings")),
        "none": ("no normalisation", named("none")),
    }


def table2_rows(normalizer: Callable, references: list[str], sets: dict) -> tuple[list, int]:
    """Table II with `normalizer` applied to predictions and references (what `score_codebleu` does)."""
    from dlcodegen.metrics.codebleu import PreparedCode, PreparedReference, corpus_codebleu
    from dlcodegen.metrics.reproduce import Table2Row
    from dlcodegen.paper import TABLE2, TABLE2_BACKBONES, TABLE2_COLUMNS, TABLE2_METHODS

    normalized_refs = [normalizer(ref) for ref in references]
    prepared_refs = [[PreparedReference(item.text)] for item in normalized_refs]
    rows = []
    for backbone in TABLE2_BACKBONES:
        for method in TABLE2_METHODS:
            generated = sets[(backbone, method)]
            normalized = [normalizer(generated[index]) for index in range(len(references))]
            scores = corpus_codebleu([PreparedCode(item.text) for item in normalized], prepared_refs)
            rows.append(Table2Row(backbone, method, tuple(100 * scores[key] for key in TABLE2_COLUMNS),
                                  TABLE2[(backbone, method)], sum(not item.black_formatted for item in normalized)))
    return rows, sum(not item.black_formatted for item in normalized_refs)


def summary(rows) -> tuple[int, float, float, bool]:
    from dlcodegen.metrics.reproduce import CODEBLEU_TOLERANCE, ranking
    from dlcodegen.paper import TABLE2_BACKBONES

    gaps = [abs(row.diff[-1]) for row in rows]
    same = all(ranking(rows, backbone, False) == ranking(rows, backbone, True) for backbone in TABLE2_BACKBONES)
    return sum(gap <= CODEBLEU_TOLERANCE for gap in gaps), max(gaps), statistics.fmean(gaps), same


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "PYTHONHASHSEED": "0"})
    variants = _variants()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder of built datasets (built when missing)")
    parser.add_argument("--only", nargs="+", choices=list(variants), metavar="NAME",
                        help=f"variants to run (default: all): {', '.join(variants)}")
    parser.add_argument("--full", action="store_true", help="also print each variant's whole Table II")
    args = parser.parse_args()

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.metrics.reproduce import format_table2, generation_sets

    data = ensure_built(args.data)
    references = list(load_local("dlcodeeval", split="test", path=data)["reference_code"])
    sets = generation_sets(load_local("dlcodeeval-generations", split="test", path=data))
    print("| variant | what differs from the default | CodeBLEU cells within 1.5 | max abs gap | mean abs gap "
          "| rankings equal the paper's | unformatted refs |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    details = []
    for name in args.only or list(variants):
        description, normalizer = variants[name]
        rows, unformatted = table2_rows(normalizer, references, sets)
        within, largest, mean, same = summary(rows)
        shown = "-" if name in ("none", "no-black") else f"{unformatted}/46"
        print(f"| `{name}` | {description} | {within}/10 | {largest:.2f} | {mean:.2f} | {'yes' if same else 'no'} "
              f"| {shown} |", flush=True)
        details.append(format_table2(rows, unformatted, name))
    if args.full:
        print("\n\n".join([""] + details))


if __name__ == "__main__":
    main()
