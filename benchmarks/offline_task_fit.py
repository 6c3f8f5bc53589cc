"""Do the offline generator's projects fit the task? (issue 19's targets beside each figure)

Each item of the real-world task sets (`datasets_builder/realworld_tasks`, split `validation` by default) goes
through `dlcodegen generate`'s offline path (the default planner reads the task, the task family's template writes
the project), then `verify` checks the project against the item's LABELLED task (not the one the reader read):
`task_fit` (the head, the stated input and the loss fit the output) and `learns` (a tiny batch is overfit). The
rates count the items whose output can be checked from the built model (a class set, a value, a mask, an image,
per-token tags or a reconstruction); every item is in the per-family table.

    python benchmarks/offline_task_fit.py                       # development set, 2 verify workers
    python benchmarks/offline_task_fit.py --split test          # the held-out real-world split (score it once)
    python benchmarks/offline_task_fit.py --stride 3            # every third item
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REALWORLD = ROOT / "datasets_builder" / "realworld_tasks" / "data"
CHECKABLE = {"binary", "multiclass", "multilabel", "regression", "mask", "image", "tags", "reconstruction"}
TARGETS = {"parses": 100.0, "task_fit": 90.0, "learns": 80.0}


@dataclass
class Args:
    split: str = "validation"
    workers: int = 2
    limit: int | None = None
    stride: int = 1  # every K-th item (a spread-out subset when time is short; the table says how many)
    timeout: float = 120.0
    out: str | None = None  # JSON Lines of per-item results


def gold_task(row: dict):
    """The item's labelled task as a TaskSpec (every fact read from the label)."""
    from dlcodegen.core.task import Fact, InputSpec, OutputSpec, TaskSpec

    def part(labels: dict, spec_type):
        known = spec_type.__dataclass_fields__
        return spec_type(**{name: Fact(tuple(value) if isinstance(value, list) else value, "label")
                            for name, value in labels.items() if name in known and value is not None})

    return TaskSpec(Fact(row["task"], "label"), part(row.get("input", {}), InputSpec),
                    part(row.get("output", {}), OutputSpec))


def _generate(generator, row: dict) -> tuple[str | None, float, str | None]:
    from dlcodegen.core.results import GenerationError

    started = time.perf_counter()
    try:
        code = generator.generate(row["requirement"], row.get("attributes") or "", item_id=None).code
    except GenerationError as error:
        return None, time.perf_counter() - started, str(error)
    return code, time.perf_counter() - started, None


def main(args: Args | None = None) -> list[dict]:
    import argparse
    import ast

    if args is None:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        for name, default in Args.__dataclass_fields__.items():
            parser.add_argument(f"--{name}", type=type(default.default) if default.default is not None else
                                (int if name == "limit" else str), default=default.default)
        args = Args(**vars(parser.parse_args()))
    from tqdm.auto import tqdm

    from dlcodegen.generator.setup import GeneratorSetup, build_generator
    from dlcodegen.verify import VerifyConfig, verify_code

    rows = [json.loads(line) for line in (REALWORLD / f"{args.split}.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()][:: args.stride][: args.limit]
    generator, _ = build_generator(GeneratorSetup(method="offline", backend="offline"))
    generated = [_generate(generator, row) for row in tqdm(rows, desc="generate", unit="item")]
    config = VerifyConfig(timeout=args.timeout)

    def check(pair):
        row, (code, _, _) = pair
        return verify_code(code, config, task=gold_task(row)) if code else None

    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        checks = list(tqdm(pool.map(check, zip(rows, generated)), total=len(rows), desc="verify", unit="item"))
    results = []
    for row, (code, seconds, error), result in zip(rows, generated, checks):
        parses = code is not None and _parses(code, ast)
        results.append({"id": row["id"], "family": row["task"], "output_kind": row["output"].get("kind"),
                        "generated": code is not None, "error": error, "seconds": round(seconds, 3),
                        "parses": parses, "level": result.level if result else None,
                        "failed": result.failed if result else None, "why": result.error if result else error})
    if args.out:
        Path(args.out).write_text("".join(json.dumps(r) + "\n" for r in results), encoding="utf-8")
    _print_tables(results, args.split)
    return results


def _parses(code: str, ast) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def _reached(result: dict, level: str) -> bool:
    from dlcodegen.verify import LEVELS

    return result["level"] in LEVELS and LEVELS.index(result["level"]) >= LEVELS.index(level)


def _print_tables(results: list[dict], split: str) -> None:
    checkable = [r for r in results if r["output_kind"] in CHECKABLE]
    print(f"\nOffline projects against the labelled task, real-world {split} split: {len(results)} items, "
          f"{len(checkable)} with a checkable output")
    print(f"{'measure':<34}{'this commit':>12}{'target':>9}")
    rates = {"parses": 100.0 * sum(r["parses"] for r in results) / max(1, len(results)),
             "train_step": 100.0 * sum(_reached(r, "train_step") for r in checkable) / max(1, len(checkable)),
             "task_fit": 100.0 * sum(_reached(r, "task_fit") for r in checkable) / max(1, len(checkable)),
             "learns": 100.0 * sum(_reached(r, "learns") for r in checkable) / max(1, len(checkable))}
    for name, value in rates.items():
        target = TARGETS.get(name)
        print(f"{name + ' %':<34}{value:>12.1f}{(f'{target:.0f}' if target else '-'):>9}")
    seconds = sorted(r["seconds"] for r in results if r["generated"])
    if seconds:
        print(f"{'generation s per item (median/max)':<34}{seconds[len(seconds) // 2]:>7.2f}/{seconds[-1]:.2f}"
              f"{'< 1':>9}")
    by_family: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        by_family[result["family"]].append(result)
    print(f"\n{'family':<28}{'items':>6}{'written':>8}{'train_step':>11}{'task_fit':>9}{'learns':>8}")
    for family, group in sorted(by_family.items()):
        print(f"{family:<28}{len(group):>6}{sum(r['generated'] for r in group):>8}"
              f"{sum(_reached(r, 'train_step') for r in group):>11}{sum(_reached(r, 'task_fit') for r in group):>9}"
              f"{sum(_reached(r, 'learns') for r in group):>8}")
    failures = Counter(f"{r['failed']}: {(r['why'] or '')[:90]}" for r in checkable if not _reached(r, "learns"))
    if failures:
        print("\nmost common failures (checkable items):")
        for line, count in failures.most_common(12):
            print(f"{count:>4}  {line}")


if __name__ == "__main__":
    main()
