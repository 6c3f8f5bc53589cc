"""`dlcodegen bench`: one method over every DLCodeEval item, resumable, written as the leaderboard's input.

The output is JSON Lines of `{"id": int, "code": str}` (plus `"plan"`, the plan the code is judged against: the plan
it was generated from, or for a method that makes none the planner's, predicted once by the run; `"verify"`, the
level reached, with `--verify`; and `"verify_before_repair"` when a repair round ran), one row per finished item,
appended (and flushed) as each finishes, so an interrupted run loses nothing and a rerun does only what is missing.
Failed items (after the LLM client's retries) are listed in the sidecar `<out>.meta.json` and retried by the next
run. The sidecar also holds the method, backend, model, parameters, date and package version; never a key.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dlcodegen.core.errors import InputError
from dlcodegen.core.plan import Plan
from dlcodegen.core.protocols import Planner, Verifier
from dlcodegen.core.results import GenerationError
from dlcodegen.files import JsonLinesError, iter_jsonl, jsonl_text, write_atomic
from dlcodegen.generator.run import Generator
from dlcodegen.verify.protocol import LEVELS

logger = logging.getLogger(__name__)


@dataclass
class BenchSummary:
    total: int
    done: dict[int, dict]  # id -> its output row
    failed: dict[int, str] = field(default_factory=dict)
    generated_now: int = 0


def meta_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".meta.json")


class _NotARow(Exception):
    def __init__(self, number: int):
        super().__init__(number)
        self.number = number


def _row_id(row, number: int) -> int:
    try:
        if isinstance(row, dict) and isinstance(row["code"], str):
            return int(row["id"])
    except (KeyError, TypeError, ValueError):
        pass
    raise _NotARow(number)


def read_done(out: Path) -> dict[int, dict]:
    """Finished rows of an earlier run; a last line cut by an interruption is dropped (and rewritten away)."""
    if not out.is_file():
        return {}
    text = out.read_text(encoding="utf-8")
    last = max((number for number, line in enumerate(text.split("\n"), start=1) if line.strip()), default=0)
    done: dict[int, dict] = {}
    try:
        for number, row in iter_jsonl(text):
            done[_row_id(row, number)] = row
    except (JsonLinesError, _NotARow) as error:
        if error.number != last:
            raise InputError(f"{out}:{error.number}: not a bench row; pass another --out or delete the file") \
                from None
        logger.info("%s: dropped the last line, cut by an interrupted write", out)
        write_atomic(out, jsonl_text(done.values()))
    return done


def check_resumable(out: Path, metadata: dict) -> None:
    """An existing output must come from the same method, backend and model."""
    path = meta_path(out)
    if not out.exists() or not path.is_file():
        return
    earlier = json.loads(path.read_text(encoding="utf-8"))
    for key in ("method", "backend", "model"):
        if earlier.get(key) != metadata.get(key):
            raise InputError(f"{out} holds a run with {key}={earlier.get(key)!r}, not {metadata.get(key)!r}: "
                             "pass another --out, or delete it to start over")


def write_meta(out: Path, metadata: dict, summary: BenchSummary) -> None:
    data = {**metadata, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "items": summary.total,
            "finished": len(summary.done), "failed": {str(i): error for i, error in sorted(summary.failed.items())}}
    write_atomic(meta_path(out), json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def run_bench(generator: Generator, items, out: str | Path, metadata: dict, concurrency: int = 1,
              progress: bool = True, verify: Verifier | None = None) -> BenchSummary:
    """Generate every item of `items` (rows with `id`, `user_requirement`, `dataset_attributes`) not yet in `out`.

    `verify`, when given, checks each final project that was not verified during the run; the level goes into its
    row.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_resumable(out, metadata)
    summary = BenchSummary(total=len(items), done=read_done(out))
    todo = [row for row in items if row["id"] not in summary.done]
    lock = threading.Lock()
    bar = tqdm(total=len(items), initial=len(items) - len(todo), desc=f"bench {metadata['method']}", unit="item",
               disable=not progress)

    def one(row) -> None:
        try:
            result = generator.generate(row["user_requirement"], row["dataset_attributes"], item_id=row["id"])
        except GenerationError as error:
            with lock:
                summary.failed[row["id"]] = str(error)
                bar.set_postfix(failed=len(summary.failed))
            return
        output = {"id": row["id"], "code": result.code}
        if result.reference_plan is not None:
            output["plan"] = result.reference_plan.to_dict()
        if result.task is not None:
            output["task"] = result.task.to_dict()
        if verify is not None:
            checks = result.checks or [verify(result.code, task=result.task)]
            output["verify"] = checks[-1].level
            if len(checks) > 1:
                output["verify_before_repair"] = checks[0].level
        line = jsonl_text([output])
        with lock:
            with out.open("a", encoding="utf-8") as handle:
                handle.write(line)
            summary.done[row["id"]] = output
            summary.generated_now += 1
            bar.update(1)

    executor = ThreadPoolExecutor(max_workers=max(1, concurrency))
    try:
        for future in as_completed([executor.submit(one, row) for row in todo]):
            future.result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
        bar.close()
        write_meta(out, metadata, summary)
    return summary


def plans_to_judge(summary: BenchSummary, rows: list[dict], planner: Planner | None) -> list[Plan | None]:
    """Per row of `rows` (finished items), the plan its code is judged against: its bench row's `plan`, else (rows
    of older versions) `planner`'s plan for the item, predicted once per item; None without a planner."""
    plans: list[Plan | None] = []
    for row in rows:
        stored = summary.done[row["id"]].get("plan")
        if stored is not None:
            plans.append(Plan.from_dict(stored))
        elif planner is not None:
            plans.append(planner.predict(row["user_requirement"], row["dataset_attributes"]).plan)
        else:
            plans.append(None)
    return plans


def summary_scores(summary: BenchSummary, items, planner: Planner | None = None) -> dict:
    """CodeBLEU (`normalize="dlcodegen"`, percent) of the finished items, with mean output lines beside the
    references', plan adherence (percent; see `plans_to_judge`) and the verify pass rates (before and after repair)
    where known."""
    from dlcodegen.metrics.scoring import score_generations

    rows = [row for row in items if row["id"] in summary.done]
    if not rows:
        return {}
    scored = score_generations([summary.done[row["id"]]["code"] for row in rows],
                               [row["reference_code"] for row in rows], plans_to_judge(summary, rows, planner))
    scores = {**scored.codebleu, "mean_lines": scored.mean_lines, "reference_mean_lines": scored.reference_mean_lines,
              "items_scored": scored.items}
    if scored.adherence is not None:
        scores["adherence"] = scored.adherence
    scores.update(_verify_rates([summary.done[row["id"]] for row in rows]))
    return scores


def items_scores(summary: BenchSummary, items) -> dict:
    """For rows without references (`bench --items`): plan adherence of each project to its own plan, and the
    verify rates."""
    from dlcodegen.metrics.adherence import mean_adherence, plan_adherence

    outputs = [summary.done[row["id"]] for row in items if row["id"] in summary.done]
    if not outputs:
        return {}
    judged = [plan_adherence(output["code"], Plan.from_dict(output["plan"])) for output in outputs
              if output.get("plan")]
    scores: dict = {"items_scored": len(outputs)}
    if judged:
        scores["adherence"] = mean_adherence(judged)
    scores.update(_verify_rates(outputs))
    return scores


def _verify_rates(outputs: list[dict]) -> dict:
    levels = [output.get("verify") for output in outputs]
    if all(level is None for level in levels):
        return {}
    before = [output.get("verify_before_repair", level) for output, level in zip(outputs, levels)]
    rates = {f"{name}_rate": _reached_rate(levels, name) for name in LEVELS}
    return {**rates, "train_step_rate_before_repair": _reached_rate(before, "train_step"),
            "verify_levels": dict(Counter(str(level) for level in levels))}


def _reached_rate(levels: list, level: str) -> float:
    """Percent of the projects that passed `level` (a deeper level passed counts)."""
    wanted = LEVELS.index(level)
    return 100.0 * sum(found in LEVELS and LEVELS.index(found) >= wanted for found in levels) / len(levels)
