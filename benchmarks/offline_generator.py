"""The methods that need no LLM, side by side on the 46 DLCodeEval items (leave-one-out, the shipped planner).

Targets (issue "Runnable projects"): the offline generator parses 100%, reaches `train_step` >= 90%, adheres to the
plan >= 95% on layers and hyperparameters, takes < 1 s per item (without verify); its CodeBLEU
(`normalize="dlcodegen"`) is at least retrieval-only's at a mean length within 0.8-1.2x the references'.

    python benchmarks/offline_generator.py [--workers 2] [--no-verify] [--data build/datasets]
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

METHODS = ("random-sibling", "retrieval-only", "offline")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2, help="verify children at once")
    parser.add_argument("--no-verify", action="store_true", help="skip verify (no TensorFlow needed)")
    parser.add_argument("--data", help="folder of built datasets (built when missing)")
    return parser


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    args = make_parser().parse_args(argv)
    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.generator.run import Generator, GeneratorConfig
    from dlcodegen.core.items import Item
    from dlcodegen.metrics.scoring import score_generations
    from dlcodegen.planning.planners import load_planner
    from dlcodegen.verify import verify_code

    data = ensure_built(args.data)
    items = list(load_local("dlcodeeval", split="test", path=data))
    planner = load_planner(None, data_path=data)
    pool = load_pool(data_path=data, include_user=False)
    references = [row["reference_code"] for row in items]
    table = []
    for method in METHODS:
        generator = Generator(planner, pool, None, GeneratorConfig(method=method), data_path=data)
        started = time.perf_counter()
        results = [generator.generate(Item.from_row(row)) for row in items]
        per_item = (time.perf_counter() - started) / len(items)
        codes = [result.code for result in results]
        scores = score_generations(codes, references, [result.reference_plan for result in results])
        adherence, reference_lines = scores.adherence, scores.reference_mean_lines
        levels = None
        if not args.no_verify:
            with ThreadPoolExecutor(args.workers) as workers:
                levels = [outcome.level for outcome in workers.map(verify_code, codes)]
        lines = scores.mean_lines
        table.append((method, scores.codebleu["codebleu"], lines, lines / reference_lines, adherence,
                      100 * sum(map(_parses, codes)) / len(codes),
                      None if levels is None else 100 * levels.count("train_step") / len(levels), per_item))
    print(f"No-LLM methods on DLCodeEval (46 items, leave-one-out, retrieval planner); "
          f"{platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}")
    print()
    print(f"| method | CodeBLEU | mean lines (refs {reference_lines:.0f}) | length ratio | adherence layers % | "
          "adherence hyperparameters % | adherence overall % | parses % | train_step % | s/item |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for method, codebleu, lines, ratio, adherence, parses, train_step, per_item in table:
        shown = "n/a" if train_step is None else f"{train_step:.1f}"
        print(f"| {method} | {codebleu:.2f} | {lines:.0f} | {ratio:.2f} | {adherence['layers']:.1f} | "
              f"{adherence['hyperparameters']:.1f} | {adherence['overall']:.1f} | {parses:.0f} | {shown} | "
              f"{per_item:.3f} |")
    offline = table[-1]
    retrieval = table[1]
    print()
    checks = [("parses 100%", offline[5] == 100), ("train_step >= 90%", offline[6] is not None and offline[6] >= 90),
              ("adherence >= 95% on layers and hyperparameters",
               offline[4]["layers"] >= 95 and offline[4]["hyperparameters"] >= 95),
              ("< 1 s per item", offline[7] < 1.0),
              ("CodeBLEU >= retrieval-only", offline[1] >= retrieval[1]), ("length 0.8-1.2x", 0.8 <= offline[3] <= 1.2)]
    print("offline targets: " + "; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in checks))


if __name__ == "__main__":
    main()
