"""Hugging Face integration of the planner: importing this module registers the `dl-plan-generation` task.

    import dlcodegen.hf
    from transformers import pipeline
    planner = pipeline("dl-plan-generation", model="path/to/planner")
"""

from transformers import AutoModelForCausalLM
from transformers.pipelines import PIPELINE_REGISTRY

from dlcodegen.planning.plan_pipeline import TASK, DLPlanGenerationPipeline

if TASK not in PIPELINE_REGISTRY.get_supported_tasks():
    PIPELINE_REGISTRY.register_pipeline(TASK, pipeline_class=DLPlanGenerationPipeline, pt_model=AutoModelForCausalLM,
                                        type="text")

__all__ = ["TASK", "DLPlanGenerationPipeline"]
