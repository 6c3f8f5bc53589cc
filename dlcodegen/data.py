"""Local access to the built benchmark datasets (their `dataset_attributes` encoding is `dlcodegen.core.items`').

The core never builds the datasets itself (that is `datasets_builder`'s job, reached from the CLI or the Space):
a missing folder is one clear error saying how to build it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from dlcodegen.core.errors import MissingError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "DLCODEGEN_DATA"
DEFAULT_DATA_DIR = "build/datasets"
DATA_HELP = f"folder of built datasets (default: ${DATA_DIR_ENV} or {DEFAULT_DATA_DIR}; built when missing)"


class DatasetsMissing(MissingError):
    """A built dataset folder is not there."""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    return Path(path or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def missing_datasets(names, path: str | os.PathLike | None = None) -> list[str]:
    folder = data_dir(path)
    return [name for name in names if not (folder / name / "README.md").is_file()]


def load_local(name: str, config: str | None = None, split: str | None = None,
               path: str | os.PathLike | None = None):
    """`datasets.load_dataset` on the built folder `name` (one clear error when it has not been built)."""
    import datasets

    folder = data_dir(path)
    logger.debug("loading %s from %s", name, folder)
    if missing_datasets([name], folder):
        raise DatasetsMissing(f"{folder / name} is missing: run `dlcodegen data build --out {folder}` first")
    loaded = datasets.load_dataset(str(folder / name), config) if config else datasets.load_dataset(str(folder / name))
    return loaded[split] if split else loaded
