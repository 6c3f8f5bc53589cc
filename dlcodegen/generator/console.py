"""The terminal view of a run: each stage as it finishes, a live status line while the LLM streams."""

from __future__ import annotations

import sys
from typing import TextIO

from dlcodegen.generator.run import GenerationResult
from dlcodegen.generator.trace import StageEvent, total_usage

PREVIEW_LINES = 15
STAGE_TITLES = {"plan": "Plan", **{f"repair{n}": f"Repair {n}" for n in range(1, 10)},
                **{f"verify{n}": f"Verify {n}" for n in range(1, 11)}, "retrieve": "Retrieved samples",
                "chain": "Reasoning chain", "template": "Template", "code1": "Code 1", "code2": "Code 2",
                "final": "Final project"}


class StageConsole:
    def __init__(self, out: TextIO | None = None, status: TextIO | None = None):
        self.out, self.status = out or sys.stdout, status or sys.stderr
        self.live = self.status.isatty()
        self._streamed: dict[str, int] = {}

    def show(self, event: StageEvent) -> None:
        if event.kind == "start":
            self._streamed[event.stage] = 0
            self._status(f"{event.elapsed:7.1f}s  {STAGE_TITLES.get(event.stage, event.stage)} ...")
        elif event.kind == "delta":
            self._streamed[event.stage] = self._streamed.get(event.stage, 0) + len(event.payload)
            running = ", ".join(f"{STAGE_TITLES.get(stage, stage)} {chars} chars" for stage, chars in
                                self._streamed.items())
            self._status(f"{event.elapsed:7.1f}s  streaming: {running}")
        elif event.kind == "done" and event.stage in STAGE_TITLES:
            self._streamed.pop(event.stage, None)
            self._clear()
            print(f"\n== {STAGE_TITLES[event.stage]} ({event.elapsed:.1f}s) ==", file=self.out)
            print(self._render(event.stage, event.payload), file=self.out, flush=True)

    def summary(self, result: GenerationResult, paths: dict, adherence: dict | None = None) -> None:
        usage = total_usage(result.records)
        print(f"\n{result.method}: {len(result.code.splitlines())} lines in {result.seconds:.1f}s; "
              f"{usage['calls']} LLM call(s), {usage['cached_calls']} from the cache, "
              f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens", file=self.out)
        if adherence:
            print("plan adherence %: " + ", ".join(f"{name} {value:.0f}" for name, value in adherence.items()
                                                   if value is not None), file=self.out)
        if result.checks:
            last = result.checks[-1]
            print(f"verify: {last.summary} ({len(result.checks)} round(s))", file=self.out)
        for path in paths.values():
            print(f"wrote {path}", file=self.out)

    @staticmethod
    def _render(stage: str, payload) -> str:
        if stage == "plan":
            return "\n".join(f"  {name:<18} {value}" for name, value in payload.field_values().items()
                             if value is not None and name != "layers") + "\n  layers:\n" + "\n".join(
                f"    {layer}" for layer in payload.layers or [])
        if stage == "retrieve":
            return "\n".join(f"  {r.score:8.3f}  {r.sample.key:<22} {r.sample.plan.task_category or '-'}"
                             f"  {r.sample.requirement[:70]}" for r in payload)
        if stage == "final":
            return payload
        if stage.startswith("verify"):
            return f"  {payload.summary}"
        lines = payload.splitlines()
        more = len(lines) - PREVIEW_LINES
        return "\n".join(lines[:PREVIEW_LINES]) + (f"\n... ({more} more lines in trace.json)" if more > 0 else "")

    def _status(self, text: str) -> None:
        if self.live:
            self.status.write("\r\033[K" + text[:150])
            self.status.flush()

    def _clear(self) -> None:
        if self.live:
            self.status.write("\r\033[K")
            self.status.flush()
