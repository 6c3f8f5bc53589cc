"""A fake chat client for unit tests of the orchestration (no HTTP): answers from a function of the prompt."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from dlcodegen.core.protocols import Completion


@dataclass
class FakeCall:
    messages: list[dict]
    started: float
    ended: float = 0.0

    @property
    def prompt(self) -> str:
        return self.messages[-1]["content"]


@dataclass
class FakeChatClient:
    """Answers `answer(prompt)` (default: a fenced block naming the call) after `delay` seconds."""

    answer: Callable[[str], str] | None = None
    delay: float = 0.0
    calls: list[FakeCall] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._count = 0

    def complete(self, messages, *, on_token=None, **overrides) -> Completion:
        call = FakeCall(messages, time.perf_counter())
        with self._lock:
            self._count += 1
            number = self._count
            self.calls.append(call)
        time.sleep(self.delay)
        text = self.answer(call.prompt) if self.answer else f"```python\nanswer_{number} = {number}\n```"
        if on_token:
            for start in range(0, len(text), 7):
                on_token(text[start:start + 7])
        call.ended = time.perf_counter()
        return Completion(text=text, usage={"prompt_tokens": len(call.prompt.split()), "completion_tokens": 3},
                          cached=False, elapsed=self.delay)
