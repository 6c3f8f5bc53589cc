"""`dl-plan-generation`: requirement (+ dataset attributes) -> DLCodeGen solution plan, with a causal LM.

This file is copied into every planner model folder, beside `plan.py`, so that
`pipeline(model=FOLDER_OR_HUB_ID, trust_remote_code=True)` works with only transformers installed.
"""

from transformers import Pipeline

from .plan import ATTRIBUTES_LABEL, REQUIREMENT_LABEL, Plan, PlanParseError, format_plan_prompt, model_prompt

TASK = "dl-plan-generation"  # registered by `import dlcodegen.hf`
# The task name a model folder declares in `custom_pipelines` for `trust_remote_code=True`. It must differ from
# TASK: transformers resolves a task named in `custom_pipelines` as remote code before its registry.
REMOTE_TASK = "solution-plan-generation"
DEFAULT_MAX_NEW_TOKENS = 512


class DLPlanGenerationPipeline(Pipeline):
    """Inputs: a requirement string, or a dict with `user_requirement` (or `User Requirement`) and optional
    `dataset_attributes` (string or dict); a list of those for a batch.

    Output per input: `{"plan": dict | None, "plan_text": raw generated text, "repairs": [...], "error": str | None}`.
    Greedy decoding by default; pass `num_beams=3` for the paper's beam search; `return_plan_object=True` gives the
    `Plan` itself under "plan" (what dlcodegen's planners use) instead of its dict.
    """

    def _sanitize_parameters(self, num_beams=None, max_new_tokens=None, dataset_attributes=None,
                             return_plan_object=None, **kwargs):
        preprocess, forward, postprocess = {}, {}, {}
        if return_plan_object is not None:
            postprocess["return_plan_object"] = return_plan_object
        if dataset_attributes is not None:
            preprocess["dataset_attributes"] = dataset_attributes
        if num_beams is not None:
            forward["num_beams"] = num_beams
        if max_new_tokens is not None:
            forward["max_new_tokens"] = max_new_tokens
        return preprocess, forward, postprocess

    def preprocess(self, inputs, dataset_attributes=""):
        if isinstance(inputs, dict):
            requirement = inputs.get("user_requirement", inputs.get(REQUIREMENT_LABEL))
            attributes = inputs.get("dataset_attributes", inputs.get(ATTRIBUTES_LABEL, dataset_attributes))
        else:
            requirement, attributes = inputs, dataset_attributes
        prompt = model_prompt(format_plan_prompt(requirement, attributes if attributes is not None else ""))
        encoded = self.tokenizer(prompt, return_tensors="pt", truncation=True,
                                 max_length=self._prompt_budget())
        return encoded

    def _prompt_budget(self) -> int:
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", 1024)
        return max(32, limit - DEFAULT_MAX_NEW_TOKENS // 2)

    def _forward(self, model_inputs, num_beams=1, max_new_tokens=None):
        prompt_length = model_inputs["input_ids"].shape[1]
        limit = getattr(self.model.config, "n_positions", None) or getattr(
            self.model.config, "max_position_embeddings", None)
        budget = max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        if limit:
            budget = max(1, min(budget, limit - prompt_length))
        output = self.model.generate(**model_inputs, max_new_tokens=budget, num_beams=num_beams, do_sample=False,
                                     pad_token_id=self.tokenizer.pad_token_id or self.tokenizer.eos_token_id)
        return {"generated": output[0, prompt_length:]}

    def postprocess(self, model_outputs, return_plan_object=False):
        text = self.tokenizer.decode(model_outputs["generated"], skip_special_tokens=True)
        try:
            plan = Plan.from_text(text)
        except PlanParseError as error:
            return {"plan": None, "plan_text": text, "repairs": [], "error": str(error)}
        return {"plan": plan if return_plan_object else plan.to_dict(), "plan_text": text, "repairs": list(plan.repairs), "error": None}
