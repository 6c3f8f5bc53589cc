"""CodeBLEU speed: our evaluate module's scorer against the `codebleu` package on the DLCodeEval corpus.

Scores each of the paper's 10 released generation sets (46 pairs each) against the 46 DLCodeEval references with
both implementations in one run and prints a table: times, the ratio, and whether the scores are identical.
"Prepared" means the references were analysed once beforehand, as a leaderboard does for every submission after
the first.

    python benchmarks/codebleu_speed.py [--data build/datasets] [--sets 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

KEYS = ("codebleu", "ngram_match_score", "weighted_ngram_match_score", "syntax_match_score", "dataflow_match_score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="folder of built datasets (built when missing)")
    parser.add_argument("--sets", type=int, default=10, help="how many generation sets to score (1-10)")
    args = parser.parse_args()

    from codebleu import calc_codebleu

    from dlcodegen.metrics.codebleu import corpus_codebleu, prepare_references
    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built

    references = load_local("dlcodeeval", split="test", path=ensure_built(args.data))["reference_code"]
    generations = load_local("dlcodeeval-generations", split="test", path=ensure_built(args.data))
    sets: dict[tuple[str, str], list[str]] = {}
    for row in generations:
        sets.setdefault((row["backbone"], row["method"]), [""] * len(references))[row["id"]] = row["generation"]
    chosen = list(sets.items())[: args.sets]

    started = time.perf_counter()
    prepared = prepare_references(references)
    for refs in prepared:  # analyse syntax and data flow now, not on first use
        refs[0].structure(1)
    prepare_seconds = time.perf_counter() - started

    rows, max_diff = [], 0.0
    for (backbone, method), predictions in chosen:
        started = time.perf_counter()
        package = calc_codebleu(references, predictions, "python")
        package_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = corpus_codebleu(predictions, prepared)
        ours_seconds = time.perf_counter() - started
        diff = max(abs(package[key] - ours[key]) for key in KEYS[1:])
        if package["dataflow_match_score"] > 0:  # the package counts a zero dataflow score as 1 (its issue #59)
            diff = max(diff, abs(package["codebleu"] - ours["codebleu"]))
        max_diff = max(max_diff, diff)
        rows.append((f"{backbone} {method}", package_seconds, ours_seconds, diff))

    package_total = sum(row[1] for row in rows)
    ours_total = sum(row[2] for row in rows)
    print(f"CodeBLEU on {len(rows)} generation sets x {len(references)} pairs "
          f"(references prepared once in {prepare_seconds:.2f} s)\n")
    print("| generation set | codebleu package (s) | dlcodegen, prepared refs (s) | speed-up | max |diff| |")
    print("| --- | --- | --- | --- | --- |")
    for name, package_seconds, ours_seconds, diff in rows:
        print(f"| {name} | {package_seconds:.2f} | {ours_seconds:.2f} | {package_seconds / ours_seconds:.1f}x | "
              f"{diff:.1e} |")
    print(f"| **total** | {package_total:.2f} | {ours_total:.2f} | **{package_total / ours_total:.1f}x** | "
          f"{max_diff:.1e} |")
    cold = ours_total + prepare_seconds
    print(f"\nIncluding the one-off reference preparation: {cold:.2f} s, {package_total / cold:.1f}x faster.")
    print(f"Median per set: package {statistics.median(row[1] for row in rows):.2f} s, "
          f"dlcodegen {statistics.median(row[2] for row in rows):.2f} s.")
    print("Scores identical (max |diff| <= 1e-9):", "yes" if max_diff <= 1e-9 else f"NO ({max_diff:.2e})")


if __name__ == "__main__":
    main()
