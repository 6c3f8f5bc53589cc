"""The paper's released RQ3 plan predictions, read from the artifact and scored with the package's plan metrics."""

import json

import pytest

from dlcodegen.cli import main as cli_main
from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.metrics.plan_metrics import compute_plan_metrics
from dlcodegen.metrics.released_plans import (TEST_ITEMS, column_title, plan_text, read_released, released_names,
                                              score_released, select_names)

BEAM = "GPT-2-Large_Beam"
# The issue's figures for the beam set under this module (2 decimals; batch size and epochs given to 1).
BEAM_SCORES = {"input_bleu": 16.32, "output_bleu": 11.28, "category_em": 86.5, "loss_function_em": 39.45,
               "optimizer_em": 52.26, "metric_em": 49.5, "layers_mld": 27.96}
BEAM_SCORES_1_DECIMAL = {"batch_size_mae": 102.3, "epochs_mae": 77.9}


@pytest.fixture(scope="module")
def test_rows(plandata):
    return plandata["test"]


@pytest.fixture(scope="module")
def beam(artifact_dir, test_rows):
    return read_released(BEAM, artifact_dir, test_rows["user_requirement"])


def test_the_six_released_sets_are_listed(artifact_dir):
    assert released_names(artifact_dir) == ["GPT-2-Large_Beam", "GPT-2-Large_Greedy", "GPT-3.5-Turbo-0125_3-Shot",
                                            "GPT-3.5-Turbo-0125_5-Shot", "GPT-4o-mini_3-Shot", "GPT-4o-mini_5-Shot"]
    assert select_names(["all", BEAM], artifact_dir) == released_names(artifact_dir)
    with pytest.raises(MissingError, match="GPT-2-Large_Greedy"):
        select_names(["GPT-5"], artifact_dir)


def test_reading_a_set_aligns_400_lines(beam):
    assert len(beam.plan_texts) == TEST_ITEMS == 400
    # GPT-2's decoding dropped a space before a quote in two requirements ("and'stego'"); otherwise identical.
    assert (beam.requirements_read, beam.identical, beam.identical_ignoring_spaces) == (400, 398, 400)
    assert all(text.lstrip().startswith("{") for text in beam.plan_texts)
    assert "398/400" in beam.describe()


def test_beam_set_scores_the_issue_figures(beam, test_rows):
    scores = score_released(beam, test_rows)
    assert {key: round(scores[key], 2) for key in BEAM_SCORES} == BEAM_SCORES
    assert {key: round(scores[key], 1) for key in BEAM_SCORES_1_DECIMAL} == BEAM_SCORES_1_DECIMAL
    assert scores["unparseable"] == 0 and scores["count"] == 400


def test_plan_text_is_the_plan_without_the_record_brace():
    line = '{"User Requirement": "r", "Dataset Attributes": "a", "Code Plan": {"Task Category": "Image Cl}}}'
    assert plan_text(line) == '{"Task Category": "Image Cl}}'
    assert plan_text('{"User Requirement": "r", "Dataset Attributes": "a"}') == ""
    # No plan on the line: unparseable, as a planner's unreadable output is.
    reference = '{"Task Category": "Image Classification"}'
    scores = compute_plan_metrics([plan_text('{"User Requirement": "r"}'), plan_text(line)], [reference] * 2)
    assert scores["unparseable"] == 1


def _fake_artifact(tmp_path, lines):
    (tmp_path / "Datasets" / "DLCodeEval").mkdir(parents=True)
    (tmp_path / "Datasets" / "DLCodeEval" / "Test.txt").write_text("", encoding="utf-8")
    results = tmp_path / "Results" / "RQ3" / "results"
    results.mkdir(parents=True)
    (results / "Fake.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return tmp_path


def _line(requirement):
    return json.dumps({"User Requirement": requirement, "Dataset Attributes": "", "Code Plan": {}})


def test_a_short_or_reordered_file_is_refused(tmp_path):
    requirements = [f"requirement {index}" for index in range(TEST_ITEMS)]
    with pytest.raises(InputError, match="holds 399 lines, not 400"):
        read_released("Fake", _fake_artifact(tmp_path / "short", [_line(r) for r in requirements[:-1]]),
                      requirements)
    swapped = [_line(r) for r in requirements]
    swapped[3], swapped[4] = swapped[4], swapped[3]
    with pytest.raises(InputError, match="line 4 carries the requirement of another item"):
        read_released("Fake", _fake_artifact(tmp_path / "swapped", swapped), requirements)


def test_cli_prints_the_released_column_beside_table_iv(built_datasets, capsys):
    assert cli_main(["plan", "eval", "--split", "test", "--released", BEAM, "--data", str(built_datasets)]) == 0
    report = capsys.readouterr().out
    # Only the released set (no --planner), with the printed Table IV column kept.
    assert f"| metric | {column_title(BEAM)} | paper GPT-2-large (beam) | {column_title(BEAM)} - paper |" in report
    assert "| Input BLEU | 16.32 | 26.90 |" in report and "| Layers MLD (lower better) | 27.96 | 28.39 |" in report
    assert "400 lines aligned" in report


def test_cli_scores_planners_beside_released_sets(built_datasets, capsys):
    assert cli_main(["plan", "eval", "--split", "test", "--limit", "10", "--planner", "retrieval", "--released",
                     BEAM, "--data", str(built_datasets)]) == 0
    report = capsys.readouterr().out
    assert f"| metric | retrieval | {column_title(BEAM)} |" in report and "| Items | 10 | 10 |" in report


def _one_line_error(capsys, argv) -> str:
    assert cli_main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlcodegen: error: ") and captured.out == ""
    return lines[0]


def test_cli_refuses_another_split(capsys):
    assert "use --split test" in _one_line_error(capsys, ["plan", "eval", "--split", "validation", "--released",
                                                          BEAM])


def test_cli_missing_artifact_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DLCODEGEN_ARTIFACT", str(tmp_path))
    assert "is not a DLCodeGen artifact folder" in _one_line_error(capsys, ["plan", "eval", "--split", "test",
                                                                             "--released", BEAM])
    monkeypatch.setenv("DLCODEGEN_ARTIFACT", "https://example.invalid/artifact")
    assert "no local DLCodeGen artifact folder" in _one_line_error(capsys, ["plan", "eval", "--split", "test",
                                                                           "--released", "all"])
    bare = tmp_path / "bare"
    (bare / "Datasets" / "DLCodeEval").mkdir(parents=True)
    (bare / "Datasets" / "DLCodeEval" / "Test.txt").write_text("", encoding="utf-8")
    assert "Results/RQ3/results is missing" in _one_line_error(capsys, ["plan", "eval", "--split", "test",
                                                                         "--released", BEAM, "--source", str(bare)])
    monkeypatch.delenv("DLCODEGEN_ARTIFACT")
    assert "GPT-5.txt is missing" in _one_line_error(capsys, ["plan", "eval", "--split", "test", "--released",
                                                              "GPT-5"])
