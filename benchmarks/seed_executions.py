"""The execution results the leaderboard's seed rows ship with: each seed set (the paper's 10 generation sets and the
3 no-LLM baselines) verified item by item against the task the reader reads from each DLCodeEval requirement,
exactly as `dlcodegen leaderboard worker` verifies a submission; the rates are written to
`dlcodegen/leaderboard/seed_executions.json` (package data) with the command and the commit.

    python benchmarks/seed_executions.py [--workers 2] [--timeout 120] [--only offline]
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "dlcodegen" / "leaderboard" / "seed_executions.json"


@dataclass
class Args:
    workers: int = 2
    timeout: float = 120.0
    memory: int = 8192
    only: str = ""  # only the seed sets whose method contains this (the others keep their shipped rates); "paper:"
    # runs the paper's sets only


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(args: Args | None = None) -> dict:
    import argparse

    if args is None:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        for name, spec in Args.__dataclass_fields__.items():
            parser.add_argument(f"--{name}", type=type(spec.default), default=spec.default)
        args = Args(**vars(parser.parse_args()))
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.leaderboard.execution import WorkerConfig, item_tasks, verify_entry
    from dlcodegen.leaderboard.seed import BASELINE_METHODS, baseline_sets, paper_sets

    tasks = item_tasks()
    sets = paper_sets()
    if not args.only or any(args.only in method for method in BASELINE_METHODS):
        sets += baseline_sets(load_pool(include_user=False))
    shipped = json.loads(OUT.read_text(encoding="utf-8"))["rates"] if OUT.exists() else {}
    config = WorkerConfig(workers=args.workers, timeout=args.timeout, memory_mb=args.memory)
    for seed_set in sets:
        if args.only and args.only not in seed_set.method and not (args.only == "paper:" and
                                                                   seed_set.source == "paper"):
            continue
        key = f"{seed_set.backbone}/{seed_set.method}"
        shipped[key] = verify_entry(seed_set.codes, tasks, config)
        print(key, shipped[key], flush=True)
    record = {"about": "rates (% of DLCodeEval's 46 items) of each verify level, each item checked against the task "
                       "the reader reads from its requirement; the leaderboard shows them beside the seed rows",
              "command": f"python benchmarks/seed_executions.py --workers {args.workers} --timeout {args.timeout:g}",
              "commit": _commit(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "rates": dict(sorted(shipped.items()))}
    OUT.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return record


if __name__ == "__main__":
    main()
