"""The Space's streaming view of a run (dlcodegen/generator/view.py) and its Gradio handlers (space/handlers.py),
called directly, and once through a real launched app and gradio_client."""

from __future__ import annotations

import ast
import json
import socket
import sys
import time
from pathlib import Path

import pytest
from fake_llm import FakeChatClient
from leaderboard_helpers import write_unversioned_line

from dlcodegen.core.events import RunFinished, StageDelta, StageStarted
from dlcodegen.core.items import Sample
from dlcodegen.generator.run import Generator, GeneratorConfig
from dlcodegen.generator.view import (DONE, ERROR, NO_TASK_READ, SKIPPED, adherence_rows, plan_rows,
                                      retrieved_rows, stream_views, task_lines)
from dlcodegen.core.protocols import Completion
from dlcodegen.llm import LLMConfig
from dlcodegen.core.plan import Plan
from dlcodegen.core.protocols import PlanPrediction

SPACE_DIR = Path(__file__).resolve().parent.parent / "space"
sys.path.insert(0, str(SPACE_DIR))

import handlers  # noqa: E402
import text  # noqa: E402
from dlcodegen.leaderboard.submission import escape_markdown  # noqa: E402
from settings import SpaceSettings  # noqa: E402

REQUIREMENT = "Classify chest X-ray images as pneumonia or normal with a CNN."
ATTRIBUTES = "5,863 grayscale JPEG images in train/val/test folders, two classes."
TRAFFIC_SIGNS = "Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN."
CODE_STAGES = ("plan", "retrieve", "template", "code1", "code2", "final")


# ------------------------------------------------------------------------------------------- fakes for the view

def _plan(index: int) -> Plan:
    return Plan(task_category="Image Classification", input=f"images {index}", output="two classes",
                layers=["Conv2D(32, (3, 3), activation='relu')", "Flatten()", "Dense(1, activation='sigmoid')"],
                optimizer="adam", loss_function="binary_crossentropy", learning_rate=0.001, batch_size=32,
                epochs=10, evaluation_metric="accuracy")


POOL = [Sample(key=f"dlsamplepool/{i}", code=f"import tensorflow as tf\nmodel_{i} = {i}\n",
               requirement=f"Requirement {i}: classify images of kind {i}.", plan=_plan(i), source_id=i)
        for i in range(4)]


class FakePlanner:
    name = "fake"

    def predict(self, requirement_text, attributes=""):
        plan = _plan(0)
        return PlanPrediction(plan, plan.to_json())


class SlowStreamClient:
    """Streams a fenced answer in `chunks` deltas, `pause` seconds apart (a real LLM's pace)."""

    def __init__(self, chunks: int = 30, pause: float = 0.01):
        self.chunks, self.pause = chunks, pause

    def complete(self, messages, *, on_token=None, **overrides) -> Completion:
        body = "".join(f"x_{n} = {n}\n" for n in range(self.chunks))
        text = f"```python\n{body}```"
        pieces = [text[i:i + len(text) // self.chunks + 1] for i in range(0, len(text), len(text) // self.chunks + 1)]
        for piece in pieces:
            time.sleep(self.pause)
            if on_token:
                on_token(piece)
        return Completion(text=text, usage={"prompt_tokens": 10, "completion_tokens": 5}, cached=False, elapsed=0.0)


def fake_generator(method: str, client=None) -> Generator:
    return Generator(FakePlanner(), POOL, client, GeneratorConfig(method=method))


def first_view(views, stage: str, state: str) -> int:
    return next(i for i, view in enumerate(views) if view.state(stage) == state)


# ------------------------------------------------------------------------------------------------------- the view

def test_dlcodegen_run_shows_every_stage_in_order():
    views = list(stream_views(fake_generator("dlcodegen", FakeChatClient()), REQUIREMENT, ATTRIBUTES))
    last = views[-1]
    assert last.phase == "finished" and last.result is not None
    assert all(last.state(stage) == DONE for stage in CODE_STAGES)
    assert last.state("chain") == SKIPPED and last.notes["chain"] == "not part of the dlcodegen method"
    done_at = {stage: first_view(views, stage, DONE) for stage in CODE_STAGES}
    assert done_at["plan"] < done_at["retrieve"] < min(done_at["code1"], done_at["template"])
    assert done_at["template"] < done_at["code2"] < done_at["final"] and done_at["code1"] < done_at["final"]
    assert last.text("final") == last.result.code and last.plan == _plan(0) and len(last.retrieved) == 4
    assert "4 LLM call(s)" in last.status and "Final project" in last.status
    assert set(last.adherence) >= {"layers", "overall"}
    assert views[0] is not views[1] and views[0].states != last.states  # snapshots, not one mutated object


def test_streamed_text_refreshes_the_view_at_most_about_8_times_a_second():
    received = []
    for view in stream_views(fake_generator("direct", SlowStreamClient(chunks=60, pause=0.01)), REQUIREMENT):
        received.append((time.monotonic(), view))
    deltas = [(at, view) for at, view in received if isinstance(view.last_event, StageDelta)]
    streaming = received[-1][0] - received[0][0]  # 60 deltas over at least 0.6 s
    assert 2 <= len(deltas) <= streaming * 8 + 1
    gaps = [later[0] - earlier[0] for earlier, later in zip(deltas, deltas[1:])]
    assert min(gaps) >= 0.1
    assert 0 < len(deltas[-1][1].text("final")) < len(received[-1][1].text("final")) + 20
    kinds = [type(view.last_event) for _, view in received]
    assert kinds[0] is StageStarted and kinds[-1] is RunFinished


def test_a_failed_stage_keeps_the_earlier_ones_and_says_which_and_why():
    client = FakeChatClient(answer=lambda prompt: "" if "Compare code 1" in prompt else "```python\nx = 1\n```")
    views = list(stream_views(fake_generator("dlcodegen", client), REQUIREMENT))
    last = views[-1]
    assert last.phase == "failed" and last.failed_stage == "final" and last.state("final") == ERROR
    assert all(last.state(stage) == DONE for stage in ("plan", "retrieve", "template", "code1", "code2"))
    assert last.text("code1") == "x = 1" and last.plan is not None and last.retrieved
    assert "stage Final project failed" in last.status and "holds no code" in last.status
    assert last.result is not None and {r.stage for r in last.result.records} >= {"code1", "code2", "template"}


def test_stages_the_method_does_not_run_are_skipped():
    offline = list(stream_views(fake_generator("retrieval-only"), REQUIREMENT))
    for stage in ("chain", "template", "code1", "code2"):  # known from the registry before anything runs
        assert offline[0].state(stage) == SKIPPED
        assert offline[-1].notes[stage] == "not part of the retrieval-only method"
    direct = list(stream_views(fake_generator("direct", FakeChatClient()), REQUIREMENT))[-1]
    assert [stage for stage in CODE_STAGES if direct.state(stage) == SKIPPED] == list(CODE_STAGES[:-1])
    assert direct.adherence is not None  # judged against the planner's plan, the method made none


def test_a_planner_that_reads_no_task_leaves_the_task_skipped_with_why():
    last = list(stream_views(fake_generator("retrieval-only"), REQUIREMENT))[-1]
    assert last.task is None and last.repairs == () and task_lines(last.task) == []
    assert last.state("task") == SKIPPED and last.notes["task"] == NO_TASK_READ
    assert handlers.task_markdown(last) == handlers.task_panel(text.TASK_SKIPPED.format(
        note=escape_markdown(NO_TASK_READ)))
    assert handlers.repairs_markdown(last) == ""
    direct = list(stream_views(fake_generator("direct", FakeChatClient()), REQUIREMENT))[-1]
    assert direct.notes["task"] == "not part of the direct method"  # no plan made: the method reads no task


def test_plan_retrieved_and_adherence_rows():
    rows = dict(plan_rows(_plan(0)))
    assert rows["layers"] == "Conv2D(32, (3, 3), activation='relu')\nFlatten()\nDense(1, activation='sigmoid')"
    assert rows["learning rate"] == "0.001" and rows["preprocess"] == "-"
    view = list(stream_views(fake_generator("retrieval-only"), REQUIREMENT))[-1]
    score, key, category, excerpt = retrieved_rows(view.retrieved)[0]
    assert isinstance(score, float) and key.startswith("dlsamplepool/") and category == "Image Classification"
    assert excerpt.startswith("Requirement")
    assert ["Overall (mean)", "100.0"] in adherence_rows({"overall": 100.0, "epochs": None}) and \
        ["Epochs", "-"] in adherence_rows({"epochs": None})


# --------------------------------------------------------------------------------------------------- the handlers

@pytest.fixture(scope="module")
def loaded(built_datasets):
    """The shipped planner, the pool and a prepared scorer (one calibration draw), once for the module."""
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.leaderboard.scoring import Scorer, ScoringConfig
    from dlcodegen.planning.planners import load_planner

    scorer = Scorer.from_data(built_datasets, ScoringConfig(draws=1, adherence=False))
    scorer.prepare()
    return load_planner(None, data_path=built_datasets), load_pool(data_path=built_datasets, include_user=False), \
        scorer


@pytest.fixture
def state(loaded, seeded_board, built_datasets):
    from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig

    planner, pool, scorer = loaded
    settings = SpaceSettings(leaderboard_dir=seeded_board, data_dir=built_datasets, planner=None, llm=LLMConfig(),
                             mirror_repo=None, hub_token_set=False)
    board = Leaderboard(LeaderboardConfig(directory=seeded_board, data_path=built_datasets), scorer=scorer)
    return handlers.SpaceState(settings, planner, pool, board)


def test_generate_offline_streams_the_plan_retrieval_final_code_downloads_and_adherence(state):
    outputs = list(handlers.generate(state, REQUIREMENT, ATTRIBUTES, "dlcodegen", "offline", 0))
    assert len(outputs) > 2
    status, plan, plan_json, retrieved, template, code1, code2, final, downloads, adherence, task, repairs = \
        outputs[-1]
    assert status.startswith("✅") and "offline generator" in status
    assert "layers" in list(plan["Field"]) and json.loads(plan_json)["Task Category"]
    assert list(retrieved.columns) == ["Score", "Sample", "Task category", "Requirement"] and len(retrieved) == 5
    assert all(panel == "# skipped: not part of the offline method" for panel in (template, code1, code2))
    ast.parse(final)
    assert sorted(Path(path).suffix for path in downloads) == [".ipynb", ".py"]
    assert all(Path(path).is_file() for path in downloads)
    assert Path(downloads[0]).read_text().rstrip("\n") == final.rstrip("\n")
    assert "Overall (mean)" in list(adherence["Field"])
    assert outputs[0][8] is None  # no downloads before the end
    assert outputs[0][10] == handlers.task_panel(text.TASK_IDLE) and outputs[0][11] == ""  # nothing read yet
    assert task.startswith(f"{text.TASK_HEADING}\n\n- **task**: image\\_classification")


def test_the_shipped_planner_reads_the_task_first_and_keeps_the_plan_true_to_it(loaded):
    planner, pool, _ = loaded
    views = list(stream_views(Generator(planner, pool, None, GeneratorConfig(method="offline")), TRAFFIC_SIGNS))
    last = views[-1]
    assert last.phase == "finished" and last.state("task") == DONE
    assert first_view(views, "task", DONE) < first_view(views, "plan", DONE)  # the task comes before the plan
    lines = task_lines(last.task)
    assert "output.classes: 43 (read from: 43 classes)" in lines, lines
    assert "input.height: 32 (read from: 32x32)" in lines and "input.channels: 3 (read from: RGB)" in lines
    assert last.result.task == last.task
    assert any("43" in repair and "softmax" in repair for repair in last.repairs), last.repairs
    assert last.plan.layers[-1] == "Dense(43, activation='softmax')"  # the repair the view reports was made


def test_generate_shows_the_task_with_its_words_and_the_plans_repairs(state):
    outputs = list(handlers.generate(state, TRAFFIC_SIGNS, "", "dlcodegen", "offline", 0))
    index = {name: position for position, name in enumerate(handlers.GENERATE_OUTPUTS)}
    task, repairs = outputs[-1][index["task-panel"]], outputs[-1][index["plan-repairs"]]
    heading, blank, *facts = task.splitlines()
    assert (heading, blank) == (text.TASK_HEADING, "")
    assert f"- **output\\.classes**: {escape_markdown('43 (read from: 43 classes)')}" in facts, facts
    assert all(line.startswith("- **") and escape_markdown("(read from: ") in line for line in facts)
    assert all(len(row) == len(handlers.GENERATE_OUTPUTS) for row in outputs)
    heading, *bullets = repairs.splitlines()
    assert heading == text.REPAIRS_HEADING and bullets and all(line.startswith("- ") for line in bullets)
    assert any(escape_markdown("Dense(43, activation='softmax')") in line for line in bullets), bullets
    shown = outputs[-1][index["plan-table"]]
    assert dict(zip(shown["Field"], shown["Value"]))["layers"].endswith("Dense(43, activation='softmax')")


def test_an_llm_method_without_an_llm_gives_one_clear_line_and_keeps_earlier_outputs(state):
    (outputs,) = list(handlers.generate(state, REQUIREMENT, "", "direct", "offline", 0))
    assert outputs[0].startswith("❌") and "needs an LLM" in outputs[0]
    assert all(output == {"__type__": "update"} for output in outputs[1:])  # gr.skip(): left as they were
    (outputs,) = list(handlers.generate(state, REQUIREMENT, "", "dlcodegen", "openai", 0))
    assert "DLCODEGEN_MODEL" in outputs[0] and "offline backend" in outputs[0]
    (outputs,) = list(handlers.generate(state, "   ", "", "offline", "offline", 0))
    assert "requirement is empty" in outputs[0]


def test_rescore_board_rescores_stale_entries_once_and_says_so(loaded, built_datasets, tmp_path):
    from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig
    from dlcodegen.leaderboard.store import Entry
    from dlcodegen.leaderboard.submission import content_hash

    planner, pool, scorer = loaded
    directory = tmp_path / "board"
    board = Leaderboard(LeaderboardConfig(directory=directory, data_path=built_datasets), scorer=scorer)
    codes = {item_id: f"import numpy as np\nx = np.zeros({item_id})\n" for item_id in board.ids}
    entry = Entry(content_hash(codes), "Old", "none", "2025-01-01T00:00:00+00:00", "submission", {"codebleu": 99.0})
    write_unversioned_line(board.store, entry, codes)
    settings = SpaceSettings(leaderboard_dir=directory, data_dir=built_datasets, planner=None, llm=LLMConfig(),
                             mirror_repo=None, hub_token_set=False)
    state = handlers.SpaceState(settings, planner, pool, board)
    said = []
    assert handlers.rescore_board(state, said.append) == 1
    assert said == ["rescoring 1 leaderboard entries scored by an older scorer (a few seconds each, once)"]
    assert handlers.rescore_board(state, said.append) == 0 and len(said) == 1
    assert board.rows()[0]["codebleu"] == scorer.score(codes)["codebleu"] < 99.0



def _submission(state, marker: str) -> bytes:
    """The offline baseline's generations, made new by a trailing comment."""
    entry = next(entry for entry in state.board.store.entries() if entry.method == "offline")
    codes = state.board.store.codes(entry.hash)
    return "".join(json.dumps({"id": item_id, "code": code + f"\n# {marker}\n"}) + "\n"
                   for item_id, code in sorted(codes.items())).encode()


def test_submit_adds_a_row_and_the_same_file_again_is_already_on_the_board(state, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_bytes(_submission(state, "mine"))
    before = len(state.board.rows())
    status, table = handlers.submit(state, str(path), "My [method](https://evil.example)", "none", "me", "")
    assert status.startswith("Added: ") and "\\[method\\]" in status and "[method](" not in status
    assert len(table) == before + 1 == len(state.board.rows())
    status, table = handlers.submit(state, str(path), "Another name", "none", "", "")
    assert status.startswith("Already on the board: ") and len(table) == before + 1


def _store_bytes(directory: Path) -> dict:
    return {str(path.relative_to(directory)): path.read_bytes() for path in sorted(directory.rglob("*"))
            if path.is_file() and path.name != ".lock"}


def test_submit_rejects_bad_input_in_one_line_and_leaves_the_store_untouched(state, tmp_path):
    before = _store_bytes(state.settings.leaderboard_dir)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 0, "code": "x = 1"}\n', encoding="utf-8")
    status, table = handlers.submit(state, str(bad), "mine", "none", "", "")
    assert status.startswith("Rejected: ") and "missing" in status and "\n" not in status
    assert len(table) == len(state.board.rows())
    good = tmp_path / "good.jsonl"
    good.write_bytes(_submission(state, "good"))
    for args in ((None, "mine", "none", "", ""), (str(good), "", "none", "", ""),
                 (str(good), "mine", "none", "", "javascript:alert(1)"), (str(tmp_path), "mine", "none", "", "")):
        status, _ = handlers.submit(state, *args)
        assert status.startswith("Rejected: ")
    assert _store_bytes(state.settings.leaderboard_dir) == before


def test_board_table_filters_and_plot_frames(state):
    table = handlers.board_table(state)
    assert list(table.columns)[:3] == ["#", "Method", "Backbone"] and len(table) == 13
    assert len(handlers.board_table(state, sources=["baseline"])) == 3
    assert set(handlers.board_table(state, search="dlcodegen")["Method"]) == {"DLCodeGen"}
    assert len(handlers.board_table(state, backbones=["GPT-4o-mini"])) == 5
    _, bar, _ = handlers.board_view(state)
    assert list(bar.columns) == ["Entry", "CodeBLEU", "Source"] and bar["CodeBLEU"].is_monotonic_decreasing
    assert "offline (none)" in set(bar["Entry"])
    _, _, scatter = handlers.board_view(state, sources=["paper"])
    assert list(scatter.columns) == ["Mean lines", "CodeBLEU", "Source", "Entry"] and set(scatter["Source"]) == {
        "paper"}
    assert handlers.backbone_choices(state) == ["DeepSeek-V2.5", "GPT-4o-mini", "none"]


# ------------------------------------------------------------------------------------------------- launched for real

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_launched_app_serves_generate_through_gradio_client(state, monkeypatch):
    from gradio_client import Client

    import app

    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    demo = app.build_demo(state)
    demo.queue(default_concurrency_limit=2)
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=_free_port(), quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        assert {"/generate", "/submit"} <= set(client.view_api(print_info=False, return_format="dict")[
            "named_endpoints"])
        outputs = client.predict(REQUIREMENT, ATTRIBUTES, "dlcodegen", "offline", 0, api_name="/generate")
        assert outputs[0].startswith("✅")
        ast.parse(outputs[7])
    finally:
        demo.close()
