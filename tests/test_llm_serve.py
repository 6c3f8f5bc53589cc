"""dlcodegen.llm against a real `transformers serve` running a tiny random-weight chat model (offline, CPU)."""

from __future__ import annotations

import pytest

from dlcodegen.llm import LLMConfig, LLMError, make_client

pytestmark = pytest.mark.slow

MESSAGES = [{"role": "user", "content": "write a train loop for the model"}]
MAX_TOKENS = 16


@pytest.fixture
def client(served_model, tmp_path):
    base_url, model = served_model
    return make_client(LLMConfig(base_url=base_url, model=model, max_tokens=MAX_TOKENS, timeout=60,
                                 max_retries=1, backoff=0.1, cache_dir=tmp_path / "cache"))


def test_completion(client):
    result = client.complete(MESSAGES)
    assert isinstance(result.text, str) and result.text.strip()
    assert result.cached is False
    assert result.usage["prompt_tokens"] > 0
    assert 0 < result.usage["completion_tokens"] <= MAX_TOKENS


def test_streaming(client):
    deltas: list[str] = []
    result = client.complete(MESSAGES, on_token=deltas.append, temperature=0.0)
    assert len(deltas) > 1
    assert "".join(deltas) == result.text and result.text.strip()
    assert 0 < result.usage["completion_tokens"] <= MAX_TOKENS  # sent with the final chunk


def test_cache_makes_second_call_free(client):
    first = client.complete(MESSAGES, max_tokens=8)
    calls = client.calls
    second = client.complete(MESSAGES, max_tokens=8)
    assert first.cached is False and second.cached is True
    assert second.text == first.text and second.usage == first.usage
    assert client.calls == calls


def test_other_model_is_refused(served_model):
    base_url, _ = served_model
    client = make_client(LLMConfig(base_url=base_url, model="not/the-served-model", max_tokens=4, cache_dir=None))
    with pytest.raises(LLMError, match="HTTP 400"):
        client.complete(MESSAGES)
    assert client.calls == 1
