"""Test doubles for the LLM layer.

* `StubLLMServer`: an OpenAI-compatible chat-completions server on loopback, in a thread, with scripted
  failures (status codes, Retry-After, hangs, a required API key), a fixed delay and SSE streaming.
  Requests are served concurrently: N simultaneous requests each sleeping `delay` overlap.
* `tiny_chat_model_folder` / `transformers_serve`: a random-weight tiny chat model built locally (no download)
  and a real `transformers serve` subprocess pinned to it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Answer = str | Callable[[list[dict]], str]


def _words(text: str) -> list[str]:
    """Split text into stream pieces that concatenate back to it: each word with its leading whitespace."""
    return re.findall(r"\s*\S+|\s+$", text) or [""]


def _count_tokens(messages: list[dict]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256  # the default 5 drops SYNs under a burst of simultaneous connections
    stub: StubLLMServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: the end of a stream is the end of the body

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the per-request log
        pass

    def do_GET(self) -> None:
        stub = self.server.stub
        if self.path.rstrip("/") == "/health":
            return self._json(200, {"status": "ok"})
        if self.path.rstrip("/") == "/v1/models":
            return self._json(200, {"object": "list", "data": [{"id": stub.model_name or "stub", "object": "model"}]})
        self._json(404, _error_body("not found", "not_found"))

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            return self._json(404, _error_body(f"no route {self.path}", "not_found"))
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            return self._json(400, _error_body("invalid JSON body", "invalid_request_error"))
        self.server.stub._serve_chat(self, body)

    def _json(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


def _error_body(message: str, kind: str) -> dict:
    return {"error": {"message": message, "type": kind, "code": None}}


class StubLLMServer:
    """OpenAI-compatible `/v1/chat/completions` stub on 127.0.0.1 (context manager).

    answer: the reply, or a function of the request's messages returning it.
    delay: seconds slept before answering each request (requests overlap: one thread each).
    statuses: status codes answered, in order, before normal service (e.g. [500, 500] then 200s).
    retry_after: value of the Retry-After header sent with scripted 429/503 answers (None: no header).
    hang: never answer (until the server stops).
    expected_key: when set, requests without `Authorization: Bearer <expected_key>` get a 401.
    model_name: when set, requests naming another model get a 404 (as an unknown model does).
    chunk_delay: seconds slept between streamed chunks.
    reject_stream_options: answer 400 to requests carrying `stream_options` (as some servers do).

    Counters (thread-safe): `requests` (every POST received), `in_flight`, `max_in_flight`; `bodies` keeps
    the request bodies in arrival order.
    """

    def __init__(
        self,
        answer: Answer = "Hello from the stub.",
        *,
        delay: float = 0.0,
        statuses: list[int] | None = None,
        retry_after: float | None = None,
        hang: bool = False,
        expected_key: str | None = None,
        model_name: str | None = None,
        chunk_delay: float = 0.0,
        reject_stream_options: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.answer = answer
        self.delay = delay
        self.statuses: collections.deque[int] = collections.deque(statuses or [])
        self.retry_after = retry_after
        self.hang = hang
        self.expected_key = expected_key
        self.model_name = model_name
        self.chunk_delay = chunk_delay
        self.reject_stream_options = reject_stream_options
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.bodies: list[dict] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((host, port), _Handler)
        self._server.stub = self
        self._thread: threading.Thread | None = None

    # ---- lifecycle ----

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> StubLLMServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"stub-llm-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hanging and sleeping handlers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> StubLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- serving ----

    def _serve_chat(self, handler: _Handler, body: dict) -> None:
        with self._lock:
            self.requests += 1
            self.bodies.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            scripted = self.statuses.popleft() if self.statuses else None
        try:
            self._answer(handler, body, scripted)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) or went away
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, handler: _Handler, body: dict, scripted: int | None) -> None:
        if self.expected_key is not None and handler.headers.get("Authorization") != f"Bearer {self.expected_key}":
            return handler._json(401, _error_body("Incorrect API key provided.", "invalid_request_error"))
        if self.hang:
            self._stopping.wait(300)
            return
        if self.delay and self._stopping.wait(self.delay):
            return
        if scripted is not None and scripted != 200:
            headers = {"Retry-After": f"{self.retry_after:g}"} if self.retry_after is not None and scripted in (
                429, 503) else None
            return handler._json(scripted, _error_body(f"scripted failure {scripted}", "server_error"), headers)
        if self.model_name is not None and body.get("model") != self.model_name:
            return handler._json(404, _error_body(f"The model `{body.get('model')}` does not exist.",
                                                  "invalid_request_error"))
        if self.reject_stream_options and "stream_options" in body:
            return handler._json(400, _error_body("Unrecognized request argument: stream_options",
                                                  "invalid_request_error"))
        messages = body.get("messages") or []
        text = self.answer(messages) if callable(self.answer) else self.answer
        usage = {"prompt_tokens": _count_tokens(messages), "completion_tokens": len(text.split())}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return self._stream(handler, body, text, usage if include_usage else None)
        handler._json(200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": usage,
        })

    def _stream(self, handler: _Handler, body: dict, text: str, usage: dict | None) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.end_headers()
        base = {"id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model", "stub")}

        def send(choices: list[dict], **extra: Any) -> None:
            handler.wfile.write(f"data: {json.dumps({**base, 'choices': choices, **extra})}\n\n".encode())
            handler.wfile.flush()

        send([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        for piece in _words(text):
            if self.chunk_delay and self._stopping.wait(self.chunk_delay):
                return
            send([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        send([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if usage is not None:
            send([], usage=usage)
        handler.wfile.write(b"data: [DONE]\n\n")
        handler.wfile.flush()


# ---------------------------------------------------------------------------------------------------------------
# A real `transformers serve` on a tiny random-weight model
# ---------------------------------------------------------------------------------------------------------------

TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|> {{ message['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
_SPECIAL_TOKENS = ["<unk>", "<pad>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
_CORPUS = (
    "import torch from torch import nn def model forward return self layer x y loss train epoch data loader "
    "batch size optimizer adam learning rate class dataset tensor print hello world the a of to and is in "
    "for if else while with as accuracy evaluate test split config plan step one two three"
)


def tiny_chat_model_folder(path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Write a tiny random-weight Llama chat model (word-level tokenizer, Jinja chat template) to `path`.

    Built entirely locally. The special tokens (eos included) are suppressed in the generation config so the
    model always writes `max_tokens` words: answers are never empty.
    """
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(_SPECIAL_TOKENS)}
    for word in dict.fromkeys(_CORPUS.split()):
        vocab.setdefault(word, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces, no stray space before the first
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                                        eos_token="<|end|>", additional_special_tokens=_SPECIAL_TOKENS[3:])
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)

    special_ids = [vocab[t] for t in _SPECIAL_TOKENS]
    config = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         initializer_range=0.5,  # large random weights: varied words, not one word repeated
                         bos_token_id=None, eos_token_id=vocab["<|end|>"], pad_token_id=vocab["<pad>"],
                         tie_word_embeddings=True)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=vocab["<|end|>"], pad_token_id=vocab["<pad>"],
                                               suppress_tokens=special_ids, do_sample=False)
    model.save_pretrained(folder)
    return folder


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _transformers_cli() -> list[str]:
    script = Path(sys.executable).with_name("transformers")
    return [str(script)] if script.exists() else [sys.executable, "-m", "transformers.cli.transformers"]


def _offline_env(hf_home: Path) -> dict[str, str]:
    (hf_home / "hub").mkdir(parents=True, exist_ok=True)  # `/v1/models` scans the hub cache
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update(HF_HOME=str(hf_home), HF_HUB_CACHE=str(hf_home / "hub"), HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1", HF_HUB_DISABLE_TELEMETRY="1", TOKENIZERS_PARALLELISM="false",
               PYTHONUNBUFFERED="1")
    return env


def _wait_ready(url: str, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"transformers serve exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"transformers serve not ready after {timeout:.0f} s:\n{log.read_text()[-4000:]}")


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


@contextlib.contextmanager
def transformers_serve(folder: str | os.PathLike, *, port: int | None = None, hf_home: str | os.PathLike | None = None,
                       startup_timeout: float = 180.0) -> Iterator[tuple[str, str]]:
    """Run `transformers serve <folder>` (pinned to that model, on CPU, offline) on 127.0.0.1.

    Yields `(base_url, model_name)`: requests must name `model_name` (the folder path, as given to the server).
    The server preloads the model before it listens, so once `/health` answers it is ready.
    """
    model_name = str(Path(folder).resolve())
    port = port or free_port()
    with contextlib.ExitStack() as stack:
        work = Path(hf_home) if hf_home else Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tserve-")))
        work.mkdir(parents=True, exist_ok=True)
        log = work / "serve.log"
        command = [*_transformers_cli(), "serve", model_name, "--host", "127.0.0.1", "--port", str(port),
                   "--device", "cpu", "--log-level", "warning"]
        with open(log, "wb") as log_file:
            proc = subprocess.Popen(command, env=_offline_env(work / "hf"), stdout=log_file,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_ready(f"http://127.0.0.1:{port}/health", proc, log, startup_timeout)
            yield f"http://127.0.0.1:{port}/v1", model_name
        finally:
            _stop(proc)
