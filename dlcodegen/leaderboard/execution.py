"""Execution results on the board: the rate of each `verify` level over DLCodeEval's 46 items, per entry.

Following the backend pattern of Hugging Face's leaderboard template, the web process never runs code: adding an
entry appends a request, and a separate worker (`dlcodegen leaderboard worker`) verifies each item in the `verify`
sandbox and appends the results. Layout, beside the store's own files:

- `executions.jsonl`: append-only `{"hash", "status": "requested" | "done", "rates", "date"}` lines;
- `executions/<hash>.jsonl`: one `{"id", "level", "failed", "error"}` line per item verified, so a worker killed
  mid-run resumes where it stopped and loses nothing.

Each item is checked against its task as the task reader reads it from the item's requirement and attributes
(`task_fit`, `learns`). Seeded rows get their rates from a run shipped with the package (`seed_executions.json`,
written by `benchmarks/seed_executions.py`).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Callable

from dlcodegen.files import iter_jsonl, jsonl_text

logger = logging.getLogger(__name__)

EXECUTE_ENV = "DLCODEGEN_LEADERBOARD_EXECUTE"  # "1"/"0": new entries get execution requests or not
SPACE_ENV = "SPACE_ID"  # set by Hugging Face Spaces: a public Space executes nothing unless the operator says so
EXECUTIONS_FILE = "executions.jsonl"
EXECUTIONS_DIR = "executions"
SEED_EXECUTIONS = "seed_executions.json"
# the levels the board shows, as rate columns (percent of the items that passed the level)
RATE_LEVELS = ("parse", "model_built", "train_step", "task_fit", "learns")
PENDING = "pending"


def execution_enabled() -> bool:
    """The operator's single setting, $DLCODEGEN_LEADERBOARD_EXECUTE: on by default locally, off by default on a
    Hugging Face Space ($SPACE_ID set)."""
    default = "0" if os.environ.get(SPACE_ENV) else "1"
    return os.environ.get(EXECUTE_ENV, default).strip().lower() not in ("0", "false", "no", "off", "")


def rate_key(level: str) -> str:
    return f"{level}_rate"


def level_rates(levels: list[str | None]) -> dict[str, float]:
    """Percent of the items that passed each level (a deeper level passed counts)."""
    from dlcodegen.verify import LEVELS

    def passed(level: str | None, wanted: str) -> bool:
        return level in LEVELS and LEVELS.index(level) >= LEVELS.index(wanted)

    return {rate_key(wanted): round(100.0 * sum(passed(level, wanted) for level in levels) / max(1, len(levels)), 1)
            for wanted in RATE_LEVELS}


def seed_rates() -> dict[str, dict[str, float]]:
    """The shipped rates of the seed rows, by "backbone/method" (empty before the first shipped run)."""
    try:
        text = resources.files("dlcodegen.leaderboard").joinpath(SEED_EXECUTIONS).read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return json.loads(text)["rates"]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Executions:
    """The requests and results beside a `LeaderboardStore` (appends under the store's lock)."""

    def __init__(self, store):
        self.store = store
        self.path = Path(store.directory) / EXECUTIONS_FILE
        self.items_dir = Path(store.directory) / EXECUTIONS_DIR

    def _lines(self) -> list[dict]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        complete = text[: text.rfind("\n") + 1]
        return [record for _, record in iter_jsonl(complete) if isinstance(record, dict)]

    def _append(self, path: Path, record: dict) -> None:
        with self.store._locked():
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(handle, jsonl_text([record], ensure_ascii=True).encode("utf-8"))
                os.fsync(handle)
            finally:
                os.close(handle)

    def request(self, content_hash: str) -> None:
        if content_hash not in self.status():
            self._append(self.path, {"hash": content_hash, "status": "requested", "date": _now()})

    def status(self) -> dict[str, dict]:
        """By hash: the latest line ("requested", or "done" with its rates)."""
        latest: dict[str, dict] = {}
        for record in self._lines():
            if record.get("status") == "done" or record.get("hash") not in latest:
                latest[record["hash"]] = record
        return latest

    def pending(self) -> list[str]:
        return [content_hash for content_hash, record in self.status().items() if record["status"] != "done"]

    def done_items(self, content_hash: str) -> dict[int, dict]:
        path = self.items_dir / f"{content_hash}.jsonl"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        return {record["id"]: record for _, record in iter_jsonl(text[: text.rfind("\n") + 1])}

    def record_item(self, content_hash: str, item_id: int, result) -> None:
        self._append(self.items_dir / f"{content_hash}.jsonl",
                     {"id": item_id, "level": result.level, "failed": result.failed, "error": result.error})

    def finish(self, content_hash: str, rates: dict[str, float]) -> None:
        self._append(self.path, {"hash": content_hash, "status": "done", "rates": rates, "date": _now()})


@dataclass
class WorkerConfig:
    workers: int = 1            # items verified at once
    timeout: float = 120.0      # verify's CPU seconds per item
    memory_mb: int = 8192


def item_tasks(data_path=None) -> dict[int, tuple[str, object]]:
    """DLCodeEval's items by id: (requirement, the task the reader reads from it)."""
    from dlcodegen.data import load_local
    from dlcodegen.planning.task_reader import read_task

    items = load_local("dlcodeeval", split="test", path=data_path)
    return {row["id"]: (row["user_requirement"], read_task(row["user_requirement"], row["dataset_attributes"]))
            for row in items}


def verify_entry(codes: dict[int, str], tasks: dict, config: WorkerConfig, done: dict[int, dict] | None = None,
                 on_item: Callable[[int, object], None] | None = None, progress: bool = True) -> dict[str, float]:
    """Verify every item of one entry not in `done` (each result handed to `on_item` as it finishes); the rates."""
    from tqdm.auto import tqdm

    from dlcodegen.verify import VerifyConfig, verify_code

    done = dict(done or {})
    verify_config = VerifyConfig(timeout=config.timeout, memory_mb=config.memory_mb)
    lock = threading.Lock()
    todo = [item_id for item_id in sorted(codes) if item_id not in done]
    bar = tqdm(total=len(codes), initial=len(codes) - len(todo), desc="verify", unit="item", disable=not progress)

    def one(item_id: int) -> None:
        result = verify_code(codes[item_id], verify_config, task=tasks[item_id][1] if item_id in tasks else None)
        with lock:
            done[item_id] = {"level": result.level}
            if on_item is not None:
                on_item(item_id, result)
            bar.update(1)

    with ThreadPoolExecutor(max_workers=max(1, config.workers)) as pool:
        list(pool.map(one, todo))
    bar.close()
    return level_rates([done[item_id]["level"] for item_id in sorted(codes)])


def run_worker(board, config: WorkerConfig | None = None, once: bool = False, poll_seconds: float = 10.0,
               stop: threading.Event | None = None, progress: bool = True) -> int:
    """Work through the pending requests (resuming each from its item file); with `once`, stop when none is left.
    Returns the entries finished."""
    config = config or WorkerConfig()
    executions = Executions(board.store)
    stop = stop or threading.Event()
    tasks = None
    finished = 0
    while not stop.is_set():
        pending = executions.pending()
        if not pending:
            if once:
                break
            stop.wait(poll_seconds)
            continue
        tasks = tasks if tasks is not None else item_tasks(board.config.data_path)
        for content_hash in pending:
            logger.info("verifying the items of %s", content_hash[:12])
            rates = verify_entry(board.store.codes(content_hash), tasks, config, executions.done_items(content_hash),
                                 lambda item_id, result, h=content_hash: executions.record_item(h, item_id, result),
                                 progress)
            executions.finish(content_hash, rates)
            finished += 1
            if stop.is_set():
                break
    return finished
