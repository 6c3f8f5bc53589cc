"""One DLCodeEval item end to end through a real `transformers serve` (tiny random model) and the `openai` client."""

from __future__ import annotations

import json

import pytest

from dlcodegen.cli import main as cli_main
from test_verify_task import CATS_DOGS

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


CATS_DOGS_REQUIREMENT = "Classify images of cats and dogs (128x128 RGB) with a small CNN."
# Runs and trains a step, but its output is (batch, 128, 128, 64): no head for two classes (an LLM's fenced answer).
UNFIT_PROJECT = f"```python{CATS_DOGS}```"


class UnfitFirstAnswer:
    """A test double around the real client of the served model: the first call (direct's generation) answers
    with UNFIT_PROJECT; every later call (the repair) goes to the real server."""

    def __init__(self, client):
        self.client, self.calls = client, 0

    def complete(self, messages, *, on_token=None, **overrides):
        from dlcodegen.core.protocols import Completion

        self.calls += 1
        if self.calls == 1:
            return Completion(text=UNFIT_PROJECT, usage={"prompt_tokens": 0, "completion_tokens": 0}, cached=False,
                              elapsed=0.0)
        return self.client.complete(messages, on_token=on_token, **overrides)


def test_a_task_fit_failure_is_fed_back_to_the_served_model(served_model, built_datasets, tmp_path, monkeypatch,
                                                            capsys):
    import dlcodegen.llm

    base_url, model = served_model
    for name, value in (("OPENAI_BASE_URL", base_url), ("DLCODEGEN_MODEL", model),
                        ("DLCODEGEN_CACHE_DIR", str(tmp_path / "cache"))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    real_make_client = dlcodegen.llm.make_client
    monkeypatch.setattr(dlcodegen.llm, "make_client", lambda *args, **kwargs: UnfitFirstAnswer(
        real_make_client(*args, **kwargs)))
    args = ["generate", CATS_DOGS_REQUIREMENT, "--method", "direct", "--data", str(built_datasets), "--pool",
            str(tmp_path / "pool"), "--max-tokens", "12", "--repair", "1", "--out", str(tmp_path / "out")]
    cli_main(args)  # the tiny model's repair is not a project: the exit status says the last check failed
    printed = capsys.readouterr().out
    trace = json.loads((tmp_path / "out" / "trace.json").read_text())
    stages = {stage["stage"]: stage for stage in trace["stages"]}
    first_check = next(stage for name, stage in stages.items() if name.startswith("verify"))
    assert "failed=task_fit" in first_check["notes"][0] and "128, 128, 64" in first_check["notes"][0], first_check
    repair = next(stage for name, stage in stages.items() if name.startswith("repair"))
    prompt = "\n".join(message["content"] for message in repair["messages"])
    assert "task_fit" in prompt and "128, 128, 64" in prompt  # the expected and the actual output went back
    assert repair["cached"] is False and 0 < repair["usage"]["completion_tokens"] <= 12  # the real server answered
    assert sum(name.startswith("verify") for name in stages) == 2  # the repaired code was checked again
    assert "task_fit" in printed
