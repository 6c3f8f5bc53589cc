"""Template RAG: the LLM abstracts the top retrieved samples into one task-agnostic code template."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlcodegen.core.items import Retrieved

if TYPE_CHECKING:
    from dlcodegen.generator.run import RunContext


def abstract_template(context: RunContext, retrieved: list[Retrieved]) -> str:
    samples = [r.sample for r in retrieved[: context.config.template_samples]]
    return context.ask("template", "template_rag.j2", samples=samples)
