"""The paper's baselines (Direct, Plan-and-Solve, Cluster-CoT, CEDAR) and the two that need no LLM."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlcodegen.generator.retrieve import random_sibling

if TYPE_CHECKING:
    from dlcodegen.generator.run import RunContext


def direct(context: RunContext, stage: str = "final") -> str:
    return context.ask(stage, "direct.j2")


def plan_and_solve(context: RunContext, stage: str = "final") -> str:
    return context.ask(stage, "plan_and_solve.j2")


def cluster_cot(context: RunContext, stage: str = "final") -> str:
    """The representative reasoning chain of the plan's task category as a demonstration, then zero-shot CoT."""
    category = context.plan().task_category
    demonstration = context.tools.cluster_cot.get().demonstration(context, category)
    return context.ask(stage, "cluster_cot.j2", category=demonstration.category,
                       example_requirement=demonstration.requirement, example_chain=demonstration.chain)


def cedar(context: RunContext, stage: str = "final") -> str:
    """One example retrieved with the requirement as the query."""
    example = context.retrieve_by_requirement(k=1)[0].sample
    return context.ask(stage, "cedar.j2", example_requirement=example.requirement, example_code=example.code)


def retrieval_only(context: RunContext) -> str:
    """Code RAG's top sample, verbatim."""
    top = context.retrieve_code()[0]
    return context.produce("final", top.sample.code, [f"verbatim copy of {top.sample.key} (score {top.score:.3f})"])


def random_other(context: RunContext) -> str:
    """A seeded random other sample of the pool: what an unrelated notebook scores."""
    drawn = random_sibling(context.tools.pool, context.requirement, context.item_id, context.config.seed)
    return context.produce("final", drawn.sample.code,
                           [f"random sibling {drawn.sample.key} (seed {context.config.seed})"])


def offline(context: RunContext) -> str:
    """The offline generator: the task and the plan written as the task family's Keras project; data names from
    the words, else from Code RAG's top sample when it is of the same family."""
    from dlcodegen.generator.offline import project_spec, render_project

    top = context.retrieve_code()[0]
    spec = project_spec(context.requirement, context.plan(), top.sample, context.result.task, context.attributes)
    source = f"data names from {top.sample.key}" if spec.sample_key else \
        f"the top sample {top.sample.key} is of another family: data names from the words, else placeholders"
    code = render_project(spec)
    if context.tools.verifier is None:
        spec.notes.append("not checked against the task here (no verifier: TensorFlow is not installed, or the "
                          "caller runs verify itself)")
    else:
        outcome = context.check(code, 1)
        if not outcome.passed:
            spec.notes.append(f"verify: this project fails at {outcome.failed}: {outcome.error}")
        code = render_project(spec) if not outcome.passed else code
    return context.produce("final", code, [f"{spec.family} project", source, *spec.notes])
