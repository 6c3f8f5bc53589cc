"""`dlcodegen generate`, `bench` and `pool add` end to end, with a real loopback OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from llm_stub import StubLLMServer

from dlcodegen.cli import main as cli_main
from dlcodegen.generator.bench import meta_path, run_bench
from dlcodegen.generator.pool import load_pool
from dlcodegen.generator.run import Generator, GeneratorConfig
from dlcodegen.llm import LLMConfig, make_client
from dlcodegen.core.plan import Plan
from dlcodegen.planning.planners import load_planner

REQUIREMENT = "Classify chest X-ray images as pneumonia or normal with a convolutional network."
ANSWER = "Sure.\n```python\nimport tensorflow as tf\nmodel = tf.keras.Sequential([tf.keras.layers.Dense(2)])\n```\n"


@pytest.fixture
def llm_env(monkeypatch, tmp_path):
    """An environment configured for a local server, with its own cache; the caller sets OPENAI_BASE_URL."""
    monkeypatch.setenv("DLCODEGEN_MODEL", "stub-model")
    monkeypatch.setenv("DLCODEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("DLCODEGEN_POOL_DIR", str(tmp_path / "pool"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return monkeypatch


def run_cli(*args: str) -> int:
    return cli_main([str(arg) for arg in args])


def test_generate_offline_writes_the_project(built_datasets, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DLCODEGEN_MODEL", raising=False)
    out = tmp_path / "project"
    assert run_cli("generate", REQUIREMENT, "--method", "retrieval-only", "--out", out, "--data", built_datasets,
                   "--pool", tmp_path / "pool") == 0
    printed = capsys.readouterr().out
    assert "== Plan" in printed and "== Retrieved samples" in printed and "== Final project" in printed
    assert printed.index("== Task") < printed.index("== Plan")  # the task is the first stage shown
    assert {p.name for p in out.iterdir()} == {"project.py", "project.ipynb", "plan.json", "task.json", "trace.json"}
    plan = Plan.from_text((out / "plan.json").read_text())
    assert plan.task_category and plan.layers
    task = json.loads((out / "task.json").read_text())
    assert task["task"]["value"] == "image_classification" and task["task"]["source"]
    trace = json.loads((out / "trace.json").read_text())
    assert [stage["stage"] for stage in trace["stages"]] == ["task", "plan", "retrieve", "final"]


def test_llm_method_without_an_llm_says_how_to_configure_one(built_datasets, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DLCODEGEN_MODEL", raising=False)
    assert run_cli("generate", REQUIREMENT, "--method", "direct", "--out", tmp_path / "o", "--data",
                   built_datasets) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "needs an LLM" in error and "retrieval-only" in error
    assert not (tmp_path / "o").exists()


def test_without_an_llm_generate_uses_the_offline_generator(built_datasets, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DLCODEGEN_MODEL", raising=False)
    out = tmp_path / "project"
    assert run_cli("generate", REQUIREMENT, "--out", out, "--data", built_datasets, "--pool", tmp_path / "pool") == 0
    captured = capsys.readouterr()
    assert "offline generator" in captured.err and "plan adherence %: layers" in captured.out
    code = (out / "project.py").read_text()
    assert "def build_model():" in code and 'if __name__ == "__main__":' in code
    assert json.loads((out / "trace.json").read_text())["method"] == "offline"


@pytest.mark.parametrize("requirement,message", [("", "empty"), (" \n ", "empty"),
                                                 ("x" * 100_000, "100,000 characters")])
def test_bad_requirement_is_one_line(requirement, message, tmp_path, capsys):
    assert run_cli("generate", requirement, "--backend", "offline", "--method", "retrieval-only",
                   "--out", tmp_path / "o") == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and message in error


def test_generate_through_a_real_server_then_from_the_cache(built_datasets, tmp_path, llm_env, capsys):
    with StubLLMServer(ANSWER) as server:
        llm_env.setenv("OPENAI_BASE_URL", server.base_url)
        out = tmp_path / "project"
        assert run_cli("generate", REQUIREMENT, "--out", out, "--data", built_datasets, "--repair", "0") == 0
        assert server.requests == 4
        assert all(body["model"] == "stub-model" and body.get("stream") for body in server.bodies)
        trace = json.loads((out / "trace.json").read_text())
        llm_stages = [stage for stage in trace["stages"] if stage["messages"]]
        assert [s["stage"] for s in llm_stages if s["stage"] == "final"] == ["final"]
        assert all(stage["raw"] == ANSWER and stage["code"] == ANSWER.split("```python\n")[1].split("```")[0].strip()
                   for stage in llm_stages)
        assert (out / "project.py").read_text().startswith("import tensorflow as tf")
        assert run_cli("generate", REQUIREMENT, "--out", tmp_path / "again", "--data", built_datasets,
                       "--repair", "0") == 0
        assert server.requests == 4  # every answer came from the cache
        assert "4 from the cache" in capsys.readouterr().out


def test_wrong_key_is_one_line_without_the_key(built_datasets, tmp_path, llm_env, capsys):
    with StubLLMServer(ANSWER, expected_key="the-right-key") as server:
        llm_env.setenv("OPENAI_BASE_URL", server.base_url)
        llm_env.setenv("OPENAI_API_KEY", "sk-wrong-secret-4242")
        assert run_cli("generate", REQUIREMENT, "--out", tmp_path / "o", "--data", built_datasets,
                       "--no-cache", "--repair", "0") == 2
    captured = capsys.readouterr()
    error = captured.err.strip().splitlines()
    assert len(error) == 1 and "401" in error[0] and "OPENAI_API_KEY" in error[0]
    assert "sk-wrong-secret-4242" not in captured.err + captured.out
    trace = (tmp_path / "o" / "trace.json").read_text()
    assert "sk-wrong-secret-4242" not in trace and '"stage": "plan"' in trace


def test_bench_offline_resumes_and_writes_what_eval_accepts(built_datasets, tmp_path, capsys):
    out = tmp_path / "gens.jsonl"
    common = ("--method", "retrieval-only", "--backend", "offline", "--data", built_datasets, "--out", out)
    assert run_cli("bench", *common, "--limit", "5") == 0
    assert len(out.read_text().splitlines()) == 5
    with out.open("a") as handle:  # an interrupted write leaves half a line
        handle.write('{"id": 7, "code": "trunc')
    assert run_cli("bench", *common) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(row["id"] for row in rows) == list(range(46)) and all(set(row) == {"id", "code", "plan", "task"} for row in rows)
    printed = capsys.readouterr().out
    assert "46/46 items" in printed and "(41 generated now)" in printed and "CodeBLEU (normalize=dlcodegen)" in printed
    meta = json.loads(meta_path(out).read_text())
    assert meta["method"] == "retrieval-only" and meta["finished"] == 46 and meta["failed"] == {}
    assert {"date", "package_version", "backend", "model", "parameters"} <= set(meta)
    assert run_cli("eval", "codebleu", "--predictions", out, "--data", built_datasets, "--normalize", "dlcodegen") == 0
    assert run_cli("bench", "--method", "random-sibling", "--backend", "offline", "--data", built_datasets,
                   "--out", out) == 2  # another method's file is not mixed in
    assert "holds a run with method='retrieval-only'" in capsys.readouterr().err


def test_bench_records_a_failed_item_and_goes_on(built_datasets, tmp_path):
    items = [{"id": i, "user_requirement": f"Item {i}: classify images of type {i}.", "dataset_attributes": "",
              "reference_code": "x = 1\n"} for i in range(4)]
    planner = load_planner(None, data_path=built_datasets)
    pool = load_pool(data_path=built_datasets, include_user=False)
    out = tmp_path / "gens.jsonl"
    with StubLLMServer(ANSWER, statuses=[500, 500]) as server:  # the first item's two tries both fail
        config = LLMConfig(base_url=server.base_url, model="m", max_retries=1, backoff=0.01)
        generator = Generator(planner, pool, make_client(config), GeneratorConfig(method="direct"))
        summary = run_bench(generator, items, out, {"method": "direct", "backend": "openai", "model": "m"},
                            concurrency=1, progress=False)
        assert len(summary.failed) == 1 and len(summary.done) == 3
        failed_id, error = next(iter(summary.failed.items()))
        assert "500" in error
        meta = json.loads(meta_path(out).read_text())
        assert list(meta["failed"]) == [str(failed_id)]
        before = server.requests
        again = run_bench(generator, items, out, {"method": "direct", "backend": "openai", "model": "m"},
                          concurrency=1, progress=False)
        assert server.requests == before + 1 and again.failed == {} and len(again.done) == 4


def test_interrupted_bench_resumes_without_redoing_items(built_datasets, tmp_path):
    out = tmp_path / "gens.jsonl"
    with StubLLMServer(ANSWER, delay=0.3) as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "DLCODEGEN_MODEL": "m",
               "DLCODEGEN_CACHE_DIR": str(tmp_path / "cache"), "DLCODEGEN_POOL_DIR": str(tmp_path / "pool")}
        env.pop("OPENAI_API_KEY", None)
        command = [sys.executable, "-m", "dlcodegen.cli", "bench", "--method", "direct", "--data",
                   str(built_datasets), "--out", str(out), "--no-cache", "--repair", "0"]
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or len(out.read_text().splitlines()) < 3):
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr
        finished = len(out.read_text().splitlines())
        assert 3 <= finished < 46
        server.delay = 0.0
        before = server.requests
        assert subprocess.run(command, env=env, capture_output=True, text=True).returncode == 0
        assert server.requests - before == 46 - finished
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == list(range(46))


@pytest.mark.skipif(not __import__("dlcodegen.verify", fromlist=["x"]).tensorflow_available(),
                    reason="verify needs TensorFlow (the test extra has it)")
def test_bench_items_runs_any_requirements_with_the_task_levels(built_datasets, tmp_path, capsys):
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": 3, "requirement": "Classify 32x32 RGB photos of traffic signs into 43 classes "
                                                         "with a small CNN.", "attributes": ""}) + "\n" +
                     json.dumps({"id": 9, "requirement": "Tell cats from dogs in 32x32 colour photos.",
                                 "attributes": "2,000 JPEG images in two folders"}) + "\n", encoding="utf-8")
    out = tmp_path / "runs.jsonl"
    common = ("--method", "offline", "--backend", "offline", "--data", built_datasets, "--items", items, "--out", out)
    assert run_cli("bench", *common, "--verify", "--verify-timeout", "120") == 0
    rows = {row["id"]: row for row in map(json.loads, out.read_text().splitlines())}
    assert set(rows) == {3, 9} and all({"code", "plan", "task", "verify"} <= set(row) for row in rows.values())
    assert rows[3]["task"]["output"]["classes"]["value"] == 43 and rows[3]["verify"] == "learns"
    printed = capsys.readouterr().out
    assert "CodeBLEU" not in printed and "task_fit 100.0%" in printed and "plan adherence %" in printed
    assert run_cli("bench", *common) == 0  # resumed: nothing to do
    assert "(0 generated now)" in capsys.readouterr().out


@pytest.mark.parametrize("line, message", [
    ('{"id": 1, "requirement": "x"}\n{"id": 1, "requirement": "y"}', ":2: duplicate id 1 (first on line 1)"),
    ('{"id": "a", "requirement": "x"}', ":1: id must be an integer"),
    ('{"id": 1}', ':1: "requirement" must be a non-empty string'),
    ('{"id": 1, "requirement": "x"}\n{oops', ":2: not valid JSON"),
])
def test_bench_items_refuses_bad_rows_with_one_line_and_writes_nothing(tmp_path, capsys, line, message):
    items = tmp_path / "items.jsonl"
    items.write_text(line + "\n", encoding="utf-8")
    out = tmp_path / "runs.jsonl"
    assert run_cli("bench", "--method", "offline", "--backend", "offline", "--items", items, "--out", out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and not out.exists()
