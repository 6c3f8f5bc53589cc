"""The DLCodeGen Space: builds the layout and wires its events; the handlers are in handlers.py, every text in
text.py, every setting in settings.py.

    python space/app.py          # from the repository root (or `python app.py` inside space/)

needs the dlcodegen package installed (`pip install -e .` from the repository root). No key and no network needed:
the offline backend is the default, and the Hub mirror starts only when configured.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # imported from elsewhere (tests): the sibling modules are top-level here
    sys.path.insert(0, str(HERE))

import gradio as gr  # noqa: E402

import handlers  # noqa: E402
import text  # noqa: E402
from dlcodegen.generator.methods import METHOD_NAMES  # noqa: E402
from dlcodegen.generator.setup import BACKENDS  # noqa: E402
from settings import SpaceSettings  # noqa: E402

SOURCE_COLORS = {"paper": "#f28e2b", "baseline": "#4e79a7", "submission": "#59a14f"}  # one color per source, always
CSS = "#plan-table span.text, #plan-table .cell-wrap { white-space: pre-line !important; }"  # layers one per line


def build_demo(state: handlers.SpaceState) -> gr.Blocks:
    with gr.Blocks(title=text.TITLE) as demo:
        gr.Markdown(text.INTRO)
        with gr.Tabs():
            with gr.Tab(text.TAB_GENERATE, elem_id="tab-generate"):
                _generate_tab(state)
            with gr.Tab(text.TAB_LEADERBOARD, elem_id="tab-leaderboard"):
                board = _leaderboard_tab(state)
            with gr.Tab(text.TAB_SUBMIT, elem_id="tab-submit"):
                _submit_tab(state, board)
            with gr.Tab(text.TAB_ABOUT, elem_id="tab-about"):
                gr.Markdown(text.ABOUT)
        _refresh_board(demo.load, state, board)
    return demo


def _generate_tab(state: handlers.SpaceState) -> None:
    gr.Markdown(text.GENERATE_INTRO)
    with gr.Row():
        with gr.Column(scale=2):
            requirement = gr.Textbox(label=text.REQUIREMENT_LABEL, placeholder=text.REQUIREMENT_PLACEHOLDER, lines=3,
                                     elem_id="requirement")
            attributes = gr.Textbox(label=text.ATTRIBUTES_LABEL, placeholder=text.ATTRIBUTES_PLACEHOLDER, lines=2,
                                    elem_id="attributes")
            with gr.Row():
                method = gr.Dropdown(list(METHOD_NAMES), value="dlcodegen", label=text.METHOD_LABEL,
                                     elem_id="method")
                backend = gr.Radio(list(BACKENDS), value="offline", label=text.BACKEND_LABEL, elem_id="backend")
            temperature = gr.Slider(0, 2, value=0, step=0.1, label=text.TEMPERATURE_LABEL, elem_id="temperature")
            button = gr.Button(text.GENERATE_BUTTON, variant="primary", elem_id="generate-button")
            gr.Examples([list(example) for example in text.EXAMPLES], inputs=[requirement, attributes],
                        label=text.EXAMPLES_LABEL)
        with gr.Column(scale=3):
            status = gr.Markdown(text.STATUS_IDLE, elem_id="gen-status")
            task = gr.Markdown(handlers.task_panel(text.TASK_IDLE), label=text.TASK_LABEL, container=True,
                               padding=True, elem_id="task-panel")
            plan = gr.Dataframe(headers=text.PLAN_HEADERS, datatype=["str", "str"], interactive=False, wrap=True,
                                label=text.PLAN_LABEL, elem_id="plan-table")
            repairs = gr.Markdown(elem_id="plan-repairs")
            with gr.Accordion(text.PLAN_JSON_LABEL, open=False):
                plan_json = gr.Code(language="json", interactive=False, label=text.PLAN_JSON_LABEL,
                                    elem_id="plan-json")
            retrieved = gr.Dataframe(headers=text.RETRIEVED_HEADERS, datatype=["number", "str", "str", "str"],
                                     interactive=False, wrap=True, label=text.RETRIEVED_LABEL, elem_id="retrieved")
    with gr.Row():
        template = _code_panel(text.TEMPLATE_LABEL, "template")
        code1 = _code_panel(text.CODE1_LABEL, "code1")
        code2 = _code_panel(text.CODE2_LABEL, "code2")
    final = _code_panel(text.FINAL_LABEL, "final-code", max_lines=60)
    with gr.Row():
        downloads = gr.File(label=text.DOWNLOADS_LABEL, file_count="multiple", interactive=False,
                            elem_id="downloads")
        adherence = gr.Dataframe(headers=text.ADHERENCE_HEADERS, datatype=["str", "str"], interactive=False,
                                 label=text.ADHERENCE_LABEL, elem_id="adherence")
    outputs = [status, plan, plan_json, retrieved, template, code1, code2, final, downloads, adherence, task,
               repairs]  # in the order of handlers.GENERATE_OUTPUTS
    button.click(partial(handlers.generate, state), inputs=[requirement, attributes, method, backend, temperature],
                 outputs=outputs, api_name="generate")
    backend.change(partial(handlers.backend_notice, state), inputs=backend, outputs=status,
                   api_visibility="private")


def _code_panel(label: str, elem_id: str, max_lines: int = 25) -> gr.Code:
    return gr.Code(language="python", interactive=False, label=label, max_lines=max_lines, buttons=["copy"],
                   elem_id=elem_id)


def _leaderboard_tab(state: handlers.SpaceState) -> dict:
    gr.Markdown(text.LEADERBOARD_INTRO)
    backbones_now = handlers.backbone_choices(state)
    with gr.Row():
        search = gr.Textbox(label=text.SEARCH_LABEL, elem_id="board-search", scale=2)
        sources = gr.CheckboxGroup(handlers.source_choices(), value=handlers.source_choices(),
                                   label=text.SOURCES_LABEL, elem_id="board-sources")
        backbones = gr.CheckboxGroup(backbones_now, value=backbones_now, label=text.BACKBONES_LABEL,
                                     elem_id="board-backbones")
        sort = gr.Dropdown(handlers.sort_choices(), value=handlers.DEFAULT_SORT_LABEL, label=text.SORT_LABEL,
                           elem_id="board-sort", scale=1)
        refresh = gr.Button(text.REFRESH_BUTTON, elem_id="board-refresh", scale=0)
    table, bar, scatter = handlers.board_view(state)
    board = {
        "filters": [search, sources, backbones, sort], "backbones": backbones,
        "table": gr.Dataframe(table, datatype=handlers.BOARD_DATATYPES, interactive=False, wrap=True, pinned_columns=2,
                              label=text.BOARD_LABEL, elem_id="board-table"),
        "bar": gr.BarPlot(bar, x=text.ENTRY_COLUMN, y="CodeBLEU", color=text.SOURCE_COLUMN, color_map=SOURCE_COLORS,
                          sort="-y",
                          x_label_angle=-45, title=text.BAR_TITLE, elem_id="board-bar"),
        "scatter": gr.ScatterPlot(scatter, x="Mean lines", y="CodeBLEU", color=text.SOURCE_COLUMN,
                                  color_map=SOURCE_COLORS,
                                  tooltip=[text.ENTRY_COLUMN, "CodeBLEU", "Mean lines"], title=text.SCATTER_TITLE,
                                  elem_id="board-scatter"),
    }
    view = partial(handlers.board_view, state)
    for control in (sources, backbones, sort):
        control.change(view, inputs=board["filters"], outputs=_board_outputs(board), api_visibility="private")
    search.change(view, inputs=board["filters"], outputs=_board_outputs(board), trigger_mode="always_last",
                  api_visibility="private")
    _refresh_board(refresh.click, state, board)
    return board


def _board_outputs(board: dict) -> list:
    return [board["table"], board["bar"], board["scatter"]]


def _refresh_board(trigger, state: handlers.SpaceState, board: dict) -> None:
    """Fresh rows from the store (entries another process added show up): every backbone, then the filtered view."""
    trigger(partial(handlers.backbone_filter, state), outputs=board["backbones"], api_visibility="private").then(
        partial(handlers.board_view, state), inputs=board["filters"], outputs=_board_outputs(board),
        api_visibility="private")


def _submit_tab(state: handlers.SpaceState, board: dict) -> None:
    gr.Markdown(text.SUBMIT_INTRO)
    with gr.Row():
        with gr.Column():
            file = gr.File(label=text.SUBMIT_FILE_LABEL, file_types=[".jsonl"], elem_id="submit-file")
            method = gr.Textbox(label=text.SUBMIT_METHOD_LABEL, elem_id="submit-method")
            backbone = gr.Textbox(label=text.SUBMIT_BACKBONE_LABEL, elem_id="submit-backbone")
            contact = gr.Textbox(label=text.SUBMIT_CONTACT_LABEL, elem_id="submit-contact")
            link = gr.Textbox(label=text.SUBMIT_LINK_LABEL, elem_id="submit-link")
            button = gr.Button(text.SUBMIT_BUTTON, variant="primary", elem_id="submit-button")
        with gr.Column():
            status = gr.Markdown(elem_id="submit-status")
    submitted = button.click(partial(handlers.submit, state), inputs=[file, method, backbone, contact, link],
                             outputs=[status, board["table"]], api_name="submit")
    _refresh_board(submitted.then, state, board)


def main() -> None:
    began = time.monotonic()
    settings = SpaceSettings.from_env()
    state = handlers.build_state(settings)
    handlers.seed_board(state)
    handlers.rescore_board(state)
    handlers.warm_scorer(state)
    demo = build_demo(state)
    demo.queue(default_concurrency_limit=settings.concurrency)
    _, local_url, _ = demo.launch(prevent_thread_lock=True, max_file_size=settings.upload_limit_bytes, css=CSS)
    print(f"serving on {local_url} ({time.monotonic() - began:.1f} s after start)", flush=True)
    worker = handlers.start_worker(settings)  # execution results, in its own process (never in this one)
    try:
        demo.block_thread()
    finally:
        if worker is not None:
            worker.terminate()


if __name__ == "__main__":
    main()
