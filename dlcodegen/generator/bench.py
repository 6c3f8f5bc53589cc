"""`dlcodegen bench`: one method over every DLCodeEval item, resumable, written as the leaderboard's input.

The output is JSON Lines of `{"id": int, "code": str}` (plus `"verify"`, the level reached, with `--verify`, and
`"verify_before_repair"` when a repair round ran), one row per finished item, appended (and flushed) as each
finishes, so an interrupted run loses nothing and a rerun does only what is missing. Failed items (after the LLM
client's retries) are listed in the sidecar `<out>.meta.json` and retried by the next run. The sidecar also holds
the method, backend, model, parameters, date and package version; never a key.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from dlcodegen.files import write_atomic
from dlcodegen.generator.run import GenerationError, Generator


@dataclass
class BenchSummary:
    total: int
    done: dict[int, dict]  # id -> its output row
    failed: dict[int, str] = field(default_factory=dict)
    generated_now: int = 0

    def codes(self) -> dict[int, str]:
        return {item_id: row["code"] for item_id, row in self.done.items()}


def meta_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.stem + ".meta.json")


def read_done(out: Path) -> dict[int, dict]:
    """Finished rows of an earlier run; a last line cut by an interruption is dropped (and rewritten away)."""
    if not out.is_file():
        return {}
    done: dict[int, dict] = {}
    lines = out.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row["code"], str):
                raise TypeError
            done[int(row["id"])] = row
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            if number == len(lines):  # the write that was interrupted
                _rewrite(out, done)
                break
            raise ValueError(f"{out}:{number}: not a bench row; pass another --out or delete the file") from None
    return done


def _rewrite(out: Path, done: dict[int, dict]) -> None:
    write_atomic(out, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in done.values()))


def check_resumable(out: Path, metadata: dict) -> None:
    """An existing output must come from the same method, backend and model."""
    path = meta_path(out)
    if not out.exists() or not path.is_file():
        return
    earlier = json.loads(path.read_text(encoding="utf-8"))
    for key in ("method", "backend", "model"):
        if earlier.get(key) != metadata.get(key):
            raise ValueError(f"{out} holds a run with {key}={earlier.get(key)!r}, not {metadata.get(key)!r}: "
                             "pass another --out, or delete it to start over")


def write_meta(out: Path, metadata: dict, summary: BenchSummary) -> None:
    data = {**metadata, "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "items": summary.total,
            "finished": len(summary.done), "failed": {str(i): error for i, error in sorted(summary.failed.items())}}
    write_atomic(meta_path(out), json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def run_bench(generator: Generator, items, out: str | Path, metadata: dict, concurrency: int = 1,
              progress: bool = True, verify=None) -> BenchSummary:
    """Generate every item of `items` (rows with `id`, `user_requirement`, `dataset_attributes`) not yet in `out`.

    `verify` (code -> VerifyResult), when given, checks each final project; the level goes into its row.
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
        if verify is not None:
            checks = result.checks or [verify(result.code)]
            output["verify"] = checks[-1].level
            if len(checks) > 1:
                output["verify_before_repair"] = checks[0].level
        line = json.dumps(output, ensure_ascii=False) + "\n"
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


def summary_scores(summary: BenchSummary, items, plans: dict | None = None) -> dict:
    """CodeBLEU (`normalize="dlcodegen"`) of the finished items, with mean output lines beside the references',
    plan adherence to `plans` (id -> Plan) and the verify pass rates (before and after repair) where known."""
    from dlcodegen.metrics.adherence import mean_adherence, plan_adherence
    from dlcodegen.metrics.scoring import score_codebleu

    rows = [row for row in items if row["id"] in summary.done]
    if not rows:
        return {}
    codes = [summary.done[row["id"]]["code"] for row in rows]
    references = [row["reference_code"] for row in rows]
    scores = score_codebleu(codes, references, normalize_mode="dlcodegen")
    scores["mean_lines"] = sum(len(code.splitlines()) for code in codes) / len(codes)
    scores["reference_mean_lines"] = sum(len(ref.splitlines()) for ref in references) / len(references)
    scores["items_scored"] = len(rows)
    if plans:
        scores["adherence"] = mean_adherence([plan_adherence(code, plans[row["id"]]) for code, row in zip(codes, rows)
                                              if plans.get(row["id"]) is not None])
    levels = [summary.done[row["id"]].get("verify") for row in rows]
    if any(level is not None for level in levels):
        before = [summary.done[row["id"]].get("verify_before_repair", level) for row, level in zip(rows, levels)]
        scores["train_step_rate"] = 100.0 * sum(level == "train_step" for level in levels) / len(levels)
        scores["train_step_rate_before_repair"] = 100.0 * sum(level == "train_step" for level in before) / len(before)
        scores["verify_levels"] = dict(Counter(str(level) for level in levels))
    return scores
