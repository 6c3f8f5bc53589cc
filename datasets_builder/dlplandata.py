"""DLPlanData: requirement -> solution plan pairs for training and testing the plan predictor."""

from __future__ import annotations

import json

import datasets

from dlcodegen.core.plan import PLAN_LABEL as PLAN_KEY, Plan, format_plan_prompt

from .common import ATTRIBUTE_FEATURES, ATTRIBUTES_KEY, REQUIREMENT_KEY, ArtifactConfig, locate, read_text, requirement_fields
from .raw import RawDataError, RawRecord, read_records
from .source import EXPECTED_COUNTS, PLANDATA_SPLITS

REQUIRED_KEYS = (REQUIREMENT_KEY, ATTRIBUTES_KEY, PLAN_KEY)

FEATURES = datasets.Features({
    "id": datasets.Value("int32"),
    "user_requirement": datasets.Value("string"),
    **ATTRIBUTE_FEATURES,
    "prompt_text": datasets.Value("string"),
    "plan_text": datasets.Value("string"),
    "task_category": datasets.Value("string"),
    "input": datasets.Value("string"),
    "output": datasets.Value("string"),
    "preprocess": datasets.Value("string"),
    "layers": datasets.List(datasets.Value("string")),
    "optimizer": datasets.Value("string"),
    "loss_function": datasets.Value("string"),
    "learning_rate": datasets.Value("float64"),
    "batch_size": datasets.Value("int32"),
    "epochs": datasets.Value("int32"),
    "evaluation_metric": datasets.Value("string"),
    "extra_fields": datasets.Value("string"),
})


def original_plan_text(record: RawRecord) -> str:
    """The `Code Plan` value exactly as written in the raw line (re-encoded only for non-JSON lines)."""
    if record.syntax == "json":
        marker = record.text.find(f'"{PLAN_KEY}"')
        start = record.text.index(":", marker) + 1
        while record.text[start].isspace():
            start += 1
        _, end = json.JSONDecoder().raw_decode(record.text, start)
        return record.text[start:end]
    return json.dumps(record.value[PLAN_KEY], ensure_ascii=False)


def plan_row(index: int, record: RawRecord, file: str) -> dict:
    plan_value = record.value[PLAN_KEY]
    if not isinstance(plan_value, dict):
        raise RawDataError(file, record.line, f"{PLAN_KEY!r} must be an object, got {type(plan_value).__name__}")
    base = requirement_fields(record, file)
    extra = {key: value for key, value in record.value.items() if key not in REQUIRED_KEYS}
    plan = Plan.from_dict(plan_value)
    return {
        "id": index,
        **base,
        "prompt_text": format_plan_prompt(record.value[REQUIREMENT_KEY], record.value[ATTRIBUTES_KEY]),
        "plan_text": original_plan_text(record),
        **plan.field_values(),
        "extra_fields": json.dumps(extra, ensure_ascii=False) if extra else None,
    }


def read_plandata(path: str, split: str) -> list[dict]:
    records = read_records(read_text(path), path, EXPECTED_COUNTS[PLANDATA_SPLITS[split]], REQUIRED_KEYS)
    return [plan_row(index, record, path) for index, record in enumerate(records)]


class DLPlanData(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = ArtifactConfig
    BUILDER_CONFIGS = [ArtifactConfig(name="default", description="DLPlanData train/validation/test.")]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description="DLPlanData (DLCodeGen paper)", features=FEATURES)

    def _split_generators(self, dl_manager):
        paths = locate(self.config, dl_manager, PLANDATA_SPLITS)
        return [datasets.SplitGenerator(name=split, gen_kwargs={"path": paths[split], "split": split})
                for split in PLANDATA_SPLITS]

    def _generate_examples(self, path: str, split: str):
        for row in read_plandata(path, split):
            yield row["id"], row
