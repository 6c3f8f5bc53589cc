"""DLCodeEval: 100 deep learning requirements, the first 46 with their reference notebook."""

from __future__ import annotations

import datasets

from .common import ATTRIBUTE_FEATURES, ATTRIBUTES_KEY, REQUIREMENT_KEY, ArtifactConfig, locate, read_text, requirement_fields
from .raw import read_records, split_code_blocks
from .source import CODEEVAL_CODE, CODEEVAL_REQUIREMENTS, EXPECTED_COUNTS

REQUIRED_KEYS = (REQUIREMENT_KEY, ATTRIBUTES_KEY)

_BASE_FEATURES = {
    "id": datasets.Value("int32"),
    "user_requirement": datasets.Value("string"),
    **ATTRIBUTE_FEATURES,
    "prompt_text": datasets.Value("string"),
}


def read_codeeval(requirements_path: str, code_path: str | None = None) -> list[dict]:
    """All requirement rows; with `code_path`, the rows that have reference code, with `reference_code`."""
    records = read_records(read_text(requirements_path), requirements_path,
                           EXPECTED_COUNTS[CODEEVAL_REQUIREMENTS], REQUIRED_KEYS)
    rows = [{"id": index, **requirement_fields(record, requirements_path), "prompt_text": record.text.strip()}
            for index, record in enumerate(records)]
    if code_path is None:
        return rows
    blocks = split_code_blocks(read_text(code_path), code_path, EXPECTED_COUNTS[CODEEVAL_CODE])
    return [{**row, "reference_code": block.text} for row, block in zip(rows, blocks)]


class DLCodeEval(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = ArtifactConfig
    BUILDER_CONFIGS = [
        ArtifactConfig(name="default", description="The 46 requirements that have a reference notebook."),
        ArtifactConfig(name="requirements", description="All 100 requirements of DLCodeEval."),
    ]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        if self.config.name == "default":
            features = {**_BASE_FEATURES, "reference_code": datasets.Value("string")}
        else:
            features = {**_BASE_FEATURES, "has_reference_code": datasets.Value("bool")}
        return datasets.DatasetInfo(description="DLCodeEval (DLCodeGen paper)", features=datasets.Features(features))

    def _split_generators(self, dl_manager):
        paths = locate(self.config, dl_manager, {"requirements": CODEEVAL_REQUIREMENTS, "code": CODEEVAL_CODE})
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs=paths)]

    def _generate_examples(self, requirements: str, code: str):
        if self.config.name == "default":
            rows = read_codeeval(requirements, code)
        else:
            with_code = EXPECTED_COUNTS[CODEEVAL_CODE]
            rows = [{**row, "has_reference_code": row["id"] < with_code} for row in read_codeeval(requirements)]
        for row in rows:
            yield row["id"], row
