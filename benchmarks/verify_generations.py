"""How far the paper's released generations get under `dlcodegen verify`: the deepest level reached per method.

Runs `dlcodegen.verify.verify_code` on the code of each item of `dlcodeeval-generations` (the 10 method x backbone
sets of 46 generations: the markdown fences are taken off first) and prints, for each set, how many items reached
each level (the deepest level passed; "none" = did not even parse), the mean seconds per item, and the most common
failure reasons overall (line numbers and quoted values folded).

    python benchmarks/verify_generations.py [--limit N] [--workers 2] [--timeout 120] [--memory 8192]
                                            [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import time


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N items of each method x backbone set")
    parser.add_argument("--workers", type=int, default=2, help="projects verified at once (default: 2)")
    parser.add_argument("--timeout", type=float, default=120.0, help="CPU seconds per project (default: 120)")
    parser.add_argument("--memory", type=int, default=8192, help="memory limit per project in MB (default: 8192)")
    parser.add_argument("--data", help="folder of built datasets (default: build/datasets, built when missing)")
    parser.add_argument("--out", help="also write one JSON line per item (id, method, backbone and the result)")
    parser.add_argument("--top", type=int, default=15, help="failure reasons to list (default: 15)")
    return parser


def failure_reason(error: str | None) -> str:
    """An error folded for counting: no line numbers, quoted values and numbers replaced."""
    if not error:
        return ""
    reason = re.sub(r" \(line \d+\)$", "", error)
    if reason.startswith("ModuleNotFoundError"):
        return reason
    reason = re.sub(r" \(/[^)]*\)", "", reason)  # the file of an ImportError
    reason = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", reason)
    reason = re.sub(r"\b\d+(\.\d+)?\b", "N", reason)
    return reason[:150]


def format_table(results: list[dict], levels: tuple[str, ...]) -> str:
    columns = ("none", *levels)
    sets: dict[tuple[str, str], list[dict]] = collections.defaultdict(list)
    for row in results:
        sets[(row["method"], row["backbone"])].append(row)
    header = f"{'method':<11} {'backbone':<14} {'items':>5} " + " ".join(f"{c:>11}" for c in columns) + \
        f" {'passed %':>8} {'s/item':>7}"
    lines = [header, "-" * len(header)]
    totals = collections.Counter()
    for (method, backbone), rows in sorted(sets.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        counts = collections.Counter(row["level"] or "none" for row in rows)
        totals.update(counts)
        seconds = sum(row["seconds"] for row in rows) / len(rows)
        lines.append(f"{method:<11} {backbone:<14} {len(rows):>5} " + " ".join(f"{counts[c]:>11}" for c in columns)
                     + f" {100 * counts['train_step'] / len(rows):>8.1f} {seconds:>7.1f}")
    lines.append("-" * len(header))
    total = sum(totals.values())
    lines.append(f"{'all':<11} {'':<14} {total:>5} " + " ".join(f"{totals[c]:>11}" for c in columns)
                 + f" {100 * totals['train_step'] / max(total, 1):>8.1f}")
    return "\n".join(lines)


def format_reasons(results: list[dict], top: int) -> str:
    reasons = collections.Counter((row["failed"], failure_reason(row["error"])) for row in results if row["failed"])
    lines = [f"Most common failures (of {sum(reasons.values())}):"]
    for (level, reason), count in reasons.most_common(top):
        lines.append(f"{count:>5}  at {level:<11} {reason}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)

    from concurrent.futures import ThreadPoolExecutor

    from dlcodegen.data import load_local
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.extract import extract_code
    from dlcodegen.verify import LEVELS, TF_MISSING, VerifyConfig, tensorflow_available, verify_code

    if not tensorflow_available():
        print(f"verify_generations: {TF_MISSING}", file=sys.stderr)
        return 2
    rows = list(load_local("dlcodeeval-generations", split="test", path=ensure_built(args.data)))
    if args.limit is not None:
        seen: collections.Counter = collections.Counter()
        kept = []
        for row in rows:
            key = (row["method"], row["backbone"])
            if seen[key] < args.limit:
                seen[key] += 1
                kept.append(row)
        rows = kept
    config = VerifyConfig(timeout=args.timeout, memory_mb=args.memory)

    def one(row: dict) -> dict:
        result = verify_code(extract_code(row["generation"]), config, filename=f"generation_{row['id']}.py")
        return {"id": row["id"], "method": row["method"], "backbone": row["backbone"], **result.as_dict()}

    started = time.monotonic()
    results = []
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        for index, result in enumerate(pool.map(one, rows), 1):
            results.append(result)
            print(f"\r{index}/{len(rows)} verified", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    elapsed = time.monotonic() - started
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(result) + "\n")

    print(f"dlcodegen verify over the released generations: {len(results)} items, {args.workers} workers, "
          f"timeout {args.timeout:g} s, memory {args.memory} MB, {elapsed / 60:.1f} min wall\n")
    print("deepest level reached (none = did not parse):\n")
    print(format_table(results, LEVELS))
    print()
    print(format_reasons(results, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
