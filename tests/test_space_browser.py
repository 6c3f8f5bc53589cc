"""The Space in a real browser: Debian's Chromium driven by Playwright against `python space/app.py` (one app process
for the module, on a private copy of the seeded store). Screenshots of every key step go to `tests/screenshots/`
(or `$DLCODEGEN_SCREENSHOT_DIR`). The tests run in file order: the board is checked before anything is submitted.
"""

from __future__ import annotations

import ast
import hashlib
import json
import time
import urllib.request

import pytest

from space_app import (Screenshots, SpaceApp, chromium_browser, chromium_executable, copy_store, new_page,
                       short_codes, submission_bytes)

pytestmark = pytest.mark.slow

SEEDED_METHODS = {"DLCodeGen", "CEDAR", "C-CoT", "Direct", "PS", "random-sibling", "retrieval-only", "offline"}
SEEDED_ROWS = 13
SKIPPED_NOTE = "# skipped: not part of the offline method"
FINISHED, FAILED = "✅", "❌"
STATUS_PREFIXES = ("Added:", "Already on the board:", "Rejected:")
SCORING_TIMEOUT_MS = 240_000  # the first submission after a start prepares the scorer (30-90 s on 2 cores)

# The text of a CodeMirror editor: its document, not the DOM (CodeMirror renders only the lines in view).
EDITOR_TEXT_JS = """(selector) => {
    const content = document.querySelector(selector + ' .cm-content');
    if (!content) return null;
    const node = content.cmTile || content.cmView;  // CodeMirror >= 6.39 (tiles) or before
    const view = node && (node.view || (node.rootView && node.rootView.view));
    return view ? view.state.doc.toString() : content.innerText;
}"""
# The rendered rows of a gr.Dataframe (a virtual table: role=row divs), each a list of cell texts.
TABLE_ROWS_JS = """(selector) => Array.from(document.querySelectorAll(selector + ' .virtual-row[role=row]')).map(
    row => Array.from(row.querySelectorAll('[role=gridcell]')).map(cell => cell.innerText.trim()))"""
TABLE_HEADERS_JS = """(selector) => Array.from(document.querySelectorAll(selector + ' thead th')).map(
    th => th.innerText.trim().replace(/\\s+/g, ' '))"""


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_board_template, built_datasets):
    store = copy_store(seeded_board_template, tmp_path_factory.mktemp("space-browser") / "board")
    with SpaceApp(store, built_datasets, log_path=store.parent / "app.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
    if chromium_executable() is None:
        pytest.fail("Chromium is missing: apt-get install chromium (the Space's browser tests drive it)")
    with chromium_browser() as running:
        yield running


@pytest.fixture
def page(browser, app, request):
    with new_page(browser, height=1100) as opened:
        opened.goto(app.url)
        opened.wait_for_selector("#requirement textarea")
        opened.shots = Screenshots(request.node.name)
        yield opened
        assert opened.page_errors == [], f"uncaught errors in the page: {opened.page_errors}"


def editor_text(page, elem_id: str) -> str:
    return page.evaluate(EDITOR_TEXT_JS, f"#{elem_id}")


def table_rows(page, elem_id: str) -> list[list[str]]:
    return page.evaluate(TABLE_ROWS_JS, f"#{elem_id}")


def column(page, elem_id: str, title: str) -> list[str]:
    index = page.evaluate(TABLE_HEADERS_JS, f"#{elem_id}").index(title)
    return [row[index] for row in table_rows(page, elem_id)]


def wait_rows(page, elem_id: str, predicate, timeout: float = 120.0) -> list[list[str]]:
    """The table's rows once `predicate(rows)` holds (the table refreshes asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = table_rows(page, elem_id)
        if predicate(rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"#{elem_id}: rows never satisfied the condition; last: {rows}")
        page.wait_for_timeout(200)


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click()


# ------------------------------------------------------------------------------------------------------ generate


def test_generate_offline_shows_every_stage(page, codeeval, app):
    item = codeeval[3]
    assert page.locator("#method input").input_value() == "dlcodegen"  # the defaults: dlcodegen, offline
    assert page.locator("#backend input[value=offline]").is_checked()
    page.locator("#requirement textarea").fill(item["user_requirement"])
    page.locator("#attributes textarea").fill(item["dataset_attributes"])
    page.shots.take(page, "filled")
    page.locator("#generate-button").click()
    page.wait_for_function(f"() => /[{FINISHED}{FAILED}]/u.test(document.querySelector('#gen-status').innerText)",
                           timeout=120_000)
    page.shots.take(page, "generated")
    status = page.locator("#gen-status").inner_text()
    assert status.startswith(FINISHED), status
    assert "offline:" in status and "0 LLM call(s)" in status and "No LLM configured" in status

    plan = {row[0]: row[1] for row in table_rows(page, "plan-table")}  # the stages the offline method runs
    assert {"task category", "layers", "optimizer", "loss function", "epochs"} <= set(plan), plan
    assert plan["layers"] not in ("", "-")
    page.get_by_text("Plan (JSON)").first.click()  # the JSON sits in a closed accordion
    page.locator("#plan-json .cm-content").wait_for()
    plan_json = json.loads(editor_text(page, "plan-json"))
    assert plan_json["Task Category"] == plan["task category"]  # DLPlanData's spelling
    retrieved = table_rows(page, "retrieved")
    assert len(retrieved) >= 3 and all(row[1].startswith("dlsamplepool/") for row in retrieved), retrieved
    scores = [float(row[0]) for row in retrieved]
    assert scores == sorted(scores, reverse=True)

    for stage in ("template", "code1", "code2"):  # the LLM stages the offline method does not run: their notes
        assert editor_text(page, stage) == SKIPPED_NOTE, stage
    final = editor_text(page, "final-code")
    ast.parse(final)  # the final project shown on the page is valid Python
    assert len(final.splitlines()) > 30 and "keras" in final
    assert f"{len(final.splitlines())} lines" in status

    links = page.evaluate("() => Array.from(document.querySelectorAll('#downloads a[download]')).map("
                          "a => [a.getAttribute('download'), a.href])")
    assert sorted(name for name, _ in links) == ["project.ipynb", "project.py"], links
    files = {name: urllib.request.urlopen(href, timeout=30).read().decode("utf-8") for name, href in links}
    assert files["project.py"] == final + "\n"  # the download is the code shown
    notebook = json.loads(files["project.ipynb"])
    assert notebook["nbformat"] == 4
    notebook_code = "".join("".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code")
    assert "keras" in notebook_code
    adherence = {row[0]: row[1] for row in table_rows(page, "adherence")}
    assert "Overall (mean)" in adherence and float(adherence["Overall (mean)"]) >= 0
    page.locator("#final-code").scroll_into_view_if_needed()
    page.shots.take(page, "final-code", full_page=False)


TRAFFIC_SIGNS = "Classify 32x32 RGB photos of traffic signs into 43 classes with a CNN."
# Whether an element's content is wider or taller than its box (text cut off or scrolled away).
OVERFLOWS_JS = "(element) => element.scrollWidth > element.clientWidth + 1"


def test_generate_shows_the_task_above_the_plan_and_the_repairs_under_it(page):
    task_panel, plan_table, repairs = (page.locator(f"#{elem_id}") for elem_id in
                                       ("task-panel", "plan-table", "plan-repairs"))
    assert "appears here with the words it was read from" in task_panel.inner_text()  # before the run
    page.locator("#requirement textarea").fill(TRAFFIC_SIGNS)
    page.locator("#generate-button").click()
    page.wait_for_function(f"() => /[{FINISHED}{FAILED}]/u.test(document.querySelector('#gen-status').innerText)",
                           timeout=120_000)
    assert page.locator("#gen-status").inner_text().startswith(FINISHED)
    page.wait_for_function("() => document.querySelector('#task-panel').innerText.includes('43 classes')")
    task_panel.scroll_into_view_if_needed()
    page.shots.take(page, "task-and-plan", full_page=False)
    repairs.scroll_into_view_if_needed()
    page.shots.take(page, "plan-repairs", full_page=False)

    assert task_panel.is_visible() and plan_table.is_visible() and repairs.is_visible()
    task_box, plan_box, repairs_box = task_panel.bounding_box(), plan_table.bounding_box(), repairs.bounding_box()
    assert task_box["y"] + task_box["height"] <= plan_box["y"], (task_box, plan_box)  # the task above the plan
    assert plan_box["y"] + plan_box["height"] <= repairs_box["y"], (plan_box, repairs_box)  # the repairs under it
    assert task_panel.inner_text().startswith("Task, read from the requirement")
    facts = [item.strip() for item in task_panel.locator("li").all_inner_texts()]
    assert "output.classes: 43 (read from: 43 classes)" in facts, facts
    assert "input.height: 32 (read from: 32x32)" in facts and all("(read from: " in fact for fact in facts), facts
    assert not page.evaluate(OVERFLOWS_JS, task_panel.element_handle())
    shown = repairs.inner_text()
    assert shown.startswith("Kept true to the task:") and "Dense(43, activation='softmax')" in shown, shown
    layers = {row[0]: row[1] for row in table_rows(page, "plan-table")}["layers"]
    assert layers.splitlines()[-1] == "Dense(43, activation='softmax')"  # the plan shown is the repaired one


def test_generate_errors_are_one_clear_line(page):
    """An LLM method on the offline backend, and the openai backend on a Space without a model: a message, no crash."""
    page.locator("#requirement textarea").fill("Classify handwritten digits with a small CNN.")
    page.locator("#method input").fill("direct")
    page.keyboard.press("Enter")
    page.locator("#generate-button").click()
    page.wait_for_function(f"() => document.querySelector('#gen-status').innerText.includes('{FAILED}')")
    status = page.locator("#gen-status").inner_text()
    page.shots.take(page, "direct-offline")
    assert "method direct needs an LLM" in status and "offline" in status, status
    page.locator("#backend label:has-text('openai')").click()
    page.wait_for_function("() => document.querySelector('#gen-status').innerText.includes('DLCODEGEN_MODEL')")
    page.shots.take(page, "openai-not-configured")


# --------------------------------------------------------------------------------------------------- leaderboard


def test_leaderboard_shows_the_seeded_rows_and_filters(page, app):
    from dlcodegen.leaderboard.store import LeaderboardStore

    entries = LeaderboardStore(app.store).entries()
    open_tab(page, "Leaderboard")
    rows = wait_rows(page, "board-table", lambda rows: len(rows) == len(entries))
    for plot in ("board-bar", "board-scatter"):  # Vega draws the plots once their data arrived
        page.locator(f"#{plot} canvas, #{plot} svg.marks").first.wait_for()
    page.shots.take(page, "board")
    methods = column(page, "board-table", "Method")
    assert len(rows) == len(entries) == SEEDED_ROWS, methods  # run first in the module: only the seeded rows
    assert SEEDED_METHODS <= set(methods)
    assert sorted(zip(methods, column(page, "board-table", "Backbone"))) == \
        sorted((entry.method, entry.backbone) for entry in entries)
    assert set(column(page, "board-table", "Source")) == {"paper", "baseline"}
    codebleu = [float(value) for value in column(page, "board-table", "CodeBLEU")]
    assert codebleu == sorted(codebleu, reverse=True)  # best first

    search = page.locator("#board-search textarea, #board-search input").first
    search.fill("cedar")
    wait_rows(page, "board-table", lambda rows: len(rows) == 2)
    assert column(page, "board-table", "Method") == ["CEDAR", "CEDAR"]
    page.shots.take(page, "search-cedar")
    search.fill("dlcodegen gpt-4o-mini")
    wait_rows(page, "board-table", lambda rows: len(rows) == 1)
    assert column(page, "board-table", "Backbone") == ["GPT-4o-mini"]
    search.fill("")
    wait_rows(page, "board-table", lambda rows: len(rows) == SEEDED_ROWS)
    page.locator("#board-sources label:has-text('paper')").click()  # untick paper: the three baselines remain
    wait_rows(page, "board-table", lambda rows: len(rows) == 3)
    assert set(column(page, "board-table", "Method")) == {"random-sibling", "retrieval-only", "offline"}
    page.shots.take(page, "baselines-only")


def test_the_board_shows_execution_columns_and_sorts_by_any_column(page, app):
    open_tab(page, "Leaderboard")
    wait_rows(page, "board-table", lambda rows: len(rows) == SEEDED_ROWS)
    headers = page.evaluate(TABLE_HEADERS_JS, "#board-table")
    for title in ("Fits the task %", "Learns %", "Trains a step %", "Parses %", "Builds %", "Execution"):
        assert title in headers, headers
    assert page.locator("#board-sort input").input_value() == "Fits the task %"  # the default sort
    assert set(column(page, "board-table", "Execution")) <= {"done", "partial", "-"}
    page.locator("#board-sort input").click()
    page.get_by_role("option", name="Plan adherence %", exact=True).click()

    def by_adherence(rows) -> bool:
        values = [float(row[headers.index("Plan adherence %")]) for row in rows
                  if row[headers.index("Plan adherence %")] not in ("", "-")]
        return len(rows) == SEEDED_ROWS and len(values) > 1 and values == sorted(values, reverse=True)
    wait_rows(page, "board-table", by_adherence)
    page.shots.take(page, "sorted-by-adherence")


# -------------------------------------------------------------------------------------------------------- submit


def upload(page, path, method: str, backbone: str = "none", contact: str = "", link: str = "") -> str:
    """Fill the Submit tab, press Submit; the status text once it has one."""
    open_tab(page, "Submit")
    page.locator("#submit-file input[type=file]").set_input_files(str(path))
    page.locator("#submit-file").get_by_text(path.name).first.wait_for(timeout=60_000)  # uploaded
    page.locator("#submit-method textarea, #submit-method input").first.fill(method)
    page.locator("#submit-backbone textarea, #submit-backbone input").first.fill(backbone)
    page.locator("#submit-contact textarea, #submit-contact input").first.fill(contact)
    page.locator("#submit-link textarea, #submit-link input").first.fill(link)
    page.shots.take(page, "filled")
    page.locator("#submit-button").click()
    prefixes = json.dumps(STATUS_PREFIXES)
    page.wait_for_function(f"() => {prefixes}.some(prefix => document.querySelector('#submit-status').innerText"
                           f".trim().startsWith(prefix))", timeout=SCORING_TIMEOUT_MS)
    page.shots.take(page, "status")
    return page.locator("#submit-status").inner_text().strip()


BROWSER_METHOD = "Browser Net [v2] #1 & (a+b)"  # Markdown and HTML characters, shown literally


def test_valid_submission_appears_on_the_board(page, app, tmp_path):
    from dlcodegen.leaderboard.store import LeaderboardStore

    before = len(LeaderboardStore(app.store).entries())
    # the Space prepares its scorer in the background at start; a submission sent meanwhile prepares it a second
    # time in parallel (Scorer.prepare takes no lock), doubling the wait: let the warm-up finish first
    app.wait_idle(timeout=150)
    path = tmp_path / "browser-method.jsonl"
    path.write_bytes(submission_bytes(short_codes(variant=42)))
    status = upload(page, path, BROWSER_METHOD, backbone="TinyLM-1B", contact="tester@example.org",
                    link="https://example.org/browser-method")
    assert status.startswith(f"Added: {BROWSER_METHOD} (TinyLM-1B): CodeBLEU "), status
    store = LeaderboardStore(app.store)
    assert len(store.entries()) == before + 1 and store.check_integrity() == []

    open_tab(page, "Leaderboard")  # the submit event refreshed the board and its filters
    rows = wait_rows(page, "board-table", lambda rows: len(rows) == before + 1)
    page.shots.take(page, "board-with-submission")
    assert BROWSER_METHOD in column(page, "board-table", "Method")
    search = page.locator("#board-search textarea, #board-search input").first
    search.fill("browser")
    wait_rows(page, "board-table", lambda rows: len(rows) == 1)
    row = dict(zip(page.evaluate(TABLE_HEADERS_JS, "#board-table"), table_rows(page, "board-table")[0]))
    assert (row["Method"], row["Backbone"], row["Source"]) == (BROWSER_METHOD, "TinyLM-1B", "submission"), rows
    assert row["Contact"] == "tester@example.org"
    link = page.locator("#board-table .virtual-row a", has_text="Browser Net")
    assert link.get_attribute("href") == "https://example.org/browser-method"
    assert page.locator("#board-backbones label:has-text('TinyLM-1B')").is_visible()  # the new backbone's filter
    page.shots.take(page, "board-search-submission")


def _ids_rows(variant: int) -> list[dict]:
    codes = short_codes(variant=variant)
    return [{"id": item_id, "code": codes[item_id]} for item_id in sorted(codes)]


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


INVALID_UPLOADS = {
    # case: (file bytes, a distinctive part of the core's message)
    "missing-id": (lambda: _jsonl(_ids_rows(7)[:17] + _ids_rows(7)[18:]),
                   "1 DLCodeEval id(s) missing: 17 (every id 0..45 exactly once)"),
    "duplicate-id": (lambda: _jsonl(_ids_rows(7) + [_ids_rows(8)[9]]), "line 47: duplicate id 9 (first on line 10)"),
    "binary": (lambda: bytes(range(256)) * 64, "the file is binary (it contains NUL bytes)"),
    "oversized": (lambda: _jsonl([{"id": item_id, "code": "# " + "z" * 87_000} for item_id in range(46)]),
                  "the file is too large (4,"),
}


@pytest.mark.parametrize("case", list(INVALID_UPLOADS))
def test_invalid_upload_is_rejected_with_its_message(page, app, tmp_path, case):
    build, expected = INVALID_UPLOADS[case]
    data = build()
    if case == "oversized":
        assert 4_000_000 < len(data) < 8_000_000  # over the leaderboard's limit, under gradio's upload cap
    path = tmp_path / f"{case}.jsonl"
    path.write_bytes(data)
    entries = app.store / "entries.jsonl"
    before = hashlib.sha256(entries.read_bytes()).hexdigest()
    submissions_before = sorted(path.name for path in (app.store / "submissions").iterdir())
    status = upload(page, path, f"Invalid {case}")
    assert status.startswith("Rejected: ") and expected in status, status
    assert hashlib.sha256(entries.read_bytes()).hexdigest() == before
    assert sorted(path.name for path in (app.store / "submissions").iterdir()) == submissions_before


def test_apostrophes_are_shown_literally(page, app, tmp_path):
    """An apostrophe (allowed in names and contacts, and part of the core's own name-rule message) reads as one
    (it once showed as &#x27;: escape_markdown HTML-escaped it, then backslash-escaped the entity's #)."""
    path = tmp_path / "apostrophe.jsonl"
    path.write_bytes(submission_bytes(short_codes(variant=43)))
    status = upload(page, path, "Bad <name>")
    assert status.startswith("Rejected: method may use letters") and status.endswith(", ' only"), status
    page.reload()  # a fresh form (the file widget now shows the uploaded file, not its input)
    page.wait_for_selector("#requirement textarea")
    status = upload(page, path, "O'Neil Net", contact="Jo O'Neil")
    assert status.startswith("Added: O'Neil Net (none)"), status
    open_tab(page, "Leaderboard")
    page.locator("#board-search textarea, #board-search input").first.fill("neil")
    wait_rows(page, "board-table", lambda rows: len(rows) == 1)
    page.shots.take(page, "board-apostrophe")
    assert column(page, "board-table", "Method") == ["O'Neil Net"]
    assert column(page, "board-table", "Contact") == ["Jo O'Neil"]
