"""The builders on the real artifact, the Parquet + card round trip through `load_dataset`, and bad input."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import datasets
import pytest
from huggingface_hub import DatasetCard

from dlcodegen.cli import main as cli_main
from dlcodegen.datasets_builder.common import decode_attributes
from dlcodegen.datasets_builder.export import DATASET_NAMES, build_all
from dlcodegen.datasets_builder.source import UPSTREAM_BASE_URL, resolve_source


def _load(folder: Path, config: str | None = None) -> datasets.DatasetDict:
    return datasets.load_dataset(str(folder), config) if config else datasets.load_dataset(str(folder))


def test_dlcodeeval_counts_and_reference_code(built_datasets):
    test = _load(built_datasets / "dlcodeeval")["test"]
    assert len(test) == 46
    assert test["id"] == list(range(46))
    assert all(code.strip() for code in test["reference_code"])
    requirements = _load(built_datasets / "dlcodeeval", "requirements")["test"]
    assert len(requirements) == 100
    assert sum(requirements["has_reference_code"]) == 46


def test_attributes_round_trip_to_the_raw_value(built_datasets, artifact_dir):
    raw = [json.loads(line) for line in (artifact_dir / "Datasets/DLCodeEval/Test.txt").read_text().splitlines()
           if line.strip()]
    rows = _load(built_datasets / "dlcodeeval", "requirements")["test"]
    formats = set()
    for row in rows:
        formats.add(row["dataset_attributes_format"])
        assert decode_attributes(row["dataset_attributes"], row["dataset_attributes_format"]) == \
            raw[row["id"]]["Dataset Attributes"]
        assert json.loads(row["prompt_text"]) == raw[row["id"]]
    assert formats == {"text", "json"}  # both upstream shapes are present and survive


def test_sample_pool_links_each_sample_to_its_reference(built_datasets):
    pool = _load(built_datasets / "dlsamplepool")["train"]
    evaluation = _load(built_datasets / "dlcodeeval")["test"]
    assert len(pool) == 46
    assert sorted(pool["source_id"]) == sorted(evaluation["id"])
    reference = dict(zip(evaluation["id"], evaluation["reference_code"]))
    for row in pool:
        assert row["code"].rstrip("\n") == reference[row["source_id"]].rstrip("\n")
        assert row["source_id"] != row["id"]  # the paper paired each item with another item's notebook


def test_plandata_splits_and_structured_columns(built_datasets, artifact_dir):
    plans = _load(built_datasets / "dlplandata")
    assert {split: len(ds) for split, ds in plans.items()} == {"train": 3299, "validation": 100, "test": 400}
    test = plans["test"]
    raw_lines = (artifact_dir / "Datasets/DLPlanData/Test.txt").read_text().splitlines()
    first = test[0]
    raw = json.loads(raw_lines[0])
    assert json.loads(first["plan_text"]) == raw["Code Plan"]
    assert first["plan_text"] in raw_lines[0]  # the original text, not a re-encoding
    assert first["task_category"] == raw["Code Plan"]["Task Category"]
    assert isinstance(first["layers"], list) and all(isinstance(layer, str) for layer in first["layers"])
    assert test.features["learning_rate"].dtype == "float64"
    assert test.features["batch_size"].dtype == "int32"
    # both schema spellings are read into the same columns
    lower = [row for row in test if '"Hypermeters"' in row["plan_text"]]
    upper = [row for row in test if '"Hyperparameters"' in row["plan_text"]]
    assert lower and upper
    assert all(row["optimizer"] for row in lower[:20]) and all(row["optimizer"] for row in upper[:20])


def test_plandata_card_states_each_splits_style(built_datasets):
    card = (built_datasets / "dlplandata" / "README.md").read_text()
    assert "The splits do not share one style" in card
    assert "validation 0.0 / 0.0 / 0.0;" in card and "test 50.0 / 45.0 / 45.0." in card


def test_plandata_prompt_matches_the_artifacts_chat_prompts(built_datasets, artifact_dir):
    chat = (artifact_dir / "Datasets/DLPlanData/Test4Chat.txt").read_text().splitlines()
    prompts = _load(built_datasets / "dlplandata")["test"]["prompt_text"]
    matches = sum(prompt == line for prompt, line in zip(prompts, chat))
    assert matches >= 398


def test_generations(built_datasets):
    gens = _load(built_datasets / "dlcodeeval-generations")["test"]
    assert len(gens) == 460
    pairs = {(row["backbone"], row["method"]) for row in gens}
    assert len(pairs) == 10
    assert {method for _, method in pairs} == {"Direct", "PS", "C-CoT", "CEDAR", "DLCodeGen"}
    assert all(text.strip() for text in gens["generation"])


@pytest.mark.parametrize("name", DATASET_NAMES)
def test_cards_have_valid_hub_metadata(built_datasets, name):
    folder = built_datasets / name
    card = DatasetCard.load(folder / "README.md")
    metadata = card.data.to_dict()
    assert metadata["license"] == "unknown" and metadata["language"] == ["en"]
    configs = datasets.utils.metadata.MetadataConfigs.from_dataset_card_data(card.data)
    assert configs.get_default_config_name() == "default"
    for config in configs.values():
        for data_file in config["data_files"]:
            assert (folder / data_file["path"]).is_file()
    infos = datasets.info.DatasetInfosDict.from_dataset_card_data(card.data)
    for config_name, info in infos.items():
        loaded = _load(folder, config_name)
        for split, ds in loaded.items():
            assert info.splits[split].num_examples == len(ds)
            assert info.features == ds.features
    for section in ("## Provenance", "## License", "## Citation", "Known quirks", "@misc{"):
        assert section in card.text
    assert "5f9dd890b6c2200ab22a4f608a00c830b1067eb9" in card.text


def test_build_stops_on_a_malformed_line(artifact_copy, tmp_path, capsys):
    path = artifact_copy / "Datasets/DLPlanData/Evaluation.txt"
    lines = path.read_text().split("\n")
    lines[6] = lines[6].replace(", \"Dataset Attributes\"", ", Dataset Attributes\"", 1)
    path.write_text("\n".join(lines))
    code = cli_main(["data", "build", "--source", str(artifact_copy), "--out", str(tmp_path / "out"),
                     "--only", "dlplandata"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{path}:7: not JSON" in err
    assert "Traceback" not in err


def test_build_stops_on_a_truncated_file(artifact_copy, tmp_path, capsys):
    path = artifact_copy / "Datasets/DLCodeEval/Test_Code.txt"
    text = path.read_text()
    path.write_text(text[: len(text) // 2])
    code = cli_main(["data", "build", "--source", str(artifact_copy), "--out", str(tmp_path / "out"),
                     "--only", "dlcodeeval"])
    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and "separator" in err and "expected 45 (46 blocks)" in err


def test_build_stops_on_a_truncated_generation_file(artifact_copy, tmp_path, capsys):
    path = artifact_copy / "Results/RQ1/DeepSeek-V2.5/deepseekcoder_PS.txt"
    text = path.read_text()
    path.write_text(text[: len(text) - 3000])
    code = cli_main(["data", "build", "--source", str(artifact_copy), "--out", str(tmp_path / "out"),
                     "--only", "dlcodeeval-generations"])
    assert code == 2
    assert "file is truncated: text after the last terminator line" in capsys.readouterr().err


def test_source_resolution(tmp_path, artifact_dir, monkeypatch):
    monkeypatch.delenv("DLCODEGEN_ARTIFACT", raising=False)
    assert resolve_source().location == str(artifact_dir)
    with pytest.raises(FileNotFoundError, match="is not a DLCodeGen artifact folder"):
        resolve_source(tmp_path)
    assert resolve_source("https://example.org/base").location == "https://example.org/base/"
    monkeypatch.chdir(tmp_path)  # no ../shared from here, and none beside an installed package
    monkeypatch.setattr("dlcodegen.datasets_builder.source._candidate_dirs", lambda: [tmp_path / "nothing"])
    assert resolve_source().location == UPSTREAM_BASE_URL


def test_build_from_a_url_downloads_through_the_builder(artifact_dir, tmp_path, monkeypatch):
    """The URL path is real: a loopback HTTP server stands in for raw.githubusercontent.com."""
    import huggingface_hub.constants

    # The suite runs with HF offline mode on; this test reaches only its own loopback server.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False, raising=False)
    handler = partial(SimpleHTTPRequestHandler, directory=str(artifact_dir))
    handler.log_message = lambda *args: None
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        counts = build_all(source=url, out_dir=tmp_path, names=("dlcodeeval",), log=lambda _: None)
    finally:
        server.shutdown()
    assert counts == {"dlcodeeval": {"default": {"test": 46}, "requirements": {"test": 100}}}
    assert len(_load(tmp_path / "dlcodeeval")["test"]) == 46


def test_push_without_a_token_says_how_to_log_in(built_datasets, monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    code = cli_main(["data", "push", "--namespace", "someone", "--out", str(built_datasets)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.count("\n") == 0 and "hf auth login" in err and "HF_TOKEN" in err


def test_push_failure_never_shows_the_token(built_datasets, monkeypatch, tmp_path, capsys):
    secret = "hf_" + "S3cr3tT0kenValue" * 2
    monkeypatch.setenv("HF_TOKEN", secret)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens: the upload fails
    import huggingface_hub.constants as constants
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    code = cli_main(["data", "push", "--namespace", "someone", "--out", str(built_datasets)])
    captured = capsys.readouterr()
    assert code == 2
    assert "could not push" in captured.err
    assert secret not in captured.err + captured.out
