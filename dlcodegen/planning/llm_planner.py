"""A few-shot LLM planner (the paper's RQ3 baselines: GPT-3.5 / GPT-4o-mini with 3 and 5 shots).

The prompt shows the k nearest DLPlanData-train items of the task's family (requirement, attributes, plan in
DLPlanData's keys), the families to choose from, the facts the task reader found in the words, and the item. The
LLM answers with the plan as JSON plus a "Task Family" key. Where the rules named the family, they win; where only
the task classifier guessed it, the LLM's family is taken. The plan is then kept true to the task like every
planner's (`true_to_task`).

The prompts are Jinja templates kept here: the planning stage may not import the generator's prompt package.
"""

from __future__ import annotations

import json
import logging
import os
import re
from functools import lru_cache
from typing import Iterable, Sequence

import jinja2

from dlcodegen.core.errors import InputError
from dlcodegen.core.items import Attributes, attributes_text
from dlcodegen.core.plan import ATTRIBUTES_LABEL, REQUIREMENT_LABEL, Plan, PlanParseError, check_requirement
from dlcodegen.core.plan import parse_json_object
from dlcodegen.core.protocols import ChatModel, Message, PlanPrediction
from dlcodegen.core.task import FAMILIES, Fact, TaskSpec, family_of_category
from dlcodegen.core.text import one_line
from dlcodegen.planning.planners import RetrievalPlanner, true_to_task
from dlcodegen.planning.task_reader import CLASSIFIER_SOURCE, read_task, read_task_as

logger = logging.getLogger(__name__)

FAMILY_KEY = "Task Family"  # the extra top-level key of the answer: one of FAMILIES' keys
LLM_FAMILY_SOURCE = "the LLM's answer, the rules left it open"
_ERROR_CHARS = 200

SYSTEM_TEMPLATE = """\
You are an expert deep learning engineer. Given a user requirement and its dataset's attributes, you predict the \
solution plan of a TensorFlow/Keras deep learning project: the task category, the input and output data, the \
preprocessing, the model layers and the hyperparameters. Answer with one JSON object only.
"""

USER_TEMPLATE = """\
{% if examples %}
Here are {{ examples | length }} requirements of the same kind and their solution plans.

{% for example in examples %}
Example {{ loop.index }}
{{ requirement_label }}: {{ example.requirement }}
{% if example.attributes %}
{{ attributes_label }}: {{ example.attributes }}
{% endif %}
Solution plan:
{{ example.plan_json }}

{% endfor %}
{% endif %}
Task families ("{{ family_key }}" must be one of these keys):
{% for family in families %}
- {{ family.name }}: {{ family.title }} ({{ family.input }} -> {{ family.output }})
{% endfor %}

Facts read from the requirement's own words (keep the plan true to them):
{% for line in facts %}
- {{ line }}
{% endfor %}
{% if family_open %}
The task family above is only a classifier's guess: if the requirement says otherwise, answer the right family.
{% endif %}

Now the requirement to plan for.
{{ requirement_label }}: {{ requirement }}
{% if attributes %}
{{ attributes_label }}: {{ attributes }}
{% endif %}

Answer with the solution plan as one JSON object with the examples' keys ("Task Category", "Dataset" with \
"Input" and "Output", "Preprocess", "Model Architecture" with "Layers" and "Hyperparameters"), plus the top-level \
key "{{ family_key }}" naming the task family. No text outside the JSON.
"""


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=False, autoescape=False)


def render(template: str, /, **variables) -> str:
    return _environment().from_string(template).render(**variables).strip() + "\n"


def example_plan_json(plan: Plan, family: str | None) -> str:
    """A train plan in DLPlanData's keys (`Plan.to_json`), with its family as the answer's extra key."""
    if family is None:
        return plan.to_json()
    data = plan.to_dict()
    category = data.pop("Task Category")
    return json.dumps({"Task Category": category, FAMILY_KEY: family, **data}, ensure_ascii=False)


def family_answer(value: object) -> str | None:
    """The family an answer names: a FAMILIES key (any case or spacing) or a family title / category spelling."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
    if key in FAMILIES:
        return key
    family = family_of_category(value)
    return family.name if family else None


class LLMPlanner:
    """Few-shot plans from a chat model; examples are the retrieval planner's neighbours in the task's family."""

    name = "llm"

    def __init__(self, client: ChatModel, retrieval: RetrievalPlanner, shots: int = 5, *,
                 rows: Sequence[dict] | None = None, data_path: str | os.PathLike | None = None):
        """`rows`: the DLPlanData-train rows behind `retrieval` (requirement and attributes of each example);
        None loads them from the built datasets at `data_path`."""
        if isinstance(shots, bool) or not isinstance(shots, int) or shots < 0:
            raise InputError(f"shots must be a whole number of examples (0 or more), got {shots!r}")
        self.client, self.retrieval, self.shots = client, retrieval, shots
        self.examples = _examples(rows if rows is not None else _train_rows(data_path))
        if len(self.examples) != len(retrieval.plans):
            raise InputError(f"the LLM planner got {len(self.examples)} training rows for the retrieval planner's "
                             f"{len(retrieval.plans)} plans: build both from the same DLPlanData-train")

    def messages(self, requirement: str, attributes: Attributes, spec: TaskSpec) -> list[Message]:
        """The chat for one item: the system line, then the examples, families, facts and item."""
        shown = []
        if self.shots:
            for index, _ in self.retrieval.neighbours(requirement, attributes, family=spec.task.value)[: self.shots]:
                example_requirement, example_attributes = self.examples[index]
                shown.append({"requirement": example_requirement, "attributes": example_attributes,
                              "plan_json": example_plan_json(self.retrieval.plans[index],
                                                             self.retrieval.families[index])})
        user = render(USER_TEMPLATE, examples=shown, families=list(FAMILIES.values()), facts=spec.lines(),
                      family_open=spec.task.source == CLASSIFIER_SOURCE, family_key=FAMILY_KEY,
                      requirement=requirement, attributes=attributes_text(attributes),
                      requirement_label=REQUIREMENT_LABEL, attributes_label=ATTRIBUTES_LABEL)
        return [{"role": "system", "content": render(SYSTEM_TEMPLATE)}, {"role": "user", "content": user}]

    def predict(self, requirement: str, attributes: Attributes = "") -> PlanPrediction:
        """The LLM's plan, true to the task. An answer that holds no plan gives `plan=None` and a one-line error;
        a failed request raises the client's error (an LLMError, one line)."""
        check_requirement(requirement)
        spec = read_task(requirement, attributes)
        text = self.client.complete(self.messages(requirement, attributes, spec)).text
        try:
            plan = Plan.from_text(text)
        except PlanParseError as error:
            logger.info("the LLM's answer holds no plan: %s", error)
            return PlanPrediction(None, text, [], error=one_line(f"the LLM's answer holds no plan: {error}",
                                                                 _ERROR_CHARS), task=spec)
        spec, notes = self._settle_family(requirement, attributes, spec, _answered_family(text, plan))
        return true_to_task(PlanPrediction(plan, text, [*plan.repairs, *notes], task=spec), spec)

    def predict_batch(self, items: Iterable[tuple[str, Attributes]]) -> list[PlanPrediction]:
        return [self.predict(requirement, attributes) for requirement, attributes in items]

    @staticmethod
    def _settle_family(requirement: str, attributes: Attributes, spec: TaskSpec,
                       answered: tuple[str | None, str | None]) -> tuple[TaskSpec, list[str]]:
        """The rules' family wins; the classifier's guess gives way to a valid family the LLM names."""
        family, words = answered
        if words is None:
            return spec, []
        if family is None:
            return spec, [f"task family: the LLM's {words!r} is no known family; kept {spec.task.value}"]
        if family == spec.task.value:
            return spec, []
        if spec.task.source != CLASSIFIER_SOURCE:
            return spec, [f"task family: the rules read {spec.task.value} from {spec.task.source!r}; "
                          f"the LLM's {family} was overruled"]
        return (read_task_as(requirement, attributes, Fact(family, LLM_FAMILY_SOURCE)),
                [f"task family: the LLM's {family} replaced the task classifier's guess {spec.task.value}"])


def _answered_family(text: str, plan: Plan) -> tuple[str | None, str | None]:
    """(family key or None, the words it was read from) of the answer: its "Task Family" key, else the family of
    its category; (None, None) when it names neither."""
    try:
        data, _ = parse_json_object(text)
    except PlanParseError:
        data = {}
    for key, value in data.items():
        if re.sub(r"[^a-z]", "", str(key).lower()) == "taskfamily" and value is not None:
            return family_answer(value), one_line(value, 60)
    family = family_answer(plan.task_category)
    return (family, one_line(plan.task_category, 60)) if family else (None, None)


def _examples(rows: Iterable[dict]) -> list[tuple[str, str]]:
    return [(row["user_requirement"], attributes_text(row["dataset_attributes"])) for row in rows]


def _train_rows(data_path: str | os.PathLike | None) -> Sequence[dict]:
    from dlcodegen.data import load_local

    return load_local("dlplandata", split="train", path=data_path).select_columns(
        ["user_requirement", "dataset_attributes"])
