"""The method registry: one name for each method of the paper's Tables II and V, and two that need no LLM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from dlcodegen.core.errors import InputError
from dlcodegen.generator import baselines
from dlcodegen.generator.generate import code_from_examples, code_from_template, compare

if TYPE_CHECKING:
    from dlcodegen.generator.run import RunContext


@dataclass(frozen=True)
class Method:
    name: str
    needs_llm: bool
    summary: str
    run: Callable[[RunContext], str]  # the method's work; returns the project's code


def _dlcodegen(context: RunContext) -> str:
    retrieved = context.retrieve_code()
    code1, code2 = context.parallel(lambda: code_from_examples(context, retrieved),
                                    lambda: code_from_template(context, retrieved))
    return compare(context, code1, code2)


def _without_template_rag(context: RunContext) -> str:
    retrieved = context.retrieve_code()
    code1 = code_from_examples(context, retrieved)
    code2 = baselines.cedar(context, stage="code2")
    return compare(context, code1, code2)


def _without_code_rag(context: RunContext) -> str:
    retrieved = context.retrieve_code()
    code1, code2 = context.parallel(lambda: baselines.cluster_cot(context, stage="code1"),
                                    lambda: code_from_template(context, retrieved))
    return compare(context, code1, code2)


def _without_both_rags(context: RunContext) -> str:
    context.plan()
    code1, code2 = context.parallel(lambda: baselines.cluster_cot(context, stage="code1"),
                                    lambda: baselines.cedar(context, stage="code2"))
    return compare(context, code1, code2)


def _template_only(context: RunContext) -> str:
    return code_from_template(context, context.retrieve_code(), stage="final")


def _examples_only(context: RunContext) -> str:
    return code_from_examples(context, context.retrieve_code(), stage="final")


METHODS: dict[str, Method] = {method.name: method for method in (
    Method("dlcodegen", True, "plan -> Code RAG (code 1) beside Template RAG (code 2) -> comparison", _dlcodegen),
    Method("wo-tr", True, "Table V w/o TR: code 2 is a CEDAR draft instead of the template's", _without_template_rag),
    Method("wo-cr", True, "Table V w/o CR: code 1 is a Cluster-CoT draft instead of the examples'",
           _without_code_rag),
    Method("wo-cr-tr", True, "Table V w/o CR & TR: Cluster-CoT and CEDAR drafts compared", _without_both_rags),
    Method("wo-comparison-cr", True, "Table V w/o Comparison & CR: the template's draft is final", _template_only),
    Method("wo-comparison-tr", True, "Table V w/o Comparison & TR: the examples' draft is final", _examples_only),
    Method("direct", True, "Direct: the requirement alone", baselines.direct),
    Method("plan-and-solve", True, "Plan-and-Solve: plan the steps, then write the code", baselines.plan_and_solve),
    Method("cluster-cot", True, "Cluster-CoT: the task category's representative reasoning chain",
           baselines.cluster_cot),
    Method("cedar", True, "CEDAR: one example retrieved with the requirement as query", baselines.cedar),
    Method("offline", False, "the offline generator: the plan written as a Keras project (no LLM)",
           baselines.offline),
    Method("retrieval-only", False, "Code RAG's top sample, verbatim (no LLM)", baselines.retrieval_only),
    Method("random-sibling", False, "a seeded random other pool sample (no LLM): the calibration row",
           baselines.random_other),
)}
METHOD_NAMES = tuple(METHODS)
OFFLINE_METHODS = tuple(name for name, method in METHODS.items() if not method.needs_llm)


def get_method(name: str) -> Method:
    if name not in METHODS:
        raise InputError(f"unknown method {name!r}; choose one of {', '.join(METHOD_NAMES)}")
    return METHODS[name]
