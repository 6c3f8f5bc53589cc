"""Thin Gradio adapters: each handler turns widget values into a dlcodegen call and its result into widget values.

The logic lives in dlcodegen (generation and its streaming view, the leaderboard); here are only the state built
once at startup and the conversions to what the components show. Handlers never raise for bad input: the one-line
message goes into the status, and nothing a user typed reaches Markdown unescaped.
"""

from __future__ import annotations

import dataclasses
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import gradio as gr
import pandas as pd

import text
from dlcodegen.core.errors import UserError
from dlcodegen.generator.project import NOTEBOOK_FILE, PROJECT_FILE, write_project
from dlcodegen.generator.setup import GeneratorSetup, build_generator
from dlcodegen.generator.view import (ERROR, FINISHED_PHASE, SKIPPED, GenerationView, adherence_rows, plan_rows,
                                      retrieved_rows, stream_views, task_lines)
from dlcodegen.leaderboard.board import COLUMNS, DEFAULT_SORT, NUMBER_COLUMNS, display_rows, filter_rows
from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig
from dlcodegen.leaderboard.store import SOURCES, StoreError
from dlcodegen.leaderboard.submission import SubmissionError, escape_markdown
from dlcodegen.llm import LLMNotConfigured
from settings import SpaceSettings
CODE_STAGES = ("template", "code1", "code2", "final")
# display_rows escapes the submitter's text (method, backbone, contact) for Markdown: those columns render it.
BOARD_DATATYPES = ["markdown" if key in ("method", "backbone", "contact") else "number" if key in (
    "rank", *NUMBER_COLUMNS) else "str" for key in COLUMNS]


@dataclass
class SpaceState:
    """What every request shares, built once at startup."""

    settings: SpaceSettings
    planner: object
    pool: list
    board: Leaderboard
    mirror: object | None = None  # a huggingface_hub.CommitScheduler, or None offline


def build_state(settings: SpaceSettings, log: Callable[[str], None] = print) -> SpaceState:
    """Datasets built (when missing), the Hub mirror started (when configured), the planner and the pool loaded."""
    from dlcodegen.datasets_builder.export import ensure_built
    from dlcodegen.generator.pool import load_pool
    from dlcodegen.planning.planners import load_planner

    data = ensure_built(settings.data_dir, log=log)
    mirror = start_mirror(settings, log)
    board = Leaderboard(LeaderboardConfig(directory=settings.leaderboard_dir, data_path=data),
                        write_lock=mirror.lock if mirror else None)
    planner = load_planner(settings.planner, data_path=data)
    return SpaceState(settings, planner, load_pool(data_path=data), board, mirror)


def start_mirror(settings: SpaceSettings, log: Callable[[str], None] = print):
    """The Hub mirror of the store, or None. A fresh local store is first filled from the Hub copy, so a restarted
    Space never pushes a newly seeded board over the entries already mirrored."""
    from dlcodegen.leaderboard.mirror import restore_from_hub, start_mirror as start_scheduler

    if not settings.mirror_configured:
        return None
    try:
        scheduler = start_scheduler(settings.leaderboard_dir, repo_id=settings.mirror_repo)
    except Exception as error:  # noqa: BLE001 - any Hub failure: run without the mirror, say so in one line
        log(f"Hub mirror to {settings.mirror_repo} not started ({type(error).__name__}); the board stays local")
        return None
    try:
        restore_from_hub(settings.leaderboard_dir, settings.mirror_repo, scheduler)
    except Exception as error:  # noqa: BLE001 - never mirror a local board that may lack the Hub's entries
        scheduler.stop()
        log(f"could not read the Hub copy of the board ({type(error).__name__}); Hub mirror stopped")
        return None
    log(f"mirroring the board to the Hub dataset {settings.mirror_repo}")
    return scheduler


def seed_board(state: SpaceState, log: Callable[[str], None] = print) -> int:
    """Seed a fresh store (the paper's sets and the baselines; about 2 minutes, once); entries added."""
    added = state.board.ensure_seeded(on_notice=log)
    if added:
        log(f"seeded {added} entries")
    return added


def rescore_board(state: SpaceState, log: Callable[[str], None] = print) -> int:
    """Rescore the entries an older scorer scored (after an upgrade that changed scoring); entries rescored."""
    stale = len(state.board.stale())
    if not stale:
        return 0
    log(f"rescoring {stale} leaderboard entries scored by an older scorer (a few seconds each, once)")
    return state.board.rescore(progress=True)


def warm_scorer(state: SpaceState, log: Callable[[str], None] = print) -> threading.Thread:
    """Prepare the scorer in the background (about 30 s), so the first submission does not wait for it."""
    def warm() -> None:
        began = time.monotonic()
        state.board.scorer.prepare()
        log(f"scorer ready for submissions ({time.monotonic() - began:.0f} s)")

    thread = threading.Thread(target=warm, name="warm-scorer", daemon=True)
    thread.start()
    return thread


# ---------------------------------------------------------------------------------------------------------- generate


def generate(state: SpaceState, requirement, attributes, method, backend, temperature) -> Iterator[tuple]:
    """The Generate tab's outputs for every snapshot of the run (see `generation_outputs`)."""
    notices: list[str] = []
    try:
        generator = _generator(state, method, backend, temperature, notices.append)
        for view in stream_views(generator, requirement or "", attributes or ""):
            yield generation_outputs(view, notices)
    except LLMNotConfigured:
        yield _failure(text.NO_MODEL)
    except UserError as error:
        yield _failure(escape_markdown(str(error)))


def _generator(state: SpaceState, method, backend, temperature, notice: Callable[[str], None]):
    llm = dataclasses.replace(state.settings.llm, temperature=float(temperature or 0.0))
    setup = GeneratorSetup(method=method or "dlcodegen", backend=backend or "offline", llm=llm,
                           data_path=state.board.config.data_path)
    generator, _ = build_generator(setup, planner=state.planner, pool=state.pool,
                                   notice=lambda message: notice(message[0].upper() + message[1:] + "."))
    return generator


def _failure(markdown: str) -> tuple:
    """The status with the message (Markdown); every other output left as it was."""
    return (f"{text.ERROR_ICON} {markdown}", *[gr.skip()] * (len(GENERATE_OUTPUTS) - 1))


# The task and the plan's repairs come last: the positions of the older outputs (the /generate API) stay as they were.
GENERATE_OUTPUTS = ("gen-status", "plan-table", "plan-json", "retrieved", "template", "code1", "code2", "final-code",
                    "downloads", "adherence", "task-panel", "plan-repairs")


def generation_outputs(view: GenerationView, notices: list[str] = ()) -> tuple:
    """(status, plan rows, plan JSON, retrieved rows, template, code 1, code 2, final code, downloads, adherence,
    task, plan repairs)."""
    shown = escape_markdown(view.status) + ("." if notices and not view.status.endswith(".") else "")
    status = " ".join([text.STATUS_ICONS[view.phase], shown, *notices])
    downloads = project_files(view) if view.phase == FINISHED_PHASE else None
    return (status,
            pd.DataFrame(plan_rows(view.plan), columns=text.PLAN_HEADERS),
            view.plan.to_json(indent=2) if view.plan else "",
            pd.DataFrame(retrieved_rows(view.retrieved), columns=text.RETRIEVED_HEADERS),
            *(stage_panel(view, stage) for stage in CODE_STAGES),
            downloads,
            pd.DataFrame(adherence_rows(view.adherence), columns=text.ADHERENCE_HEADERS),
            task_markdown(view),
            repairs_markdown(view))


def task_markdown(view: GenerationView) -> str:
    """The task panel: one bullet per stated fact, "**name**: value (read from: words)", the user's words escaped;
    a skipped task's note; the idle text until the task is read."""
    lines = task_lines(view.task)
    if lines:
        return task_panel("\n".join(_fact_bullet(line) for line in lines))
    if view.state("task") == SKIPPED:
        return task_panel(text.TASK_SKIPPED.format(note=escape_markdown(view.notes.get("task", ""))))
    return task_panel(text.TASK_IDLE)


def task_panel(body: str) -> str:
    """The task panel's Markdown: its heading, then `body`."""
    return f"{text.TASK_HEADING}\n\n{body}"


def _fact_bullet(line: str) -> str:
    name, _, rest = line.partition(": ")  # a fact's dotted name holds no ": "
    return f"- **{escape_markdown(name)}**: {escape_markdown(rest)}" if rest else f"- {escape_markdown(line)}"


def repairs_markdown(view: GenerationView) -> str:
    """Under the plan: what was changed to keep it true to the task, one bullet each; empty when nothing was."""
    if not view.repairs:
        return ""
    return "\n".join([text.REPAIRS_HEADING, *(f"- {escape_markdown(repair)}" for repair in view.repairs)])


def stage_panel(view: GenerationView, stage: str) -> str:
    """The stage's text; a skipped stage's one-line note; a failed stage's text with the failure below it."""
    if view.state(stage) == SKIPPED:
        return text.SKIPPED_PREFIX + view.notes.get(stage, "")
    if view.state(stage) == ERROR:
        return f"{view.text(stage)}\n# failed: {view.error}".lstrip("\n")
    return view.text(stage)


def project_files(view: GenerationView) -> list[str]:
    """project.py and project.ipynb of the finished run, in a fresh temporary folder."""
    paths = write_project(view.result, tempfile.mkdtemp(prefix="dlcodegen-project-"))
    return [str(paths[PROJECT_FILE]), str(paths[NOTEBOOK_FILE])]


def backend_notice(state: SpaceState, backend: str) -> str:
    """The status when the backend changes: the clear message when openai is chosen but not configured."""
    if backend == "openai" and not state.settings.llm_configured:
        return f"{text.ERROR_ICON} {text.NO_MODEL}"
    return text.STATUS_IDLE


# ------------------------------------------------------------------------------------------------------- leaderboard


DEFAULT_SORT_LABEL = COLUMNS[DEFAULT_SORT]
_SORT_KEYS = {title: key for key, title in COLUMNS.items() if key not in ("rank", "link")}


def sort_choices() -> list[str]:
    """The columns the board can be sorted by, as the table titles them."""
    return list(_SORT_KEYS)


def _rows(state: SpaceState, search="", sources=None, backbones=None, sort=DEFAULT_SORT_LABEL) -> list[dict]:
    rows = state.board.rows(sort=_SORT_KEYS.get(sort or DEFAULT_SORT_LABEL, DEFAULT_SORT))
    return filter_rows(rows, search or "", sources, backbones)


def board_table(state: SpaceState, search="", sources=None, backbones=None,
                sort=DEFAULT_SORT_LABEL) -> pd.DataFrame:
    """The board as the table shows it: every column of board.COLUMNS, user text escaped, the method linked."""
    return _table(_rows(state, search, sources, backbones, sort))


def board_view(state: SpaceState, search="", sources=None, backbones=None, sort=DEFAULT_SORT_LABEL) -> tuple:
    """(table, bar plot frame, scatter frame) for the filters and the sort, from one read of the store."""
    rows = _rows(state, search, sources, backbones, sort)
    return _table(rows), _bar(rows), _scatter(rows)


def _table(rows: list[dict]) -> pd.DataFrame:
    shown = display_rows(rows)
    # object dtype keeps a missing score None (an empty cell), where a float column would show NaN
    return pd.DataFrame([[row[key] for key in COLUMNS] for row in shown], columns=list(COLUMNS.values()),
                        dtype=object)


def _entry(row: dict) -> str:
    return f"{row['method']} ({row['backbone']})"


def _bar(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({text.ENTRY_COLUMN: [_entry(row) for row in rows],
                         COLUMNS["codebleu"]: [row["codebleu"] for row in rows],
                         text.SOURCE_COLUMN: [row["source"] for row in rows]})


def _scatter(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame({COLUMNS["mean_lines"]: [row["mean_lines"] for row in rows],
                         COLUMNS["codebleu"]: [row["codebleu"] for row in rows],
                         text.SOURCE_COLUMN: [row["source"] for row in rows],
                         text.ENTRY_COLUMN: [_entry(row) for row in rows]})


def backbone_choices(state: SpaceState) -> list[str]:
    return sorted({row["backbone"] for row in state.board.rows()})


def source_choices() -> list[str]:
    return list(SOURCES)


def backbone_filter(state: SpaceState) -> gr.CheckboxGroup:
    """The backbone filter with every backbone on the board, all selected (new ones come from submissions)."""
    choices = backbone_choices(state)
    return gr.CheckboxGroup(choices=choices, value=choices)


# ------------------------------------------------------------------------------------------------------------ submit


def submit(state: SpaceState, file, method, backbone, contact, link) -> tuple[str, pd.DataFrame]:
    """(status, board table). The status starts with "Added:", "Already on the board:" or "Rejected:"."""
    if not file:
        return f"{text.REJECTED} {escape_markdown(text.NO_FILE)}", board_table(state)
    try:
        result = state.board.submit_file(_path(file), method, backbone, contact or "", link or "")
    except (SubmissionError, StoreError, OSError) as error:
        return f"{text.REJECTED} {escape_markdown(str(error))}", board_table(state)
    if result.added:
        message = f"{text.ADDED} {escape_markdown(result.message.removeprefix('added '))}"
    else:
        message = f"{text.ALREADY} {escape_markdown(result.message.removeprefix('already on the board: '))}"
    return message, board_table(state)


def _path(file) -> str:
    """gr.File hands a path (type="filepath"); older clients an object with `.name`."""
    return file if isinstance(file, str) else getattr(file, "name", str(file))


def start_worker(settings: SpaceSettings):
    """`dlcodegen leaderboard worker` as a child process on the Space's store when the operator's setting allows
    it (on locally, off on a public Space: $DLCODEGEN_LEADERBOARD_EXECUTE) and TensorFlow is installed; None
    otherwise. Submissions show "pending" until it has verified them."""
    import shutil
    import subprocess
    import sys

    from dlcodegen.leaderboard.execution import execution_enabled
    from dlcodegen.verify import tensorflow_available

    if not execution_enabled() or not tensorflow_available():
        return None
    command = shutil.which("dlcodegen") or str(Path(sys.executable).with_name("dlcodegen"))
    return subprocess.Popen([command, "leaderboard", "worker", "--dir", str(settings.leaderboard_dir), "--data",
                             str(settings.data_dir)], stdin=subprocess.DEVNULL)
