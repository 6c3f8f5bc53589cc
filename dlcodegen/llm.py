"""The one LLM access layer: an OpenAI-compatible chat client with retries, streaming and a disk cache.

Any OpenAI-compatible server works (OpenAI, vLLM, llama.cpp, Ollama, `transformers serve`): point
`$OPENAI_BASE_URL` (or `--base-url`) at it and name the model with `$DLCODEGEN_MODEL` (or `--model`).

The API key is read from `$OPENAI_API_KEY` inside `make_client` only: it is never a field of any object here,
never part of a cache key or entry, and every error message goes through `redact`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dlcodegen.core.errors import ConfigurationError, ServiceError
from dlcodegen.core.protocols import Completion
from dlcodegen.core.text import API_KEY_ENV as ENV_API_KEY
from dlcodegen.core.text import one_line, redact
from dlcodegen.files import write_atomic

logger = logging.getLogger(__name__)

ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "DLCODEGEN_MODEL"
ENV_CACHE_DIR = "DLCODEGEN_CACHE_DIR"
PLACEHOLDER_KEY = "not-needed"  # sent when no key is set: local servers need none, the openai client insists on one

MAX_BACKOFF = 30.0  # seconds, cap of one retry sleep (Retry-After included)
_OVERRIDABLE = ("temperature", "top_p", "max_tokens")
_MESSAGE_CHARS = 200  # how much of a server's error message goes into ours


class LLMError(ServiceError):
    """An LLM request failed. The message is one line and never contains the API key."""


class LLMAuthError(LLMError, ConfigurationError):
    """The server rejected the API key (HTTP 401/403). Not retried."""


class LLMNotConfigured(LLMError, ConfigurationError):
    """No model is configured."""


@dataclass
class LLMConfig:
    """Where and how to ask. Safe to dump (`dataclasses.asdict`) into traces: it holds no secret."""

    base_url: str | None = None  # None -> the openai default (api.openai.com)
    model: str | None = None
    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 4096
    timeout: float = 120.0  # seconds per request
    max_retries: int = 4  # retries after the first try, on 429, 5xx, connection errors and timeouts
    backoff: float = 1.0  # base seconds; exponential with full jitter, capped at MAX_BACKOFF
    cache_dir: Path | None = None  # None -> no cache

    @classmethod
    def from_env(cls, base_url: str | None = None, model: str | None = None, no_cache: bool = False,
                 **params: Any) -> LLMConfig:
        """Flags override the environment. `params` sets other fields; None values are ignored (unset flags)."""
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise TypeError(f"unknown LLMConfig fields: {', '.join(sorted(unknown))}")
        params = {k: v for k, v in params.items() if v is not None}
        cache_dir = params.pop("cache_dir", None) or _env(ENV_CACHE_DIR) or default_cache_dir()
        return cls(base_url=base_url or _env(ENV_BASE_URL), model=model or _env(ENV_MODEL),
                   cache_dir=None if no_cache else Path(cache_dir).expanduser(), **params)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def default_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/dlcodegen/llm`, by default `~/.cache/dlcodegen/llm`."""
    root = _env("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "dlcodegen" / "llm"


# ---------------------------------------------------------------------------------------------------------------
# Cache
# ---------------------------------------------------------------------------------------------------------------


def cache_key(config: LLMConfig, messages: list[dict], params: dict) -> str:
    """sha256 of the canonical JSON of what determines an answer (never the API key)."""
    payload = {"base_url": config.base_url, "model": config.model, "messages": messages, **params}
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _cache_path(cache_dir: Path, key: str) -> Path:
    return cache_dir / key[:2] / f"{key}.json"


def _cache_get(cache_dir: Path, key: str) -> dict | None:
    try:
        entry = json.loads(_cache_path(cache_dir, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
        return None
    return {"text": entry["text"], "usage": _usage(entry.get("usage"))}


def _cache_put(cache_dir: Path, key: str, text: str, usage: dict) -> None:
    """Atomic write; a failure to cache is not an error."""
    try:
        write_atomic(_cache_path(cache_dir, key), json.dumps({"text": text, "usage": usage}, ensure_ascii=False))
    except OSError:
        pass


def _usage(raw: Any) -> dict:
    """{"prompt_tokens", "completion_tokens"} from a usage object or dict; zeros for what is missing."""
    def get(name: str) -> int:
        value = raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)
        return int(value) if isinstance(value, (int, float)) else 0
    return {"prompt_tokens": get("prompt_tokens"), "completion_tokens": get("completion_tokens")}


# ---------------------------------------------------------------------------------------------------------------
# Errors and retries
# ---------------------------------------------------------------------------------------------------------------


class _Retryable(Exception):
    """Internal: a failed try worth another one. `wait` is the server's Retry-After, if any."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


class _Fatal(Exception):
    """Internal: a failed try not worth another one (HTTP 400/404, an error inside a stream...)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _brief(text: Any) -> str:
    return one_line(text, _MESSAGE_CHARS)


def _server_message(error: Any) -> str:
    """The server's own words from an openai APIStatusError: body.error.message, body.message, or the text."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        message = (inner.get("message") or inner.get("detail")) if isinstance(inner, dict) else inner
        if message:
            return _brief(message)
        if body.get("detail"):
            return _brief(body["detail"])
    if isinstance(body, str) and body.strip():
        return _brief(body)
    return _brief(getattr(error, "message", "") or type(error).__name__)


def _retry_after(error: Any) -> float | None:
    """Seconds from the `retry-after-ms` or `Retry-After` (seconds) header; None when absent or an HTTP date."""
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / scale)
        except ValueError:
            continue
    return None


def _sleep_for(attempt: int, backoff: float, retry_after: float | None) -> float:
    if retry_after is not None:
        return min(retry_after, MAX_BACKOFF)
    return random.uniform(0, min(backoff * 2**attempt, MAX_BACKOFF))


# ---------------------------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------------------------


class ChatClient:
    """Chat completions with retries, optional streaming and a disk cache. Thread-safe."""

    def __init__(self, config: LLMConfig, openai_client: Any = None) -> None:
        if openai_client is None:
            openai_client = _openai_client(config)
        self.config = config
        self._client = openai_client
        self._lock = threading.Lock()
        self._calls = 0
        self._stream_usage = True  # ask for usage in streams until the server rejects `stream_options`

    def __repr__(self) -> str:
        return f"ChatClient(base_url={self.config.base_url!r}, model={self.config.model!r}, calls={self.calls})"

    @property
    def calls(self) -> int:
        """Requests actually sent (every try counts; cache hits do not)."""
        with self._lock:
            return self._calls

    def complete(self, messages: list[dict], *, on_token: Callable[[str], None] | None = None,
                 **overrides: Any) -> Completion:
        """One chat completion. `overrides`: temperature / top_p / max_tokens for this call.

        With `on_token`, the answer is streamed and `on_token(delta)` is called for each content delta (once
        with the whole text on a cache hit). A failed stream is retried only if no delta was delivered yet.
        An empty answer gives `text == ""`; it is not cached.
        """
        params = self._params(overrides)
        cache_dir = self.config.cache_dir
        key = cache_key(self.config, messages, params) if cache_dir else None
        if cache_dir and key and (hit := _cache_get(cache_dir, key)) is not None:
            logger.debug("LLM answer from the cache (%s)", key[:12])
            if on_token is not None and hit["text"]:
                on_token(hit["text"])
            return Completion(text=hit["text"], usage=hit["usage"], cached=True, elapsed=0.0)
        start = time.monotonic()
        text, usage = self._with_retries(messages, params, on_token)
        completion = Completion(text=text, usage=usage, cached=False, elapsed=time.monotonic() - start)
        if cache_dir and key and text:
            _cache_put(cache_dir, key, text, usage)
        return completion

    def _params(self, overrides: dict) -> dict:
        unknown = set(overrides) - set(_OVERRIDABLE)
        if unknown:
            raise TypeError(f"complete() got unexpected overrides: {', '.join(sorted(unknown))}")
        params = {name: getattr(self.config, name) for name in _OVERRIDABLE}
        params.update({k: v for k, v in overrides.items() if v is not None})
        return params

    def _with_retries(self, messages: list[dict], params: dict,
                      on_token: Callable[[str], None] | None) -> tuple[str, dict]:
        tries = self.config.max_retries + 1
        for attempt in range(tries):
            delivered: list[str] = []
            try:
                return self._try(messages, params, on_token, delivered)
            except _Fatal as failure:
                raise LLMError(self._failure(failure.reason, attempt + 1)) from None
            except _Retryable as failure:
                if delivered:
                    reason = f"stream interrupted after {sum(map(len, delivered))} characters: {failure.reason}"
                    raise LLMError(self._failure(reason, attempt + 1)) from None
                if attempt + 1 == tries:
                    raise LLMError(self._failure(failure.reason, tries)) from None
                pause = _sleep_for(attempt, self.config.backoff, failure.wait)
                logger.info("LLM request failed (%s); try %d of %d in %.1f s", redact(failure.reason), attempt + 2,
                            tries, pause)
                time.sleep(pause)
        raise AssertionError("unreachable")

    def _failure(self, reason: str, tries: int) -> str:
        where = self.config.base_url or "the OpenAI API"
        plural = "try" if tries == 1 else "tries"
        return redact(f"LLM request to {where} model {self.config.model} failed after {tries} {plural}: {reason}")

    def _try(self, messages: list[dict], params: dict, on_token: Callable[[str], None] | None,
             delivered: list[str]) -> tuple[str, dict]:
        """One request. openai errors become _Retryable, _Fatal or LLMAuthError."""
        import openai

        with self._lock:
            self._calls += 1
        try:
            if on_token is None:
                return self._send(messages, params)
            return self._send_streaming(messages, params, on_token, delivered)
        except openai.APITimeoutError:
            raise _Retryable(f"timed out after {self.config.timeout:g} s") from None
        except openai.APIConnectionError as error:
            raise _Retryable(f"connection failed ({_brief(_cause(error))})") from None
        except openai.APIStatusError as error:
            raise self._status_error(error) from None
        except openai.APIError as error:  # e.g. an error event inside a stream
            raise _Fatal(_brief(str(error))) from None

    def _status_error(self, error: Any) -> Exception:
        status = int(getattr(error, "status_code", 0) or 0)
        reason = f"HTTP {status} ({_server_message(error)})"
        if status in (401, 403):
            return LLMAuthError(f"the LLM server rejected the API key (HTTP {status}): check {ENV_API_KEY}")
        if status in (408, 409, 429) or status >= 500:
            return _Retryable(reason, _retry_after(error))
        return _Fatal(reason)

    def _request(self, messages: list[dict], params: dict, **extra: Any) -> Any:
        return self._client.chat.completions.create(model=self.config.model, messages=messages, **params, **extra)

    def _send(self, messages: list[dict], params: dict) -> tuple[str, dict]:
        response = self._request(messages, params)
        choices = getattr(response, "choices", None) or []
        message = getattr(choices[0], "message", None) if choices else None
        return (getattr(message, "content", None) or ""), _usage(getattr(response, "usage", None))

    def _send_streaming(self, messages: list[dict], params: dict, on_token: Callable[[str], None],
                        delivered: list[str]) -> tuple[str, dict]:
        stream = self._open_stream(messages, params)
        usage = None
        with _closing(stream):
            for chunk in stream:
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                for choice in getattr(chunk, "choices", None) or []:
                    delta = getattr(getattr(choice, "delta", None), "content", None)
                    if delta:
                        delivered.append(delta)
                        on_token(delta)
        return "".join(delivered), _usage(usage)

    def _open_stream(self, messages: list[dict], params: dict) -> Any:
        """Ask for usage in the stream; if the server refuses `stream_options` (HTTP 400/422), ask without."""
        import openai

        if not self._stream_usage:
            return self._request(messages, params, stream=True)
        try:
            return self._request(messages, params, stream=True, stream_options={"include_usage": True})
        except (openai.BadRequestError, openai.UnprocessableEntityError) as error:
            if "stream_options" not in _server_message(error):
                raise
            self._stream_usage = False
            with self._lock:
                self._calls += 1
            return self._request(messages, params, stream=True)


class _closing:
    """Close an openai Stream (its HTTP response) whatever happens; tolerates objects without close()."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> Any:
        return self.stream

    def __exit__(self, *exc: object) -> None:
        close = getattr(self.stream, "close", None)
        if callable(close):
            try:
                close()
            except Exception:  # noqa: BLE001 - closing must not hide the real outcome
                pass


def _cause(error: BaseException) -> str:
    """The deepest reason of a connection error (e.g. '[Errno 111] Connection refused'), without a traceback."""
    reason = str(error) or type(error).__name__
    cause = error.__cause__ or error.__context__
    for _ in range(8):
        if cause is None:
            break
        if str(cause):
            reason = str(cause)
        cause = cause.__cause__ or cause.__context__
    return reason


def _openai_client(config: LLMConfig) -> Any:
    import openai

    return openai.OpenAI(base_url=config.base_url, api_key=os.environ.get(ENV_API_KEY) or PLACEHOLDER_KEY,
                         timeout=config.timeout, max_retries=0)


def make_client(config: LLMConfig | None = None) -> ChatClient:
    """A ChatClient for `config` (default: `LLMConfig.from_env()`). Raises LLMNotConfigured without a model."""
    config = config if config is not None else LLMConfig.from_env()
    if not config.model:
        raise LLMNotConfigured(f"no LLM model configured: set {ENV_MODEL} or pass --model")
    return ChatClient(config, _openai_client(config))
