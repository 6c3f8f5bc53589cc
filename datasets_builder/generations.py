"""The paper's released generations for DLCodeEval (Table II): 5 methods x 2 backbones x 46 items."""

from __future__ import annotations

import datasets

from .common import ArtifactConfig, locate, read_text
from .raw import split_generations
from .source import GENERATION_BACKBONES, GENERATION_METHODS, GENERATIONS_PER_FILE, generation_path

FEATURES = datasets.Features({
    "id": datasets.Value("int32"),
    "method": datasets.Value("string"),
    "backbone": datasets.Value("string"),
    "generation": datasets.Value("string"),
})


def generation_files() -> dict[str, str]:
    return {f"{backbone}|{method}": generation_path(backbone, method)
            for backbone in GENERATION_BACKBONES for method in GENERATION_METHODS}


def read_generations(paths: dict[str, str]) -> list[dict]:
    rows = []
    for key, path in paths.items():
        backbone, method = key.split("|")
        for index, block in enumerate(split_generations(read_text(path), path, GENERATIONS_PER_FILE)):
            rows.append({"id": index, "method": method, "backbone": backbone, "generation": block.text})
    return rows


class DLCodeEvalGenerations(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = ArtifactConfig
    BUILDER_CONFIGS = [ArtifactConfig(name="default", description="Released generations of Table II.")]
    DEFAULT_CONFIG_NAME = "default"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description="DLCodeEval generations (DLCodeGen paper)", features=FEATURES)

    def _split_generators(self, dl_manager):
        paths = locate(self.config, dl_manager, generation_files())
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"paths": paths})]

    def _generate_examples(self, paths: dict[str, str]):
        for row in read_generations(paths):
            yield f"{row['backbone']}|{row['method']}|{row['id']}", row
