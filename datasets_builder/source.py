"""Where the raw DLCodeGen artifact is read from: a local folder or the upstream raw URLs at a pinned commit."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

UPSTREAM_REPO = "MingshengJiao/DLCodeGen"
UPSTREAM_COMMIT = "5f9dd890b6c2200ab22a4f608a00c830b1067eb9"
UPSTREAM_BASE_URL = f"https://raw.githubusercontent.com/{UPSTREAM_REPO}/{UPSTREAM_COMMIT}/"
SOURCE_ENV = "DLCODEGEN_ARTIFACT"

CODEEVAL_REQUIREMENTS = "Datasets/DLCodeEval/Test.txt"
CODEEVAL_CODE = "Datasets/DLCodeEval/Test_Code.txt"
SAMPLE_POOL = "Datasets/DLSamplePool/Samples.txt"
PLANDATA_SPLITS = {
    "train": "Datasets/DLPlanData/Train.txt",
    "validation": "Datasets/DLPlanData/Evaluation.txt",
    "test": "Datasets/DLPlanData/Test.txt",
}
GENERATION_BACKBONES = {"DeepSeek-V2.5": ("Results/RQ1/DeepSeek-V2.5", "deepseekcoder"),
                        "GPT-4o-mini": ("Results/RQ2/GPT-4o-mini", "gpt-4o-mini")}
GENERATION_METHODS = ("Direct", "PS", "C-CoT", "CEDAR", "DLCodeGen")

# Record counts of the pinned commit; a mismatch means a truncated or foreign file.
EXPECTED_COUNTS = {
    CODEEVAL_REQUIREMENTS: 100,
    CODEEVAL_CODE: 46,
    SAMPLE_POOL: 46,
    PLANDATA_SPLITS["train"]: 3299,
    PLANDATA_SPLITS["validation"]: 100,
    PLANDATA_SPLITS["test"]: 400,
}
GENERATIONS_PER_FILE = 46


def generation_path(backbone: str, method: str) -> str:
    folder, prefix = GENERATION_BACKBONES[backbone]
    return f"{folder}/{prefix}_{method}.txt"


@dataclass(frozen=True)
class ArtifactSource:
    """A resolved artifact location: `location` is a folder path or a base URL ending in '/'."""

    location: str

    @property
    def is_remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def path_or_url(self, relpath: str) -> str:
        if self.is_remote:
            return self.location + relpath
        return str(Path(self.location) / relpath)

    def describe(self) -> str:
        return f"upstream {UPSTREAM_REPO}@{UPSTREAM_COMMIT[:12]}" if self.location == UPSTREAM_BASE_URL \
            else self.location


def _candidate_dirs() -> list[Path]:
    repo_root = Path(__file__).resolve().parent.parent
    return [Path.cwd().parent / "shared" / "dlcodegen-artifact", repo_root.parent / "shared" / "dlcodegen-artifact"]


def resolve_source(source: str | os.PathLike | None = None) -> ArtifactSource:
    """`source` (folder or URL), else $DLCODEGEN_ARTIFACT, else ../shared/dlcodegen-artifact, else upstream URLs."""
    chosen = source if source is not None else os.environ.get(SOURCE_ENV)
    if chosen is None:
        for candidate in _candidate_dirs():
            if (candidate / CODEEVAL_REQUIREMENTS).is_file():
                return ArtifactSource(str(candidate.resolve()))
        return ArtifactSource(UPSTREAM_BASE_URL)
    chosen = str(chosen)
    if chosen.startswith(("http://", "https://")):
        return ArtifactSource(chosen if chosen.endswith("/") else chosen + "/")
    folder = Path(chosen).expanduser()
    if not (folder / CODEEVAL_REQUIREMENTS).is_file():
        raise FileNotFoundError(f"{folder} is not a DLCodeGen artifact folder: {CODEEVAL_REQUIREMENTS} is missing "
                                "(pass --source with the folder that holds Datasets/ and Results/, or a URL)")
    return ArtifactSource(str(folder.resolve()))
