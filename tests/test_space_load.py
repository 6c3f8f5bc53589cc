"""The Space's leaderboard under load, through its HTTP API (`gradio_client`), on a real `python space/app.py`:
concurrent valid submissions all land exactly once, malformed ones are all rejected without touching the store, and
the board survives the app being killed (SIGKILL of its process group), even in the middle of a submission.

One app process (and store) for the module; the tests run in file order and build on each other's entries.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from space_app import SpaceApp, copy_store, short_codes, submission_bytes, unescape_markdown

pytestmark = pytest.mark.slow

SEEDED_ROWS = 13
VALID_COUNT = 20


def store_snapshot(store: Path) -> dict[str, str]:
    """sha256 of entries.jsonl and of every file under submissions/ (the lock file is left out)."""
    files = [store / "entries.jsonl", *sorted((store / "submissions").iterdir())]
    return {str(path.relative_to(store)): hashlib.sha256(path.read_bytes()).hexdigest() for path in files}


def cli_board(store: Path, data: Path) -> list[dict]:
    """`dlcodegen leaderboard show --json --dir STORE`: the board as the CLI reads the store."""
    done = subprocess.run([sys.executable, "-m", "dlcodegen.cli", "leaderboard", "show", "--json", "--dir", str(store),
                           "--data", str(data)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def table_methods(table) -> list[str]:
    """The Method column of a board table the API returned ({"headers", "data"}), unescaped and unlinked."""
    column = table["headers"].index("Method")
    names = []
    for row in table["data"]:
        shown = str(row[column])
        if shown.startswith("[") and "](" in shown:  # [name](link)
            shown = shown[1:shown.rindex("](")]
        names.append(unescape_markdown(shown))
    return names


def submit(client, path: Path, method: str, backbone: str = "none", contact: str = "", link: str = ""):
    from gradio_client import handle_file

    status, table = client.predict(handle_file(str(path)), method, backbone, contact, link, api_name="/submit")
    return unescape_markdown(status), table


@pytest.fixture(scope="module")
def app(tmp_path_factory, seeded_board_template, built_datasets):
    store = copy_store(seeded_board_template, tmp_path_factory.mktemp("space-load") / "board")
    with SpaceApp(store, built_datasets, log_path=store.parent / "app.log") as running:
        # let the Space's background scorer warm-up finish first: a submission sent meanwhile prepares the scorer a
        # second time in parallel (Scorer.prepare is not locked), which doubles the first submission's wait
        running.wait_idle(timeout=150)
        yield running


@pytest.fixture(scope="module")
def client(app):
    from gradio_client import Client

    return Client(app.url, verbose=False)


def test_concurrent_valid_submissions_land_exactly_once(app, client, tmp_path, built_datasets):
    from gradio_client import Client

    from dlcodegen.leaderboard.store import LeaderboardStore

    files = []
    for number in range(VALID_COUNT):
        path = tmp_path / f"valid-{number:02d}.jsonl"
        path.write_bytes(submission_bytes(short_codes(variant=number)))
        files.append((f"LoadTest {number:02d}", path))
    barrier = threading.Barrier(VALID_COUNT)

    def send(job):
        method, path = job
        own = Client(app.url, verbose=False)  # one client (one session) per submitter
        barrier.wait(timeout=120)
        started = time.monotonic()
        status, table = submit(own, path, method, backbone="LoadBackbone", contact="load@example.org")
        return method, status, table, time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=VALID_COUNT) as pool:
        results = list(pool.map(send, files))
    wall = time.monotonic() - started
    print(f"\n{VALID_COUNT} concurrent submissions answered in {wall:.1f} s "
          f"(slowest {max(r[3] for r in results):.1f} s)")

    for method, status, table, _ in results:
        assert status.startswith("Added: " + method), status
        assert method in table_methods(table)  # the answer's board already holds the new row
    store = LeaderboardStore(app.store)
    assert store.check_integrity() == []
    methods = [entry.method for entry in store.entries()]
    assert len(methods) == SEEDED_ROWS + VALID_COUNT
    rows = cli_board(app.store, built_datasets)
    shown = [row["method"] for row in rows]
    for method, _ in files:
        assert methods.count(method) == 1 and shown.count(method) == 1, method
    assert len({row["hash"] for row in rows}) == len(rows) == SEEDED_ROWS + VALID_COUNT
    by_method = {row["method"]: row for row in rows}
    assert by_method["LoadTest 07"]["source"] == "submission"
    assert by_method["LoadTest 07"]["contact"] == "load@example.org"
    assert 0 < by_method["LoadTest 07"]["codebleu"] < 100


def malformed_cases(ids: list[int]) -> list[tuple[str, bytes, dict, str]]:
    """(case, file bytes, metadata overrides, a distinctive part of the core's message) for 20+ bad submissions."""
    good = short_codes(variant=999)
    rows = [{"id": item_id, "code": good[item_id]} for item_id in ids]

    def lines(items) -> bytes:
        return "".join(json.dumps(item) + "\n" for item in items).encode()

    valid = lines(rows)
    big_code = "x = 1\n" * 40_000  # 240,000 bytes: over the 200,000-byte item limit
    return [
        ("missing ids", lines(rows[:-3]), {}, "3 DLCodeEval id(s) missing: 43, 44, 45"),
        ("duplicate id", lines(rows + [rows[5]]), {}, "duplicate id 5 (first on line 6)"),
        ("binary file", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, {}, "the file is binary"),
        ("bad JSON", valid.replace(b'{"id": 7,', b'{"id": 7', 1), {}, "line 8: not valid JSON"),
        ("unknown id", lines(rows + [{"id": 4600, "code": "x = 1"}]), {}, "unknown id 4600"),
        ("bad method name", valid, {"method": "<script>alert(1)</script>"}, "method may use letters"),
        ("empty file", b"", {}, "the file is empty"),
        ("whitespace only", b"\n \n\t\n", {}, "the file is empty"),
        ("non-UTF-8", valid.replace(b'"code": "', b'"code": "\xe9\xff', 1), {}, "not UTF-8 text"),
        ("id not an integer", valid.replace(b'{"id": 2,', b'{"id": "2",', 1), {}, "id must be an integer"),
        ("id is a boolean", lines([{"id": True, "code": "x"}] + rows), {}, "id must be an integer, got true"),
        ("code not a string", lines([{"id": 0, "code": ["x"]}] + rows[1:]), {}, "code must be a string"),
        ("unexpected key", lines([{**rows[0], "score": 1.0}] + rows[1:]), {}, "unexpected key(s) 'score'"),
        ("row not an object", b"[0, \"x\"]\n" + valid, {}, 'must be an object with "id" and "code"'),
        ("every code empty", lines([{"id": item_id, "code": "  "} for item_id in ids]), {},
         "every item's code is empty"),
        ("NUL inside a code", lines([{"id": 0, "code": "x = 1\u0000"}] + rows[1:]), {}, "contains NUL characters"),
        ("unpaired surrogate", valid.replace(b'"code": "', b'"code": "\\ud800', 1), {}, "unpaired surrogates"),
        ("item too large", lines([{"id": 0, "code": big_code}] + rows[1:]), {}, "the code of item 0 is too large"),
        ("file too large", lines([{"id": item_id, "code": "# " + "y" * 90_000} for item_id in ids]), {},
         "the file is too large"),
        ("missing backbone", valid, {"backbone": "  "}, "backbone is required"),
        ("method too long", valid, {"method": "M" * 61}, "method is too long (61 characters; at most 60)"),
        ("control character in method", valid, {"method": "Bad\u200bName"}, "method contains control or invisible"),
        ("link not http", valid, {"link": "javascript:alert(1)"}, "link must be an http:// or https:// URL"),
        ("contact with markup", valid, {"contact": "<img src=x>"}, "contact may not contain < > or `"),
    ]


def test_malformed_submissions_rejected_store_untouched(app, client, tmp_path):
    from dlcodegen.leaderboard.store import LeaderboardStore

    ids = list(range(46))
    cases = malformed_cases(ids)
    assert len(cases) >= 20
    before = store_snapshot(app.store)
    entries_before = len(LeaderboardStore(app.store).entries())
    failures = []
    for number, (case, data, meta, expected) in enumerate(cases):
        path = tmp_path / f"bad-{number:02d}.jsonl"
        path.write_bytes(data)
        args = {"method": f"Malformed {number:02d}", "backbone": "none", "contact": "", "link": "", **meta}
        status, table = submit(client, path, **args)
        if not (status.startswith("Rejected: ") and expected in status):
            failures.append(f"{case}: expected 'Rejected: ...{expected}...', got {status!r}")
        if len(table["data"]) != entries_before:
            failures.append(f"{case}: the returned board has {len(table['data'])} rows, not {entries_before}")
    assert not failures, "\n".join(failures)
    # no file at all: the Space's own message
    status, _ = client.predict(None, "No file", "none", "", "", api_name="/submit")
    assert unescape_markdown(status).startswith("Rejected: ") and "choose a .jsonl file" in unescape_markdown(status)
    assert store_snapshot(app.store) == before
    assert LeaderboardStore(app.store).check_integrity() == []


def test_resubmission_is_already_on_the_board(app, client, tmp_path):
    """The same generations under another name add nothing (the content hash decides)."""
    path = tmp_path / "again.jsonl"
    path.write_bytes(submission_bytes(short_codes(variant=3)))  # LoadTest 03's generations
    before = store_snapshot(app.store)
    status, _ = submit(client, path, "Renamed copy", backbone="other")
    assert status.startswith("Already on the board: the same generations were submitted as LoadTest 03"), status
    assert store_snapshot(app.store) == before


def config_board_methods(app) -> list[str]:
    """The Method column of the board table the page is served with (`/config`: the rows read at start-up)."""
    with urllib.request.urlopen(app.url + "config", timeout=30) as response:
        config = json.load(response)
    table = next(component["props"]["value"] for component in config["components"]
                 if component.get("props", {}).get("elem_id") == "board-table")
    return table_methods(table)


def test_board_survives_a_crash(app, client, tmp_path, built_datasets):
    """SIGKILL the app's process group while a submission is in flight, start it again on the same store: every
    entry is still there (the in-flight one completely or not at all), integrity holds, the restarted app shows the
    whole board and takes new submissions."""
    from gradio_client import Client, handle_file

    from dlcodegen.leaderboard.store import LeaderboardStore

    store = LeaderboardStore(app.store)
    before = {entry.hash: entry.method for entry in store.entries()}
    assert len(before) >= SEEDED_ROWS + VALID_COUNT  # after the concurrent test
    pending = []
    for number in range(3):  # three queued submissions of ~60 lines per item, scored a few seconds each
        path = tmp_path / f"in-flight-{number}.jsonl"
        codes = {item_id: code * 10 for item_id, code in short_codes(variant=600 + number).items()}
        path.write_bytes(submission_bytes(codes))
        pending.append(client.submit(handle_file(str(path)), f"In flight {number}", "none", "", "",
                                     api_name="/submit"))
    time.sleep(2.0)  # uploaded and being scored: the kill lands in the middle of the first (usually)
    app.kill()
    assert not app.running
    restarted = time.monotonic()
    app.start()
    print(f"\nrestarted in {time.monotonic() - restarted:.1f} s")

    after = {entry.hash: entry.method for entry in store.entries()}
    assert store.check_integrity() == []
    assert set(before) <= set(after)
    landed = sorted(set(after.values()) - set(before.values()))
    assert set(landed) <= {"In flight 0", "In flight 1", "In flight 2"}
    print(f"in flight at the kill: {len(landed)} of 3 landed completely ({', '.join(landed) or 'none'}), "
          "the others left no trace")
    assert sorted(config_board_methods(app)) == sorted(after.values())  # the restarted page's board

    fresh = Client(app.url, verbose=False)
    path = tmp_path / "after-restart.jsonl"  # a resubmission answers with the whole board, adding nothing
    path.write_bytes(submission_bytes(short_codes(variant=0)))
    status, table = submit(fresh, path, "Again")
    assert status.startswith("Already on the board: the same generations were submitted as LoadTest 00"), status
    assert sorted(table_methods(table)) == sorted(after.values())
    assert sorted(row["method"] for row in cli_board(app.store, built_datasets)) == sorted(after.values())

    app.wait_idle(timeout=150)  # the restarted app prepares its scorer again (see the fixture)
    path.write_bytes(submission_bytes(short_codes(variant=700)))  # and the restarted app still adds
    status, table = submit(fresh, path, "After restart")
    assert status.startswith("Added: After restart"), status
    assert sorted(table_methods(table)) == sorted([*after.values(), "After restart"])
    assert store.check_integrity() == []
