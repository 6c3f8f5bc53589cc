"""dlcodegen.llm against a real loopback OpenAI-compatible stub server (tests/llm_stub.py)."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import traceback
from pathlib import Path

import pytest
from llm_stub import StubLLMServer, free_port

from dlcodegen import llm
from dlcodegen.llm import (
    ChatClient,
    Completion,
    LLMAuthError,
    LLMConfig,
    LLMError,
    LLMNotConfigured,
    make_client,
    redact,
)

MESSAGES = [{"role": "system", "content": "You write code."}, {"role": "user", "content": "Say hello."}]
FAKE_KEY = "sk-test-5ecr3t-K3Y-value-0123456789"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (llm.ENV_BASE_URL, llm.ENV_API_KEY, llm.ENV_MODEL, llm.ENV_CACHE_DIR):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def client_for(stub: StubLLMServer, **config) -> ChatClient:
    config.setdefault("cache_dir", None)
    config.setdefault("backoff", 0.01)
    return make_client(LLMConfig(base_url=stub.base_url, model="stub-model", **config))


def one_line(message: str) -> bool:
    return "\n" not in message and len(message) < 500


# ---- completions and streaming ----


def test_completion():
    with StubLLMServer("Hello, world! How are you?") as stub:
        client = client_for(stub, temperature=0.2, max_tokens=64)
        result = client.complete(MESSAGES)
    assert isinstance(result, Completion)
    assert result.text == "Hello, world! How are you?"
    assert result.usage == {"prompt_tokens": 5, "completion_tokens": 5}
    assert result.cached is False and result.elapsed >= 0
    assert client.calls == stub.requests == 1
    body = stub.bodies[0]
    assert body["model"] == "stub-model" and body["messages"] == MESSAGES
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.2, 1.0, 64)
    assert "stream" not in body or body["stream"] is False


def test_answer_function_and_overrides():
    with StubLLMServer(lambda messages: messages[-1]["content"].upper()) as stub:
        client = client_for(stub)
        assert client.complete(MESSAGES, temperature=0.7, top_p=0.9, max_tokens=8).text == "SAY HELLO."
    assert (stub.bodies[0]["temperature"], stub.bodies[0]["top_p"], stub.bodies[0]["max_tokens"]) == (0.7, 0.9, 8)
    with pytest.raises(TypeError):
        client.complete(MESSAGES, seed=1)


def test_streaming_deltas_match_text():
    answer = "def main():\n    print('hello')\n\nmain()"
    deltas: list[str] = []
    with StubLLMServer(answer, chunk_delay=0.01) as stub:
        result = client_for(stub).complete(MESSAGES, on_token=deltas.append)
    assert len(deltas) > 3
    assert "".join(deltas) == result.text == answer
    assert stub.bodies[0]["stream"] is True
    assert result.usage["completion_tokens"] == len(answer.split())


def test_streaming_without_stream_options_support():
    deltas: list[str] = []
    with StubLLMServer("one two three", reject_stream_options=True) as stub:
        client = client_for(stub)
        first = client.complete(MESSAGES, on_token=deltas.append)
        second = client.complete(MESSAGES, on_token=lambda _: None)
    assert first.text == second.text == "".join(deltas) == "one two three"
    assert first.usage == {"prompt_tokens": 0, "completion_tokens": 0}
    assert stub.requests == 3  # refused once, then never asked again
    assert "stream_options" not in stub.bodies[-1]


def test_empty_answer_is_empty_text_and_not_cached(tmp_path):
    with StubLLMServer("") as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        assert client.complete(MESSAGES).text == ""
        assert client.complete(MESSAGES).cached is False
    assert stub.requests == 2


# ---- cache ----


def test_cache_hit_makes_no_request(tmp_path):
    with StubLLMServer("cached answer") as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        first = client.complete(MESSAGES)
        second = client.complete(MESSAGES)
        streamed: list[str] = []
        third = client.complete(MESSAGES, on_token=streamed.append)
    assert first.cached is False and second.cached is True and third.cached is True
    assert first.text == second.text == third.text == "cached answer"
    assert second.usage == first.usage
    assert streamed == ["cached answer"]
    assert stub.requests == client.calls == 1
    files = list((tmp_path / "cache").rglob("*.json"))
    assert len(files) == 1 and len(files[0].parent.name) == 2 and files[0].name.startswith(files[0].parent.name)
    assert json.loads(files[0].read_text()) == {"text": "cached answer", "usage": first.usage}


def test_cache_key_depends_on_parameters(tmp_path):
    with StubLLMServer("x") as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        client.complete(MESSAGES)
        assert client.complete(MESSAGES, temperature=0.5).cached is False
        assert client.complete(MESSAGES, max_tokens=7).cached is False
        assert client.complete(MESSAGES[:1]).cached is False
        other_model = make_client(dataclasses.replace(client.config, model="other"))
        assert other_model.complete(MESSAGES).cached is False
        assert client.complete(MESSAGES, temperature=0.5).cached is True
    assert stub.requests == 5


def test_corrupted_cache_entry_is_a_miss(tmp_path):
    with StubLLMServer("fresh") as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        client.complete(MESSAGES)
        (entry,) = (tmp_path / "cache").rglob("*.json")
        entry.write_text('{"text": ')
        again = client.complete(MESSAGES)
        assert again.cached is False and again.text == "fresh"
        assert client.complete(MESSAGES).cached is True
    assert stub.requests == 2
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_api_key_is_never_stored(tmp_path, monkeypatch):
    monkeypatch.setenv(llm.ENV_API_KEY, FAKE_KEY)
    with StubLLMServer("secret-free", expected_key=FAKE_KEY) as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        client.complete(MESSAGES)
        client.complete(MESSAGES, temperature=0.3, on_token=lambda _: None)
    assert stub.requests == 2
    files = [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]
    assert len(files) == 2
    for path in files:
        assert FAKE_KEY.encode() not in path.read_bytes()
    assert FAKE_KEY not in repr(client) + repr(client.config) + json.dumps(dataclasses.asdict(client.config), default=str)


# ---- retries and errors ----


def test_retries_on_500_then_success():
    with StubLLMServer("recovered", statuses=[500, 502]) as stub:
        client = client_for(stub)
        assert client.complete(MESSAGES).text == "recovered"
    assert stub.requests == client.calls == 3


def test_429_honours_retry_after():
    with StubLLMServer("after the wait", statuses=[429], retry_after=0.4) as stub:
        client = client_for(stub, backoff=0.0)
        start = time.monotonic()
        assert client.complete(MESSAGES).text == "after the wait"
        assert time.monotonic() - start >= 0.4
    assert stub.requests == 2


def test_retry_sleep_is_capped_and_jittered():
    assert llm._sleep_for(0, 1.0, retry_after=1000.0) == llm.MAX_BACKOFF
    assert llm._sleep_for(3, 1.0, retry_after=0.25) == 0.25
    samples = [llm._sleep_for(10, 1.0, None) for _ in range(200)]
    assert all(0 <= s <= llm.MAX_BACKOFF for s in samples) and len(set(samples)) > 100


def test_persistent_500_fails_with_one_line():
    with StubLLMServer("never", statuses=[500] * 10) as stub:
        client = client_for(stub, max_retries=2)
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)
    message = str(caught.value)
    assert one_line(message)
    assert "failed after 3 tries" in message and "HTTP 500" in message and "scripted failure 500" in message
    assert stub.base_url in message and "stub-model" in message
    assert stub.requests == 3


def test_hang_times_out_then_fails_fast():
    with StubLLMServer(hang=True) as stub:
        client = client_for(stub, timeout=0.5, max_retries=2, backoff=0.01)
        start = time.monotonic()
        with pytest.raises(LLMError) as caught:
            client.complete(MESSAGES)
        elapsed = time.monotonic() - start
    assert one_line(str(caught.value)) and "timed out after 0.5 s" in str(caught.value)
    assert "failed after 3 tries" in str(caught.value)
    assert stub.requests == 3
    assert elapsed < 4


def test_wrong_key_is_auth_error_without_the_key(monkeypatch):
    monkeypatch.setenv(llm.ENV_API_KEY, FAKE_KEY)
    with StubLLMServer("no", expected_key="the-right-key") as stub:
        client = client_for(stub)
        with pytest.raises(LLMAuthError) as caught:
            client.complete(MESSAGES)
    error = caught.value
    assert "HTTP 401" in str(error) and llm.ENV_API_KEY in str(error) and one_line(str(error))
    assert stub.requests == 1  # not retried
    assert error.__cause__ is None and error.__suppress_context__
    assert FAKE_KEY not in "".join(traceback.format_exception(error))


def test_missing_key_sends_placeholder(monkeypatch):
    with StubLLMServer("ok", expected_key=llm.PLACEHOLDER_KEY) as stub:
        assert client_for(stub).complete(MESSAGES).text == "ok"


def test_unknown_model_is_not_retried():
    with StubLLMServer("x", model_name="served-model") as stub:
        with pytest.raises(LLMError) as caught:
            client_for(stub).complete(MESSAGES)
    assert type(caught.value) is LLMError and one_line(str(caught.value))
    assert "HTTP 404" in str(caught.value) and "does not exist" in str(caught.value)
    assert stub.requests == 1


def test_connection_refused():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    client = make_client(LLMConfig(base_url=base_url, model="m", max_retries=1, backoff=0.01, cache_dir=None))
    with pytest.raises(LLMError) as caught:
        client.complete(MESSAGES)
    message = str(caught.value)
    assert one_line(message) and "connection failed" in message and "failed after 2 tries" in message
    assert base_url in message
    assert client.calls == 2


def test_interrupted_stream_is_not_retried():
    import openai

    class Chunk:
        def __init__(self, text):
            self.usage = None
            self.choices = [type("C", (), {"delta": type("D", (), {"content": text})()})()]

    def broken_stream():
        yield Chunk("partial ")
        raise openai.APIConnectionError(request=None)

    class FakeCompletions:
        calls = 0

        def create(self, **kwargs):
            FakeCompletions.calls += 1
            return broken_stream()

    fake = type("Fake", (), {"chat": type("Chat", (), {"completions": FakeCompletions()})()})()
    client = ChatClient(LLMConfig(model="m", backoff=0.0), openai_client=fake)
    seen: list[str] = []
    with pytest.raises(LLMError, match="stream interrupted after 8 characters"):
        client.complete(MESSAGES, on_token=seen.append)
    assert seen == ["partial "] and FakeCompletions.calls == 1


# ---- configuration ----


def test_no_model_is_not_configured(monkeypatch):
    with pytest.raises(LLMNotConfigured, match=llm.ENV_MODEL):
        make_client()
    with pytest.raises(LLMNotConfigured, match="--model"):
        make_client(LLMConfig(base_url="http://127.0.0.1:9/v1"))


def test_from_env(monkeypatch, tmp_path):
    default = LLMConfig.from_env()
    assert default.base_url is None and default.model is None
    assert default.cache_dir == tmp_path / "xdg" / "dlcodegen" / "llm"
    monkeypatch.setenv(llm.ENV_BASE_URL, "http://env:1/v1")
    monkeypatch.setenv(llm.ENV_MODEL, "env-model")
    monkeypatch.setenv(llm.ENV_CACHE_DIR, str(tmp_path / "envcache"))
    from_env = LLMConfig.from_env()
    assert (from_env.base_url, from_env.model, from_env.cache_dir) == ("http://env:1/v1", "env-model",
                                                                      tmp_path / "envcache")
    flags = LLMConfig.from_env(base_url="http://flag:2/v1", model="flag-model", temperature=0.5, max_tokens=None)
    assert (flags.base_url, flags.model, flags.temperature, flags.max_tokens) == ("http://flag:2/v1", "flag-model",
                                                                                  0.5, 4096)
    assert LLMConfig.from_env(no_cache=True).cache_dir is None
    assert LLMConfig.from_env(cache_dir=tmp_path / "explicit").cache_dir == tmp_path / "explicit"
    with pytest.raises(TypeError):
        LLMConfig.from_env(api_key="nope")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv(llm.ENV_CACHE_DIR)
    assert LLMConfig.from_env().cache_dir == Path.home() / ".cache" / "dlcodegen" / "llm"


def test_config_has_no_secret_field():
    assert "api_key" not in {field.name for field in dataclasses.fields(LLMConfig)}


def test_redact(monkeypatch):
    assert redact("nothing to hide") == "nothing to hide"
    monkeypatch.setenv(llm.ENV_API_KEY, FAKE_KEY)
    assert redact(f"Bearer {FAKE_KEY} and {FAKE_KEY}") == "Bearer *** and ***"
    monkeypatch.setenv(llm.ENV_API_KEY, "abc")
    assert redact("abc") == "abc"  # too short to redact safely


# ---- concurrency ----


def test_concurrent_requests_overlap(tmp_path):
    with StubLLMServer(lambda messages: messages[-1]["content"], delay=0.5) as stub:
        client = client_for(stub, cache_dir=tmp_path / "cache")
        results: dict[int, str] = {}

        def ask(i: int) -> None:
            results[i] = client.complete([{"role": "user", "content": f"request {i}"}]).text

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(8)]
        start = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - start
    assert results == {i: f"request {i}" for i in range(8)}
    assert elapsed < 2.0
    assert stub.requests == client.calls == 8
    assert stub.max_in_flight >= 4
