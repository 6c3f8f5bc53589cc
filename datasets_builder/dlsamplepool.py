"""DLSamplePool: the 46 example notebooks of the paper's Code RAG, each linked to the DLCodeEval item it solves.

Each row also carries the plan its code implements (`plan_text`), read statically from the code by
`dlcodegen.analysis` (never executed), and its `task_category`, predicted from the requirement and
attributes by the default retrieval planner (DLPlanData-train neighbours and the shipped classifiers), the same predictor
that plans Code RAG's queries (the code does not state a category).
"""

from __future__ import annotations

import datasets

from dlcodegen.analysis import plan_from_code
from dlcodegen.planning.classify import load_classifiers
from dlcodegen.planning.planners import RetrievalPlanner

from .common import ATTRIBUTE_FEATURES, ArtifactConfig, locate, read_text
from .dlcodeeval import read_codeeval
from .dlplandata import read_plandata
from .raw import RawDataError, split_code_blocks
from .source import CODEEVAL_CODE, CODEEVAL_REQUIREMENTS, EXPECTED_COUNTS, PLANDATA_SPLITS, SAMPLE_POOL

FEATURES = datasets.Features({
    "id": datasets.Value("int32"),
    "source_id": datasets.Value("int32"),
    "code": datasets.Value("string"),
    "user_requirement": datasets.Value("string"),
    **ATTRIBUTE_FEATURES,
    "task_category": datasets.Value("string"),
    "plan_text": datasets.Value("string"),
})


def read_sample_pool(samples_path: str, requirements_path: str, code_path: str) -> list[dict]:
    """Sample *i* of Samples.txt with `source_id`: the DLCodeEval item whose reference notebook it is."""
    references = read_codeeval(requirements_path, code_path)
    by_code = {row["reference_code"].rstrip("\n"): row for row in references}
    blocks = split_code_blocks(read_text(samples_path), samples_path, EXPECTED_COUNTS[SAMPLE_POOL])
    rows, seen = [], {}
    for index, block in enumerate(blocks):
        source = by_code.get(block.text.rstrip("\n"))
        if source is None:
            raise RawDataError(samples_path, block.line, f"sample {index} is not one of the DLCodeEval reference "
                                                         "notebooks (DLSamplePool must hold the same 46 notebooks)")
        if source["id"] in seen:
            raise RawDataError(samples_path, block.line, f"sample {index} repeats sample {seen[source['id']]}")
        seen[source["id"]] = index
        rows.append({"id": index, "source_id": source["id"], "code": block.text,
                     "user_requirement": source["user_requirement"],
                     "dataset_attributes": source["dataset_attributes"],
                     "dataset_attributes_format": source["dataset_attributes_format"]})
    return rows


def add_plans(rows: list[dict], plandata_train_path: str) -> list[dict]:
    """`task_category` (retrieval planner on DLPlanData-train, from requirement + attributes) and `plan_text`
    (the canonical JSON of the plan extracted statically from the code, with that category)."""
    # the default planner (neighbours + the shipped classifiers), so the pool's categories and Code RAG's queries
    # come from the same predictor
    planner = RetrievalPlanner(read_plandata(plandata_train_path, "train"), classifiers=load_classifiers())
    for row in rows:
        category = planner.predict(row["user_requirement"], row["dataset_attributes"]).plan.task_category
        row["task_category"] = category
        row["plan_text"] = plan_from_code(row["code"], category).to_json()
    return rows


class DLSamplePool(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = ArtifactConfig
    BUILDER_CONFIGS = [ArtifactConfig(name="default", description="The 46 code samples of DLSamplePool.")]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description="DLSamplePool (DLCodeGen paper)", features=FEATURES)

    def _split_generators(self, dl_manager):
        paths = locate(self.config, dl_manager, {"samples_path": SAMPLE_POOL,
                                                 "requirements_path": CODEEVAL_REQUIREMENTS,
                                                 "code_path": CODEEVAL_CODE,
                                                 "plandata_train_path": PLANDATA_SPLITS["train"]})
        return [datasets.SplitGenerator(name=datasets.Split.TRAIN, gen_kwargs=paths)]

    def _generate_examples(self, samples_path: str, requirements_path: str, code_path: str,
                           plandata_train_path: str):
        for row in add_plans(read_sample_pool(samples_path, requirements_path, code_path), plandata_train_path):
            yield row["id"], row
