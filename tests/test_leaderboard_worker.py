"""Execution results on the board: requests appended by a submission, `dlcodegen leaderboard worker` verifying
every item in the sandbox (across a kill and a restart), the rates and "pending" on the board, any-column sorting."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlcodegen.leaderboard.board import board_rows, sort_rows
from dlcodegen.leaderboard.execution import EXECUTE_ENV, SPACE_ENV, Executions, execution_enabled, level_rates
from dlcodegen.leaderboard.store import Entry, LeaderboardStore
from dlcodegen.leaderboard.submission import content_hash


def entry(codes, method, codebleu, **scores) -> Entry:
    return Entry(content_hash(codes), method, "B", "2026-12-01T00:00:00+00:00", "submission",
                 {"codebleu": codebleu, **scores}, items=len(codes))


def test_level_rates_count_deeper_levels():
    rates = level_rates(["learns", "task_fit", "train_step", "imports", None])
    assert rates == {"parse_rate": 80.0, "model_built_rate": 60.0, "train_step_rate": 60.0, "task_fit_rate": 40.0,
                     "learns_rate": 20.0}


def test_the_setting_is_on_locally_and_off_on_a_public_space(monkeypatch):
    monkeypatch.delenv(EXECUTE_ENV, raising=False)
    monkeypatch.delenv(SPACE_ENV, raising=False)
    assert execution_enabled()
    monkeypatch.setenv(SPACE_ENV, "user/space")
    assert not execution_enabled()
    monkeypatch.setenv(EXECUTE_ENV, "1")
    assert execution_enabled()


def test_board_shows_pending_then_the_rates_and_sorts_by_the_task_fit_rate(tmp_path):
    store = LeaderboardStore(tmp_path)
    first, second = {1: "a = 1\n"}, {1: "b = 2\n"}
    store.append(entry(first, "high-bleu", 40.0), first)
    store.append(entry(second, "fits", 20.0), second)
    executions = Executions(store)
    executions.request(content_hash(first))
    executions.request(content_hash(first))  # asked twice: one request
    assert len(executions.path.read_text().splitlines()) == 1
    rows = board_rows(store.current(), executions.status())
    assert [(row["method"], row["execution"]) for row in rows] == [("high-bleu", "pending"), ("fits", "-")]
    executions.finish(content_hash(first), level_rates(["train_step"]))
    executions.finish(content_hash(second), level_rates(["learns"]))
    rows = board_rows(store.current(), executions.status())
    assert [row["method"] for row in rows] == ["fits", "high-bleu"]  # task-fit rate first, CodeBLEU beside it
    assert rows[0]["task_fit_rate"] == 100.0 and rows[1]["task_fit_rate"] == 0.0
    assert [row["method"] for row in sort_rows(rows, "codebleu")] == ["high-bleu", "fits"]
    assert [row["method"] for row in sort_rows(rows, "method")] == ["fits", "high-bleu"]
    with pytest.raises(ValueError, match="cannot sort by 'nope'"):
        sort_rows(rows, "nope")


def _worker(directory: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "DLCODEGEN_LEADERBOARD_DIR": str(directory)}
    return subprocess.Popen([str(Path(sys.executable).with_name("dlcodegen")), "leaderboard", "worker", "--once", "--data",
                             str(data), "--verify-timeout", "30"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_the_worker_verifies_every_item_and_resumes_after_a_kill(built_datasets, tmp_path):
    from dlcodegen.data import load_local
    from dlcodegen.verify import tensorflow_available

    if not tensorflow_available():
        pytest.skip("the worker verifies with TensorFlow (the test extra has it)")
    ids = list(load_local("dlcodeeval", split="test", path=built_datasets)["id"])
    codes = {item_id: f"import sys\nsys.exit({item_id % 3 + 2})  # item {item_id}\n" for item_id in ids}
    store = LeaderboardStore(tmp_path)
    store.append(entry(codes, "exits", 1.0), codes)
    executions = Executions(store)
    executions.request(content_hash(codes))
    items_file = executions.items_dir / f"{content_hash(codes)}.jsonl"
    worker = _worker(tmp_path, built_datasets)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and worker.poll() is None:  # kill it once a few items are recorded
        if items_file.exists() and len(items_file.read_text().splitlines()) >= 3:
            break
        time.sleep(0.5)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    before = len(items_file.read_text().splitlines())
    assert 3 <= before < len(ids) and executions.pending() == [content_hash(codes)]
    restarted = _worker(tmp_path, built_datasets)
    out, err = restarted.communicate(timeout=900)
    assert restarted.returncode == 0, err[-2000:]
    recorded = [json.loads(line)["id"] for line in items_file.read_text().splitlines()]
    assert sorted(recorded) == sorted(ids)  # every item once: nothing lost, nothing verified twice
    assert executions.pending() == []
    rates = executions.status()[content_hash(codes)]["rates"]
    assert rates["parse_rate"] == 100.0 and rates["train_step_rate"] == 0.0
    assert "verified 1 entries" in out
