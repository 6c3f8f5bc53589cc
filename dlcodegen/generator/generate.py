"""Comparative generation: code 1 from example code, code 2 from the template, and the final comparison."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlcodegen.core.items import Retrieved
from dlcodegen.generator.template import abstract_template

if TYPE_CHECKING:
    from dlcodegen.generator.run import RunContext


def code_from_examples(context: RunContext, retrieved: list[Retrieved], stage: str = "code1") -> str:
    """Code RAG's draft: plan + the top example code."""
    examples = [r.sample for r in retrieved[: context.config.examples]]
    return context.ask(stage, "code_rag.j2", examples=examples)


def code_from_template(context: RunContext, retrieved: list[Retrieved], stage: str = "code2") -> str:
    """Template RAG's draft: abstract the top samples into a template, then plan + template."""
    template = abstract_template(context, retrieved)
    return context.ask(stage, "template_code.j2", template=template)


def compare(context: RunContext, code1: str, code2: str) -> str:
    """The final project: plan, code 1 and code 2 compared, the best of each kept."""
    return context.ask("final", "compare.j2", code1=code1, code2=code2)
