"""The plan parser for the pipeline. In a model repo this file is a copy of `dlcodegen/plan.py` (standard library
only), so that `pipeline(model=..., trust_remote_code=True)` needs nothing but transformers."""

from dlcodegen.plan import Plan, PlanParseError, format_plan_prompt, model_prompt  # noqa: F401
