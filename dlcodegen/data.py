"""Local access to the built benchmark datasets, building them from the artifact when they are missing."""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA_DIR_ENV = "DLCODEGEN_DATA"
DEFAULT_DATA_DIR = "build/datasets"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def load_local(name: str, config: str | None = None, split: str | None = None,
               path: str | os.PathLike | None = None, source: str | None = None):
    """`datasets.load_dataset` on the built folder `name`, building the datasets first if it is missing."""
    import datasets

    from dlcodegen.datasets_builder.export import DATASET_NAMES, build_all

    folder = data_dir(path)
    if not (folder / name / "README.md").is_file():
        print(f"{folder / name} is missing: building the datasets from the artifact first", file=sys.stderr)
        build_all(source=source, out_dir=folder, names=DATASET_NAMES, log=lambda line: print(line, file=sys.stderr))
    loaded = datasets.load_dataset(str(folder / name), config) if config else datasets.load_dataset(str(folder / name))
    return loaded[split] if split else loaded
