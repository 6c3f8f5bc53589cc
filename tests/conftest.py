"""Shared fixtures: the real artifact from ../shared, and the datasets built from it once per session."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

# Every test runs offline: nothing may reach the Hugging Face Hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")

import pytest

from dlcodegen.datasets_builder.source import resolve_source

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def artifact_dir() -> Path:
    source = resolve_source()
    if source.is_remote:
        pytest.fail("the DLCodeGen artifact is not beside the checkout (../shared/dlcodegen-artifact); "
                    "set DLCODEGEN_ARTIFACT to its folder")
    return Path(source.location)


@pytest.fixture(scope="session")
def built_datasets(tmp_path_factory, artifact_dir) -> Path:
    from dlcodegen.datasets_builder.export import build_all

    out = tmp_path_factory.mktemp("datasets")
    build_all(source=str(artifact_dir), out_dir=out, log=lambda _: None)
    return out


@pytest.fixture
def artifact_copy(tmp_path, artifact_dir) -> Path:
    """A writable copy of the artifact for tests that corrupt one file."""
    copy = tmp_path / "artifact"
    shutil.copytree(artifact_dir, copy)
    return copy


@pytest.fixture(scope="session")
def codeeval(built_datasets):
    import datasets

    return datasets.load_dataset(str(built_datasets / "dlcodeeval"))["test"]


@pytest.fixture(scope="session")
def generations(built_datasets):
    import datasets

    return datasets.load_dataset(str(built_datasets / "dlcodeeval-generations"))["test"]


@pytest.fixture(scope="session")
def plandata(built_datasets):
    import datasets

    return datasets.load_dataset(str(built_datasets / "dlplandata"))


@pytest.fixture(scope="session")
def served_model(tmp_path_factory):
    """(base_url, model_name) of a `transformers serve` pinned to a tiny local model; stopped at teardown."""
    from llm_stub import tiny_chat_model_folder, transformers_serve
    from transformers.utils.import_utils import is_serve_available

    if not is_serve_available():
        pytest.fail("transformers serve needs its extra: pip install 'transformers[serving]'")
    start = time.monotonic()
    folder = tiny_chat_model_folder(tmp_path_factory.mktemp("tiny-chat-model") / "model")
    with transformers_serve(folder, hf_home=tmp_path_factory.mktemp("transformers-serve")) as served:
        print(f"\ntransformers serve ready in {time.monotonic() - start:.1f} s")
        yield served


@pytest.fixture(scope="session")
def seeded_board_template(tmp_path_factory, built_datasets) -> Path:
    """A leaderboard store seeded once per session (the paper's 10 sets + 3 baselines; about 2 minutes).
    Copy it (`seeded_board`) before writing to it."""
    from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig

    directory = tmp_path_factory.mktemp("board-template")
    Leaderboard(LeaderboardConfig(directory=directory, data_path=built_datasets)).seed(progress=False)
    return directory


@pytest.fixture
def seeded_board(tmp_path, seeded_board_template) -> Path:
    """A private, writable copy of the seeded store."""
    copy = tmp_path / "board"
    shutil.copytree(seeded_board_template, copy)
    return copy
