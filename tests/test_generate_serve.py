"""One DLCodeEval item end to end through a real `transformers serve` (tiny random model) and the `openai` client."""

from __future__ import annotations

import json

import pytest

from dlcodegen.cli import main as cli_main

pytestmark = pytest.mark.slow


def test_one_item_end_to_end(served_model, built_datasets, codeeval, tmp_path, monkeypatch, capsys):
    base_url, model = served_model
    monkeypatch.setenv("OPENAI_BASE_URL", base_url)
    monkeypatch.setenv("DLCODEGEN_MODEL", model)
    monkeypatch.setenv("DLCODEGEN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    item = codeeval[3]
    args = ["generate", item["user_requirement"], "--attributes", item["dataset_attributes"], "--data",
            str(built_datasets), "--pool", str(tmp_path / "pool"), "--max-tokens", "12", "--repair", "0"]
    assert cli_main(args + ["--out", str(tmp_path / "first")]) == 0
    first = capsys.readouterr().out
    assert "== Final project" in first and "4 LLM call(s), 0 from the cache" in first
    trace = json.loads((tmp_path / "first" / "trace.json").read_text())
    llm_stages = [stage for stage in trace["stages"] if stage["messages"]]
    assert sorted(stage["stage"] for stage in llm_stages) == ["code1", "code2", "final", "template"]
    for stage in llm_stages:  # the raw answer and the code taken from it are both kept, with usage
        assert stage["raw"].strip() and stage["code"].strip() == stage["raw"].strip()  # a tiny model writes no fences
        assert 0 < stage["usage"]["completion_tokens"] <= 12 and stage["cached"] is False
    final = next(stage for stage in llm_stages if stage["stage"] == "final")
    assert (tmp_path / "first" / "project.py").read_text() == final["code"] + "\n"
    assert cli_main(args + ["--out", str(tmp_path / "second")]) == 0
    assert "0 LLM call(s), 4 from the cache" in capsys.readouterr().out
    assert (tmp_path / "second" / "project.py").read_text() == (tmp_path / "first" / "project.py").read_text()
