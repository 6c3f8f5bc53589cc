"""The leaderboard core: submission validation, the append-only store (also across processes), scoring, the
service, the board rows, the Hub mirror's off switch and `dlcodegen leaderboard submit/show`."""

from __future__ import annotations

import fcntl
import html
import json
import multiprocessing
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from leaderboard_helpers import write_unversioned_line

from dlcodegen.leaderboard.board import NUMBER_COLUMNS, board_rows, display_rows, filter_rows, format_board
from dlcodegen.leaderboard.store import (ENTRIES_FILE, LEADERBOARD_DIR_ENV, LOCK_FILE, Entry, LeaderboardStore,
                                         StoreError, default_dir)
from dlcodegen.leaderboard.submission import (SubmissionError, SubmissionLimits, check_meta, content_hash,
                                              escape_markdown, parse_codes, read_submission)

IDS = [1, 2, 3]
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def jsonl(rows, ensure_ascii: bool = False) -> bytes:
    return "".join(json.dumps(row, ensure_ascii=ensure_ascii) + "\n" for row in rows).encode("utf-8")


def rows_of(codes: dict[int, str]) -> list[dict]:
    return [{"id": item_id, "code": code} for item_id, code in sorted(codes.items())]


def one_line(message: str) -> str:
    assert message and "\n" not in message and "\r" not in message, repr(message)
    return message


def rejected(data: bytes, fragment: str, ids=IDS, limits: SubmissionLimits = SubmissionLimits()) -> str:
    with pytest.raises(SubmissionError) as info:
        parse_codes(data, ids, limits)
    message = one_line(str(info.value))
    assert fragment in message, message
    return message


def make_entry(codes: dict[int, str], method: str = "M", backbone: str = "B", source: str = "submission",
               codebleu: float = 10.0, **extra) -> Entry:
    return Entry(content_hash(codes), method, backbone, "2024-05-01T12:00:00+00:00", source,
                 {"codebleu": codebleu, "calibrated_codebleu": 1.0, "mean_lines": 3.0}, items=len(codes), **extra)


def store_files(directory: Path) -> dict[str, bytes]:
    return {str(path.relative_to(directory)): path.read_bytes()
            for path in sorted(directory.rglob("*")) if path.is_file()}


# ---------------------------------------------------------------------------------------------------------------
# Validation of the rows


GOOD = jsonl(rows_of({1: "import torch\n", 2: "x = 1\n", 3: "print('hi')\n"}))


@pytest.mark.parametrize("data, fragment", [
    (b"", "the file is empty"),
    (b" \n\n\t\n", "the file is empty"),
    (b"\xff\xfe{\"id\": 1, \"code\": \"x\"}\n", "not UTF-8 text (invalid byte at offset 0)"),
    (b'{"id": 1, "code": "a\x00b"}\n', "the file is binary (it contains NUL bytes)"),
    (b"{id: 1, code: 'x'}\n", "line 1: not valid JSON"),
    (GOOD.splitlines(keepends=True)[0] + b"not json at all\n", "line 2: not valid JSON"),
    (b'[1, "x"]\n', 'line 1: each line must be an object with "id" and "code"'),
    (b'"just a string"\n', 'line 1: each line must be an object with "id" and "code"'),
    (b'{"code": "x"}\n', 'line 1: each line must be an object with "id" and "code"'),
    (b'{"id": 1}\n', 'line 1: each line must be an object with "id" and "code"'),
    (b'{"id": 1, "code": "x", "extra": 1}\n', "line 1: unexpected key(s) 'extra'"),
    (b'{"id": true, "code": "x"}\n', "line 1: id must be an integer, got true"),
    (b'{"id": "1", "code": "x"}\n', 'line 1: id must be an integer, got "1"'),
    (b'{"id": 1.0, "code": "x"}\n', "line 1: id must be an integer, got 1.0"),
    (b'{"id": 1, "code": 5}\n', "line 1: code must be a string (item 1)"),
    (b'{"id": 1, "code": null}\n', "line 1: code must be a string (item 1)"),
    (b'{"id": 1, "code": ["x"]}\n', "line 1: code must be a string (item 1)"),
    (b'{"id": 1, "code": "a\\u0000b"}\n', "line 1: the code of item 1 contains NUL characters"),
    (b'{"id": 1, "code": "x = \\"\\ud800\\""}\n', "line 1: the code of item 1 holds unpaired surrogates"),
    (b'{"id": 99, "code": "x"}\n', "line 1: unknown id 99; DLCodeEval ids are 1..3"),
    (jsonl(rows_of({1: "x"})), "2 DLCodeEval id(s) missing: 2, 3 (every id 1..3 exactly once)"),
    (jsonl(rows_of({1: "", 2: "  \n", 3: "\t"})), "every item's code is empty"),
])
def test_invalid_rows_are_rejected_with_one_line(data, fragment):
    rejected(data, fragment)


def test_duplicate_id_names_both_lines():
    data = jsonl([{"id": 1, "code": "a"}, {"id": 2, "code": "b"}, {"id": 3, "code": "c"}, {"id": 2, "code": "d"}])
    message = rejected(data, "line 4: duplicate id 2 (first on line 2)")
    assert message.startswith("line 4:")


def test_missing_ids_are_named_and_cut_after_ten():
    ids = list(range(100, 130))
    message = rejected(jsonl([{"id": 100, "code": "x"}]), "29 DLCodeEval id(s) missing: 101, 102,", ids=ids)
    assert "110 ..." in message and "111" not in message
    assert "100..129" in message


def test_file_too_large_is_checked_before_anything_else():
    limits = SubmissionLimits(max_file_bytes=len(GOOD) - 1)
    rejected(GOOD, f"the file is too large ({len(GOOD):,} bytes; at most {len(GOOD) - 1:,})", limits=limits)
    assert parse_codes(GOOD, IDS, SubmissionLimits(max_file_bytes=len(GOOD))) == {1: "import torch\n", 2: "x = 1\n",
                                                                                  3: "print('hi')\n"}


def test_item_too_large():
    data = jsonl(rows_of({1: "x" * 11, 2: "y", 3: "z"}))
    limits = SubmissionLimits(max_item_bytes=10)
    rejected(data, "line 1: the code of item 1 is too large (11 bytes; at most 10)", limits=limits)
    # measured in UTF-8 bytes, not characters: 4 x "é" is 8 bytes
    data = jsonl(rows_of({1: "é" * 6, 2: "y", 3: "z"}))
    rejected(data, "the code of item 1 is too large (12 bytes; at most 10)", limits=limits)
    assert parse_codes(jsonl(rows_of({1: "é" * 5, 2: "y", 3: "z"})), IDS, limits)[1] == "é" * 5


def test_good_rows_accepted_with_bench_keys_and_blank_lines():
    rows = [{"id": 3, "code": "c = 3\n", "verify": "train_step", "verify_before_repair": "build"},
            {"id": 1, "code": "a = 1\n", "verify": None, "plan": {"Task Category": "Image Classification"}},
            {"id": 2, "code": "", "verify": "import"}]
    data = b"\n" + jsonl(rows) + b"\n   \n"
    assert parse_codes(data, IDS) == {1: "a = 1\n", 2: "", 3: "c = 3\n"}
    # CRLF line ends are fine too
    assert parse_codes(data.replace(b"\n", b"\r\n"), IDS) == {1: "a = 1\n", 2: "", 3: "c = 3\n"}


def test_read_submission_carries_meta_and_hash():
    meta = check_meta("My method", "GPT-4o-mini")
    submission = read_submission(GOOD, meta, IDS)
    assert submission.meta is meta
    assert submission.codes == parse_codes(GOOD, IDS)
    assert submission.content_hash == content_hash(submission.codes)
    assert HEX64.match(submission.content_hash)


def test_content_hash_ignores_row_order_and_sees_one_character():
    codes = {1: "import torch\n", 2: "x = 1\n", 3: "print('hi')\n"}
    forward = parse_codes(jsonl(rows_of(codes)), IDS)
    backward = parse_codes(jsonl(list(reversed(rows_of(codes)))), IDS)
    escaped = parse_codes(jsonl(rows_of(codes), ensure_ascii=True) + b"\n", IDS)
    assert content_hash(forward) == content_hash(backward) == content_hash(escaped)
    changed = parse_codes(jsonl(rows_of({**codes, 2: "x = 2\n"})), IDS)
    assert content_hash(changed) != content_hash(forward)
    assert content_hash({**codes, 3: codes[3] + " "}) != content_hash(codes)
    # id and code are bound together: swapping codes between ids is another submission
    assert content_hash({1: "a", 2: "b"}) != content_hash({1: "b", 2: "a"})


# ---------------------------------------------------------------------------------------------------------------
# Validation of who submitted it


@pytest.mark.parametrize("kwargs, fragment", [
    ({"method": "", "backbone": "B"}, "method is required"),
    ({"method": "   ", "backbone": "B"}, "method is required"),
    ({"method": None, "backbone": "B"}, "method is required"),
    ({"method": "M", "backbone": ""}, "backbone is required"),
    ({"method": 5, "backbone": "B"}, "method must be text"),
    ({"method": "M" * 61, "backbone": "B"}, "method is too long (61 characters; at most 60)"),
    ({"method": "M", "backbone": "B" * 61}, "backbone is too long (61 characters; at most 60)"),
    ({"method": "evil\u202emethod", "backbone": "B"}, "method contains control or invisible characters"),
    ({"method": "M", "backbone": "bell\x07"}, "backbone contains control or invisible characters"),
    ({"method": "zero\u200bwidth", "backbone": "B"}, "method contains control or invisible characters"),
    ({"method": "<script>alert(1)</script>", "backbone": "B"}, "method may use letters, digits, spaces and"),
    ({"method": "M", "backbone": "a|b"}, "backbone may use letters, digits, spaces and"),
    ({"method": "M", "backbone": "B", "contact": "x" * 101}, "contact is too long (101 characters; at most 100)"),
    ({"method": "M", "backbone": "B", "contact": "me <me@example.com>"}, "contact may not contain < > or `"),
    ({"method": "M", "backbone": "B", "contact": "`code`"}, "contact may not contain < > or `"),
    ({"method": "M", "backbone": "B", "contact": "a\x1b[31mred"}, "contact contains control or invisible"),
    ({"method": "M", "backbone": "B", "link": "javascript:alert(1)"}, "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": "ftp://example.com/x"}, "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": "https://example.com/a b"}, "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": 'https://example.com/"onmouseover="x'},
     "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": "https://example.com/'x"}, "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": "https://example.com/<x>"}, "link must be an http:// or https:// URL"),
    ({"method": "M", "backbone": "B", "link": "https://" + "a" * 300}, "link is too long"),
])
def test_invalid_meta_is_rejected_with_one_line(kwargs, fragment):
    with pytest.raises(SubmissionError) as info:
        check_meta(**kwargs)
    message = one_line(str(info.value))
    assert fragment in message, message


def test_good_meta_is_accepted_and_stripped():
    meta = check_meta("  DLCodeGen (v2) + repair: r2 #1 & co, it's [beta]/x@y.z ", "\tGPT-4o-mini\n",
                      " Jane Doe, jane@example.com ", " https://example.com/paper?x=1&y=2#s ")
    assert meta.method == "DLCodeGen (v2) + repair: r2 #1 & co, it's [beta]/x@y.z"
    assert meta.backbone == "GPT-4o-mini"
    assert meta.contact == "Jane Doe, jane@example.com"
    assert meta.link == "https://example.com/paper?x=1&y=2#s"
    assert check_meta("Méthode 2", "Qwen2.5-Coder-7B").method == "Méthode 2"
    assert check_meta("M" * 60, "B").method == "M" * 60
    bare = check_meta("M", "B", None, None)
    assert (bare.contact, bare.link) == ("", "")
    assert check_meta("M", "B", link="http://example.com").link == "http://example.com"


# ---------------------------------------------------------------------------------------------------------------
# Markdown escaping


MARKDOWN_SPECIALS = "\\`*_{}[]()#+-.!|~>:"


@pytest.mark.parametrize("text", ["[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "**bold**", "a | b",
                                  "_under_ `tick` # head ~strike~ {x} !x -y +z 1. a > q \\n", 'x & y "q"'])
def test_escape_markdown_renders_literally(text):
    from markdown_it import MarkdownIt

    escaped = escape_markdown(text)
    assert "<" not in escaped
    # every markdown special character is backslash-escaped: removing the escapes leaves none
    unescaped_specials = re.sub(r"\\[" + re.escape(MARKDOWN_SPECIALS) + "]", "", escaped)
    assert not set(unescaped_specials) & set(MARKDOWN_SPECIALS), (text, escaped)
    rendered = MarkdownIt().renderInline(escaped)
    for tag in ("<a", "<img", "<strong", "<em", "<code", "<s>", "<del"):
        assert tag not in rendered, rendered
    assert html.unescape(rendered) == text


def test_escape_markdown_shows_an_apostrophe():
    from markdown_it import MarkdownIt

    assert html.unescape(MarkdownIt().renderInline(escape_markdown("it's"))) == "it's"


def test_escape_markdown_examples():
    assert escape_markdown("[x](javascript:alert(1))") == r"\[x\]\(javascript\:alert\(1\)\)"
    assert "https://" not in escape_markdown("see https://evil.example") and "www." not in escape_markdown("www.x.org")
    assert escape_markdown("**bold**") == r"\*\*bold\*\*"
    assert escape_markdown("a|b") == r"a\|b"
    assert escape_markdown("<img src=x onerror=alert(1)>") == r"&lt;img src=x onerror=alert\(1\)&gt;"


# ---------------------------------------------------------------------------------------------------------------
# Regressions: bugs found while writing these tests


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_bench_rows_holding_unicode_line_separators_are_accepted(separator):
    codes = {1: f"note = 'a{separator}b'\n", 2: "y = 2\n", 3: "z = 3\n"}
    assert parse_codes(jsonl(rows_of(codes), ensure_ascii=False), IDS) == codes


def test_store_round_trips_codes_holding_unicode_line_separators(tmp_path):
    codes = parse_codes(jsonl(rows_of({1: "s = 'a\u2028b'\n", 2: "y\n", 3: "z\n"}), ensure_ascii=True), IDS)
    store = LeaderboardStore(tmp_path / "board")
    store.append(make_entry(codes), codes)
    assert store.check_integrity() == []
    assert store.codes(content_hash(codes)) == codes


def test_contact_with_line_separator_cannot_break_the_board(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    first = {1: "a\n", 2: "b\n", 3: "c\n"}
    store.append(make_entry(first), first)
    try:
        meta = check_meta("M", "B", contact="Jane\u2028Doe")
    except SubmissionError:
        return  # rejecting it is fine
    codes = {1: "x\n", 2: "y\n", 3: "z\n"}
    store.append(make_entry(codes, method=meta.method, contact=meta.contact), codes)
    assert [entry.contact for entry in store.entries()] == ["", meta.contact]


def test_link_cannot_inject_a_second_markdown_link():
    from markdown_it import MarkdownIt

    link = "https://example.com/a)[Verified](https://evil.example/"
    try:
        meta = check_meta("M", "B", link=link)
    except SubmissionError:
        return  # rejecting it is fine
    row = board_rows([make_entry({1: "x"}, link=meta.link)])
    shown = display_rows(row)[0]["method"]
    rendered = MarkdownIt().renderInline(shown)
    assert rendered.count("<a ") == 1 and "evil.example" not in rendered.split("</a>", 1)[1], rendered


def test_errors_derive_from_the_package_error_classes(tmp_path):
    from dlcodegen.core.errors import InputError, MissingError, ServiceError, UserError
    from dlcodegen.leaderboard.store import CorruptStoreError

    assert issubclass(SubmissionError, InputError) and issubclass(StoreError, ServiceError)
    assert issubclass(CorruptStoreError, StoreError) and issubclass(CorruptStoreError, InputError)
    with pytest.raises(SubmissionError) as info:
        open_board(tmp_path / "board", tmp_path).validate_file(tmp_path / "absent.jsonl", "M", "B")
    assert isinstance(info.value, MissingError) and isinstance(info.value, UserError)


@pytest.mark.parametrize("line, fragment", [(b"{not json\n", "line 2: not valid JSON"),
                                            (b"[1, 2]\n", "line 2 is not an entry")])
def test_a_corrupt_entry_line_is_a_one_line_store_error(tmp_path, line, fragment):
    from dlcodegen.leaderboard.store import CorruptStoreError

    store = LeaderboardStore(tmp_path / "board")
    codes = {1: "a"}
    store.append(make_entry(codes), codes)
    with open(store.entries_path, "ab") as handle:
        handle.write(line)
    with pytest.raises(CorruptStoreError) as info:
        store.entries()
    message = one_line(str(info.value))
    assert fragment in message and str(store.entries_path) in message


def test_check_integrity_reports_a_line_that_is_not_an_object(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    codes = {1: "a"}
    store.append(make_entry(codes), codes)
    with open(store.entries_path, "ab") as handle:
        handle.write(b"null\n")
    problems = store.check_integrity()
    assert any(problem.startswith("line 2: unreadable") for problem in problems), problems


# ---------------------------------------------------------------------------------------------------------------
# Store


def test_append_then_entries_round_trip_and_reopen(tmp_path):
    directory = tmp_path / "board"
    store = LeaderboardStore(directory)
    assert store.entries() == [] and store.check_integrity() == []
    first_codes, second_codes = {1: "a = 1\n", 2: "b"}, {1: "c = 3\n", 2: "d é ü\n"}
    first = make_entry(first_codes, method="First", contact="me", link="https://example.com", notes=["n"])
    second = make_entry(second_codes, method="Second", codebleu=20.0)
    assert store.append(first, first_codes) == (first, True)
    assert store.append(second, second_codes) == (second, True)
    assert store.entries() == [first, second]
    assert store.codes(first.hash) == first_codes and store.codes(second.hash) == second_codes
    assert store.find(second.hash) == second and store.find("0" * 64) is None
    assert store.entries_path.read_bytes().count(b"\n") == 2
    reopened = LeaderboardStore(directory)
    assert reopened.entries() == [first, second]
    assert reopened.codes(second.hash) == second_codes
    assert reopened.check_integrity() == []
    assert sorted(path.name for path in (directory / "submissions").iterdir()) == sorted(
        [f"{first.hash}.jsonl", f"{second.hash}.jsonl"])


def test_same_hash_twice_keeps_one_line(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    codes = {1: "a", 2: "b"}
    original = make_entry(codes, method="Original")
    store.append(original, codes)
    before = store.entries_path.read_bytes()
    again = make_entry(codes, method="Renamed", codebleu=99.0)
    existing, added = store.append(again, codes)
    assert added is False and existing == original
    assert store.entries_path.read_bytes() == before
    assert [entry.method for entry in store.entries()] == ["Original"]



def test_supersede_appends_a_newer_line_that_replaces_the_old_on_the_board(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    old_codes, other_codes = {1: "a = 1\n", 2: "b"}, {1: "c\n", 2: "d\n"}
    old = make_entry(old_codes, method="Old", codebleu=30.0)
    write_unversioned_line(store, old, old_codes)
    other = make_entry(other_codes, method="Other", scorer="2")
    store.append(other, other_codes)
    assert [entry.scorer for entry in store.entries()] == ["", "2"]
    assert store.check_integrity() == []  # the old line's checksum still holds

    newer = make_entry(old_codes, method="Old", codebleu=25.0, scorer="2")
    assert store.supersede(newer) is True
    assert store.supersede(newer) is False  # the same scorer again: nothing appended
    assert len(store.entries()) == 3
    assert store.current() == [newer, other]  # the submission keeps its place, with its newer scores
    assert store.find(old.hash) == newer
    assert store.check_integrity() == []
    with pytest.raises(KeyError):
        store.supersede(make_entry({1: "never added"}, scorer="2"))

    # the same hash twice under one scorer is still a duplicate
    lines = store.entries_path.read_text(encoding="utf-8").splitlines(keepends=True)
    with open(store.entries_path, "a", encoding="utf-8") as handle:
        handle.write(lines[-1])
    assert f"line 4: duplicate hash {old.hash[:12]}" in store.check_integrity()


def test_torn_last_line_is_ignored_reported_and_trimmed(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    entries = []
    for index in range(2):
        codes = {1: f"code {index}"}
        entries.append(make_entry(codes, method=f"E{index}"))
        store.append(entries[-1], codes)
    sound = store.entries_path.read_bytes()
    torn = json.dumps(make_entry({1: "torn"}, method="Torn").record()).encode()[:57]
    with open(store.entries_path, "ab") as handle:
        handle.write(torn)
    assert store.entries() == entries
    problems = store.check_integrity()
    assert "the last line of entries.jsonl is incomplete" in problems
    codes = {1: "after"}
    after = make_entry(codes, method="After")
    assert store.append(after, codes) == (after, True)
    data = store.entries_path.read_bytes()
    assert data.startswith(sound) and data.endswith(b"\n") and b"Torn" not in data
    assert store.entries() == entries + [after]
    assert store.check_integrity() == []


def test_check_integrity_detects_tampering(tmp_path):
    store = LeaderboardStore(tmp_path / "board")
    codes = [{1: f"code {index}\n", 2: "shared\n"} for index in range(3)]
    entries = [make_entry(item, method=f"E{index}") for index, item in enumerate(codes)]
    for entry, item in zip(entries, codes):
        store.append(entry, item)
    assert store.check_integrity() == []

    # a score edited by hand
    lines = store.entries_path.read_text(encoding="utf-8").splitlines(keepends=True)
    record = json.loads(lines[0])
    record["scores"]["codebleu"] = 99.0
    lines[0] = json.dumps(record, ensure_ascii=False) + "\n"
    store.entries_path.write_text("".join(lines), encoding="utf-8")
    assert store.check_integrity() == ["line 1: checksum mismatch"]

    # a deleted submission file
    (store.submissions_dir / f"{entries[1].hash}.jsonl").unlink()
    problems = store.check_integrity()
    assert f"line 2: submission file for {entries[1].hash[:12]} missing or unreadable" in problems

    # a submission file whose content no longer matches
    (store.submissions_dir / f"{entries[2].hash}.jsonl").write_text(
        json.dumps({"id": 1, "code": "code 2 changed\n"}) + "\n" + json.dumps({"id": 2, "code": "shared\n"}) + "\n",
        encoding="utf-8")
    problems = store.check_integrity()
    assert f"line 3: submission file does not match hash {entries[2].hash[:12]}" in problems
    assert len(problems) == 3

    # a duplicated line
    with open(store.entries_path, "a", encoding="utf-8") as handle:
        handle.write(lines[1])
    assert f"line 4: duplicate hash {entries[1].hash[:12]}" in store.check_integrity()


def test_default_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(LEADERBOARD_DIR_ENV, str(tmp_path / "from-env"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_dir() == tmp_path / "from-env"
    assert LeaderboardStore().directory == tmp_path / "from-env"
    assert default_dir(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv(LEADERBOARD_DIR_ENV)
    assert default_dir() == tmp_path / "xdg" / "dlcodegen" / "leaderboard"
    assert LeaderboardStore().entries_path == tmp_path / "xdg" / "dlcodegen" / "leaderboard" / ENTRIES_FILE
    monkeypatch.setenv(LEADERBOARD_DIR_ENV, "")
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_dir() == tmp_path / "home" / ".local" / "share" / "dlcodegen" / "leaderboard"
    monkeypatch.setenv(LEADERBOARD_DIR_ENV, "~/board")
    assert default_dir() == tmp_path / "home" / "board"


WRITERS, PER_WRITER = 8, 5
SHARED_CODES = {1: "shared by every writer\n"}


def _concurrent_writer(directory: str, index: int, barrier) -> None:
    """One process: 5 entries of its own and, in the middle, the entry every process tries to add."""
    store = LeaderboardStore(directory)
    barrier.wait(timeout=120)
    for number in range(PER_WRITER):
        codes = {1: f"writer {index} entry {number}\n", 2: "x" * (index * 1000 + number)}
        store.append(make_entry(codes, method=f"w{index}-{number}"), codes)
        if number == 2:
            store.append(make_entry(SHARED_CODES, method=f"shared-by-{index}"), SHARED_CODES)


def test_concurrent_writers_across_processes(tmp_path):
    directory = tmp_path / "board"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    processes = [context.Process(target=_concurrent_writer, args=(str(directory), index, barrier))
                 for index in range(WRITERS)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=240)
    assert [process.exitcode for process in processes] == [0] * WRITERS
    store = LeaderboardStore(directory)
    data = store.entries_path.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == WRITERS * PER_WRITER + 1
    entries = store.entries()
    hashes = [entry.hash for entry in entries]
    assert len(entries) == WRITERS * PER_WRITER + 1 and len(set(hashes)) == len(hashes)
    expected = {content_hash({1: f"writer {i} entry {n}\n", 2: "x" * (i * 1000 + n)})
                for i in range(WRITERS) for n in range(PER_WRITER)} | {content_hash(SHARED_CODES)}
    assert set(hashes) == expected
    assert sum(entry.method.startswith("shared-by-") for entry in entries) == 1
    assert store.check_integrity() == []
    leftovers = [path.name for path in directory.rglob("*") if path.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), RuntimeError("boom")])
def test_failing_writer_leaves_nothing(tmp_path, monkeypatch, failure):
    import dlcodegen.files

    store = LeaderboardStore(tmp_path / "board")
    codes = {1: "kept\n"}
    store.append(make_entry(codes, method="Kept"), codes)
    before = store_files(store.directory)
    lock_held = []
    real_replace = os.replace

    def failing_replace(source, target, *args, **kwargs):
        if str(target).endswith(".jsonl") and Path(target).parent == store.submissions_dir:
            with open(store.directory / LOCK_FILE, "a") as handle:  # the writer holds the store's lock now
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    lock_held.append(True)
                else:
                    fcntl.flock(handle, fcntl.LOCK_UN)
                    lock_held.append(False)
            assert Path(source).exists()  # the temporary file was written
            raise failure
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(dlcodegen.files.os, "replace", failing_replace)
    new_codes = {1: "never stored\n"}
    expected_error = StoreError if isinstance(failure, OSError) else type(failure)
    with pytest.raises(expected_error) as info:
        store.append(make_entry(new_codes, method="Lost"), new_codes)
    if isinstance(failure, OSError):
        assert "No space left on device" in one_line(str(info.value))
    assert lock_held == [True]
    monkeypatch.undo()
    after = store_files(store.directory)
    assert after == before | {LOCK_FILE: after.get(LOCK_FILE, b"")}
    assert store.entries() == [make_entry(codes, method="Kept")] and store.check_integrity() == []


# ---------------------------------------------------------------------------------------------------------------
# Scoring


def generation_codes(generations, method: str, backbone: str) -> dict[int, str]:
    return {row["id"]: row["generation"] for row in generations
            if row["method"] == method and row["backbone"] == backbone}


def short_codes(generations, tag: str, lines: int = 15) -> dict[int, str]:
    """A quick-to-score submission of its own: the first lines of the released Direct generations, tagged."""
    return {item_id: "\n".join(code.splitlines()[:lines]) + f"\n# {tag}\n"
            for item_id, code in generation_codes(generations, "Direct", "GPT-4o-mini").items()}


@pytest.fixture(scope="module")
def scorer(built_datasets):
    from dlcodegen.leaderboard.scoring import Scorer, ScoringConfig

    built = Scorer.from_data(built_datasets, ScoringConfig(draws=2))
    built.prepare()
    return built


@pytest.fixture(scope="module")
def dlcodegen_scores(scorer, generations):
    return scorer.score(generation_codes(generations, "DLCodeGen", "DeepSeek-V2.5"))


def test_scorer_matches_score_codebleu(scorer, generations, dlcodegen_scores):
    from dlcodegen.metrics.scoring import score_codebleu

    codes = generation_codes(generations, "DLCodeGen", "DeepSeek-V2.5")
    assert sorted(codes) == sorted(scorer.ids) and len(codes) == 46
    reference = score_codebleu([codes[item.id] for item in scorer.items], [item.reference for item in scorer.items],
                               normalize_mode="dlcodegen")
    assert abs(dlcodegen_scores["codebleu"] - reference["codebleu"]) < 0.1
    assert abs(dlcodegen_scores["ngram"] - reference["ngram_match_score"]) < 0.1
    assert abs(dlcodegen_scores["syntax"] - reference["syntax_match_score"]) < 0.1
    for name in ("codebleu", "ngram", "weighted_ngram", "syntax", "dataflow", "adherence"):
        assert 0.0 <= dlcodegen_scores[name] <= 100.0, name
    assert 0.0 < dlcodegen_scores["codebleu"] < 100.0
    lines = [len(codes[item_id].splitlines()) for item_id in scorer.ids]
    assert dlcodegen_scores["mean_lines"] == pytest.approx(sum(lines) / len(lines), abs=1e-4)
    references = [len(item.reference.splitlines()) for item in scorer.items]
    assert dlcodegen_scores["reference_mean_lines"] == pytest.approx(sum(references) / len(references), abs=1e-4)
    assert dlcodegen_scores["calibration_draws"] == 2
    assert dlcodegen_scores["calibrated_codebleu"] > 2.0  # the paper's method beats an unrelated notebook


def test_references_score_far_above_the_generations(scorer, dlcodegen_scores):
    scores = scorer.score({item.id: item.reference for item in scorer.items})
    assert scores["codebleu"] > 95.0 > dlcodegen_scores["codebleu"] + 50
    assert scores["calibrated_codebleu"] > dlcodegen_scores["calibrated_codebleu"] + 40
    assert scores["mean_lines"] == scores["reference_mean_lines"]


def test_truncated_random_sibling_gains_nothing_after_calibration(scorer, dlcodegen_scores):
    from dlcodegen.generator.retrieve import random_sibling

    codes = {item.id: "\n".join(random_sibling(scorer.pool, item.requirement, item.id, 1000).sample.code
                                .splitlines()[:50]) for item in scorer.items}
    scores = scorer.score(codes)
    assert scores["codebleu"] > 5.0  # raw CodeBLEU rewards any notebook-like text...
    assert abs(scores["calibrated_codebleu"]) < 1.5  # ...the calibrated score does not
    assert scores["calibrated_codebleu"] < dlcodegen_scores["calibrated_codebleu"] - 2.0


def test_scoring_is_deterministic(scorer, generations):
    codes = short_codes(generations, "determinism", lines=8)
    first, second = scorer.score(codes), scorer.score(dict(reversed(list(codes.items()))))
    assert first == second
    assert scorer.score(codes) == first


# ---------------------------------------------------------------------------------------------------------------
# Service


def open_board(directory, built_datasets, scorer=None, **config):
    from dlcodegen.leaderboard.service import Leaderboard, LeaderboardConfig

    return Leaderboard(LeaderboardConfig(directory=directory, data_path=built_datasets, **config), scorer=scorer)


def test_seeded_store_holds_the_paper_and_the_baselines(seeded_board_template):
    from dlcodegen.paper import TABLE2

    store = LeaderboardStore(seeded_board_template)
    entries = store.entries()
    assert len(entries) == 13
    paper = {(entry.backbone, entry.method): entry for entry in entries if entry.source == "paper"}
    assert set(paper) == set(TABLE2)
    for key, entry in paper.items():
        assert entry.scores["paper_codebleu"] == TABLE2[key][-1]
        assert abs(entry.scores["codebleu"] - TABLE2[key][-1]) <= 2.5, (key, entry.scores["codebleu"])
        assert entry.items == 46
    baselines = [entry for entry in entries if entry.source == "baseline"]
    assert sorted(entry.method for entry in baselines) == ["offline", "random-sibling", "retrieval-only"]
    assert {entry.backbone for entry in baselines} == {"none"}
    assert all(entry.scores["paper_codebleu"] is None for entry in baselines)
    for entry in entries:
        assert isinstance(entry.scores["verify_rate"], float) and 0.0 <= entry.scores["verify_rate"] <= 100.0
        assert HEX64.match(entry.hash)
    assert store.check_integrity() == []


def test_submit_ranks_the_new_row_and_refuses_duplicates(seeded_board, built_datasets, scorer, generations):
    board = open_board(seeded_board, built_datasets, scorer)
    assert board.seed(progress=False) == 0
    codes = short_codes(generations, "service")
    data = jsonl(list(reversed(rows_of(codes))))
    result = board.submit(data, " Short Direct ", "GPT-4o-mini", contact="jane@example.com",
                          link="https://example.com/short")
    assert result.added is True
    assert result.message.startswith("added Short Direct (GPT-4o-mini): CodeBLEU ")
    entry = result.entry
    assert entry.source == "submission" and entry.method == "Short Direct" and entry.hash == content_hash(codes)
    assert entry.items == 46 and entry.scores == scorer.score(codes)
    assert board.store.codes(entry.hash) == codes

    rows = board.rows()
    assert len(rows) == 14
    assert [row["rank"] for row in rows] == list(range(1, 15))
    scores = [row["codebleu"] for row in rows]
    assert scores == sorted(scores, reverse=True)
    mine = [row for row in rows if row["hash"] == entry.hash]
    assert len(mine) == 1 and mine[0]["source"] == "submission" and mine[0]["link"] == "https://example.com/short"
    assert mine[0]["rank"] == 1 + sum(score > entry.scores["codebleu"] for score in scores)
    assert board.store.check_integrity() == []

    before = board.store.entries_path.read_bytes()
    again = board.submit(jsonl(rows_of(codes)), "Another name", "Another backbone")
    assert again.added is False and again.entry == entry
    assert again.message.startswith("already on the board: the same generations were submitted as Short Direct")
    assert board.store.entries_path.read_bytes() == before and board.rows() == rows

    # a released set under a new name is already there too
    paper = board.submit(jsonl(rows_of(generation_codes(generations, "PS", "GPT-4o-mini"))), "Mine", "Mine")
    assert paper.added is False and (paper.entry.method, paper.entry.source) == ("PS", "paper")
    assert board.store.entries_path.read_bytes() == before



def test_rescore_scores_stale_entries_again_from_their_stored_code(tmp_path, built_datasets, scorer, generations):
    from dlcodegen.leaderboard.scoring import SCORER_VERSION

    board = open_board(tmp_path / "board", built_datasets, scorer)
    codes = short_codes(generations, "rescore")
    stale = make_entry(codes, method="Scored long ago", codebleu=99.0)
    stale.scores["paper_codebleu"] = 12.5
    write_unversioned_line(board.store, stale, codes)
    assert [entry.hash for entry in board.stale()] == [stale.hash]

    assert board.rescore(progress=False) == 1
    assert board.stale() == [] and board.rescore(progress=False) == 0
    (entry,) = board.store.current()
    assert entry.scorer == SCORER_VERSION and (entry.method, entry.date) == (stale.method, stale.date)
    assert entry.scores == {**scorer.score(codes), "paper_codebleu": 12.5}
    assert entry.notes[-1].startswith("rescored ") and "(was unversioned)" in entry.notes[-1]
    (row,) = board.rows()
    assert row["codebleu"] == entry.scores["codebleu"] != 99.0
    assert board.store.check_integrity() == []


@pytest.mark.parametrize("case", ["missing ids", "bad link", "duplicate", "control character"])
def test_invalid_submission_leaves_the_store_untouched(seeded_board, built_datasets, generations, case):
    board = open_board(seeded_board, built_datasets)  # no scorer: nothing may be scored before validation
    codes = short_codes(generations, "invalid")
    rows, method, link = rows_of(codes), "Bad", ""
    if case == "missing ids":
        rows = rows[:-3]
    elif case == "bad link":
        link = "javascript:alert(1)"
    elif case == "duplicate":
        rows = rows + rows[:1]
    else:
        method = "Bad\u202e"
    before = store_files(seeded_board)
    with pytest.raises(SubmissionError) as info:
        board.submit(jsonl(rows), method, "B", link=link)
    one_line(str(info.value))
    assert store_files(seeded_board) == before
    assert board._scorer is None


def test_ensure_seeded_seeds_a_fresh_store_once_with_one_notice(tmp_path, seeded_board, built_datasets,
                                                                 monkeypatch):
    from dlcodegen.leaderboard.service import Leaderboard

    notices, seeded = [], []
    monkeypatch.setattr(Leaderboard, "seed", lambda self, progress=True: seeded.append(progress) or 13)
    assert open_board(seeded_board, built_datasets).ensure_seeded(notices.append) == 0
    assert notices == [] and seeded == []
    fresh = open_board(tmp_path / "fresh", built_datasets)
    assert not fresh.seeded
    assert fresh.ensure_seeded(notices.append, progress=False) == 13
    assert seeded == [False] and len(notices) == 1
    assert one_line(notices[0]).startswith(f"seeding a fresh leaderboard in {tmp_path / 'fresh'}")
    assert fresh.ensure_seeded() == 13 and seeded == [False, True]  # no notice asked for; nothing written here


def test_submit_file_checks_the_size_before_reading(tmp_path, seeded_board, built_datasets, monkeypatch):
    board = open_board(seeded_board, built_datasets, limits=SubmissionLimits(max_file_bytes=1000))
    path = tmp_path / "big.jsonl"
    path.write_bytes(jsonl([{"id": 1, "code": "x" * 2000}]))
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the oversized file was read"))
    with pytest.raises(SubmissionError) as info:
        board.submit_file(path, "M", "B")
    assert one_line(str(info.value)) == f"the file is too large ({path.stat().st_size:,} bytes; at most 1,000)"
    monkeypatch.undo()
    with pytest.raises(SubmissionError, match="no such file"):
        board.submit_file(tmp_path / "absent.jsonl", "M", "B")
    with pytest.raises(SubmissionError, match="no such file"):
        board.submit_file(tmp_path, "M", "B")


# ---------------------------------------------------------------------------------------------------------------
# Board rows


def sample_entries() -> list[Entry]:
    return [
        make_entry({1: "a"}, method="Beta", backbone="GPT-4o-mini", codebleu=20.5, source="paper"),
        make_entry({1: "b"}, method="alpha [x](javascript:alert(1)) **b**", backbone="none", codebleu=31.25,
                   source="baseline", contact="<img src=x onerror=alert(1)>"),
        make_entry({1: "c"}, method="Gamma", backbone="DeepSeek-V2.5", codebleu=25.0, source="submission",
                   contact="Jane Doe", link="https://example.com/gamma"),
        make_entry({1: "d"}, method="Delta", backbone="GPT-4o-mini", codebleu=12.0, source="submission"),
    ]


def test_board_rows_sort_by_codebleu_and_rank():
    rows = board_rows(sample_entries())
    assert [row["method"] for row in rows] == ["alpha [x](javascript:alert(1)) **b**", "Gamma", "Beta", "Delta"]
    assert [row["rank"] for row in rows] == [1, 2, 3, 4]
    assert [row["codebleu"] for row in rows] == [31.25, 25.0, 20.5, 12.0]
    assert rows[0]["date"] == "2024-05-01" and HEX64.match(rows[0]["hash"])
    assert set(NUMBER_COLUMNS) <= set(rows[0]) and rows[0]["task_fit_rate"] is None and rows[0]["execution"] == "-"
    assert rows[1]["calibrated_codebleu"] == 1.0
    json.dumps(rows)  # the --json output
    assert board_rows([]) == []


def test_format_board_has_a_header_and_one_line_per_row():
    rows = board_rows(sample_entries())
    text = format_board(rows)
    lines = text.splitlines()
    assert len(lines) == 1 + len(rows)
    assert lines[0].split()[:4] == ["#", "Method", "Backbone", "Source"] and "CodeBLEU" in lines[0]
    for line, row in zip(lines[1:], rows):
        assert line.startswith(str(row["rank"])) and row["backbone"] in line
        assert f"{row['codebleu']:.2f}" in line and row["hash"][:12] in line and row["hash"] not in line
    assert lines[2].split()[1] == "Gamma"


def test_display_rows_escape_and_link():
    rows = display_rows(board_rows(sample_entries()))
    malicious, gamma, beta = rows[0], rows[1], rows[2]
    assert malicious["method"] == escape_markdown("alpha [x](javascript:alert(1)) **b**")
    assert "](" not in malicious["method"].replace("\\](", "").replace("\\]\\(", "")
    assert "<" not in malicious["contact"] and "&lt;img" in malicious["contact"]
    assert gamma["method"] == "[Gamma](https://example.com/gamma)"
    assert beta["method"] == "Beta"
    assert len(malicious["hash"]) == 12 and len(rows) == 4
    assert malicious["codebleu"] == 31.25 and malicious["task_fit_rate"] is None


def test_filter_rows():
    rows = board_rows(sample_entries())
    methods = lambda kept: [row["method"] for row in kept]  # noqa: E731
    assert filter_rows(rows) == rows
    assert methods(filter_rows(rows, "GAMMA")) == ["Gamma"]
    assert methods(filter_rows(rows, "gpt-4O")) == ["Beta", "Delta"]
    assert methods(filter_rows(rows, "gpt delta")) == ["Delta"]
    assert filter_rows(rows, "gamma delta") == []
    assert methods(filter_rows(rows, "jane")) == ["Gamma"]
    assert methods(filter_rows(rows, rows[3]["hash"][:10].upper())) == ["Delta"]
    assert methods(filter_rows(rows, sources=["submission"])) == ["Gamma", "Delta"]
    assert methods(filter_rows(rows, sources=["paper", "baseline"])) == [rows[0]["method"], "Beta"]
    assert filter_rows(rows, sources=[]) == []
    assert methods(filter_rows(rows, backbones=["GPT-4o-mini", "none"])) == [rows[0]["method"], "Beta", "Delta"]
    assert methods(filter_rows(rows, "delta", sources=["paper"])) == []
    assert methods(filter_rows(rows, "a", sources=["submission"], backbones=["DeepSeek-V2.5"])) == ["Gamma"]


# ---------------------------------------------------------------------------------------------------------------
# Mirror


def test_start_mirror_needs_a_token_and_a_repo(tmp_path, monkeypatch):
    import huggingface_hub

    from dlcodegen.leaderboard.mirror import REPO_ENV, TOKEN_ENV, start_mirror

    def no_scheduler(*args, **kwargs):
        raise AssertionError("CommitScheduler must not be constructed")

    monkeypatch.setattr(huggingface_hub, "CommitScheduler", no_scheduler)
    monkeypatch.delenv(REPO_ENV, raising=False)
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert start_mirror(tmp_path) is None
    assert start_mirror(tmp_path, repo_id="someone/board") is None
    assert start_mirror(tmp_path, token="hf_secret") is None
    monkeypatch.setenv(REPO_ENV, "someone/board")
    assert start_mirror(tmp_path) is None
    monkeypatch.delenv(REPO_ENV)
    monkeypatch.setenv(TOKEN_ENV, "hf_secret")
    assert start_mirror(tmp_path) is None
    monkeypatch.setenv(REPO_ENV, "")
    assert start_mirror(tmp_path) is None


# ---------------------------------------------------------------------------------------------------------------
# CLI


@pytest.fixture
def shared_scorer(monkeypatch, scorer):
    """The CLI's Leaderboard gets the module's prepared scorer instead of preparing its own (~20 s)."""
    from dlcodegen.leaderboard.scoring import Scorer

    monkeypatch.setattr(Scorer, "from_data", classmethod(lambda cls, *args, **kwargs: scorer))
    return scorer


def board_args(seeded_board, built_datasets) -> list[str]:
    return ["--dir", str(seeded_board), "--data", str(built_datasets)]


def test_cli_submit_then_show(tmp_path, seeded_board, built_datasets, generations, shared_scorer, capsys):
    from dlcodegen.cli import main

    codes = short_codes(generations, "cli", lines=12)
    path = tmp_path / "mine.jsonl"
    path.write_bytes(jsonl(rows_of(codes)))
    assert main(["leaderboard", "submit", str(path), "--method", "CLI method", "--backbone", "GPT-4o-mini",
                 "--contact", "Jane", "--link", "https://example.com/cli", *board_args(seeded_board,
                                                                                       built_datasets)]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 1 and out.startswith("added CLI method (GPT-4o-mini): CodeBLEU "), out
    assert "Traceback" not in err

    assert main(["leaderboard", "show", "--json", *board_args(seeded_board, built_datasets)]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert isinstance(rows, list) and len(rows) == 14
    for row in rows:
        assert isinstance(row["method"], str) and row["method"] and isinstance(row["backbone"], str)
        assert isinstance(row["codebleu"], float) and 0.0 <= row["codebleu"] <= 100.0
        assert isinstance(row["mean_lines"], float) and row["mean_lines"] > 0
        assert HEX64.match(row["hash"])
    mine = [row for row in rows if row["hash"] == content_hash(codes)]
    assert len(mine) == 1
    assert (mine[0]["method"], mine[0]["backbone"], mine[0]["source"]) == ("CLI method", "GPT-4o-mini",
                                                                             "submission")
    assert (mine[0]["contact"], mine[0]["link"]) == ("Jane", "https://example.com/cli")
    assert [row["rank"] for row in rows] == list(range(1, 15))

    assert main(["leaderboard", "show", *board_args(seeded_board, built_datasets)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 15 and lines[0].startswith("#") and "Method" in lines[0]
    assert sum("CLI method" in line for line in lines) == 1

    # the same file again: exit 0, nothing added
    before = (seeded_board / ENTRIES_FILE).read_bytes()
    assert main(["leaderboard", "submit", str(path), "--method", "Other", "--backbone", "B",
                 *board_args(seeded_board, built_datasets)]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("already on the board") and (seeded_board / ENTRIES_FILE).read_bytes() == before



def test_cli_show_warns_of_stale_entries_and_rescore_updates_them(tmp_path, built_datasets, generations,
                                                                   shared_scorer, capsys):
    from dlcodegen.cli import main

    directory = tmp_path / "old-board"
    codes = short_codes(generations, "cli-rescore")
    write_unversioned_line(LeaderboardStore(directory), make_entry(codes, method="Old", codebleu=99.0), codes)
    args = board_args(directory, built_datasets)
    assert main(["leaderboard", "show", "--json", *args]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["codebleu"] == 99.0
    assert "1 entries were scored by an older scorer" in err and "dlcodegen leaderboard rescore" in err

    assert main(["leaderboard", "rescore", *args]) == 0
    out, _ = capsys.readouterr()
    assert out.startswith("rescored 1 entries")
    assert main(["leaderboard", "show", "--json", *args]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)[0]["codebleu"] == shared_scorer.score(codes)["codebleu"] and "older scorer" not in err


def invalid_file(tmp_path: Path, generations, case: str) -> Path:
    rows = rows_of(short_codes(generations, "cli-invalid"))
    path = tmp_path / f"{case.replace(' ', '-')}.jsonl"
    if case == "missing ids":
        path.write_bytes(jsonl(rows[:40]))
    elif case == "duplicate id":
        path.write_bytes(jsonl(rows[:5] + [rows[2]] + rows[5:]))
    elif case == "binary":
        path.write_bytes(jsonl(rows)[:200] + b"\x00\x01\x02" + jsonl(rows)[200:])
    elif case == "oversized":
        data = jsonl(rows)
        path.write_bytes(data + b" " * (4_000_001 - len(data)))
    elif case == "valid":
        path.write_bytes(jsonl(rows))
    elif case == "not utf-8":
        path.write_bytes(b"\xff\xfe" + jsonl(rows))
    return path


@pytest.mark.parametrize("case, fragment, extra", [
    ("missing ids", "6 DLCodeEval id(s) missing", []),
    ("duplicate id", "line 6: duplicate id", []),
    ("binary", "the file is binary", []),
    ("oversized", "the file is too large (4,000,001 bytes; at most 4,000,000)", []),
    ("not utf-8", "not UTF-8", []),
    ("missing file", "no such file", []),
    ("bad link", "link must be an http:// or https:// URL", ["--link", "javascript:alert(1)"]),
])
def test_cli_invalid_submission(tmp_path, seeded_board, built_datasets, generations, shared_scorer, capsys, case,
                                fragment, extra):
    from dlcodegen.cli import main

    path = invalid_file(tmp_path, generations, "valid" if case == "bad link" else case)
    before = store_files(seeded_board)
    code = main(["leaderboard", "submit", str(path), "--method", "Bad", "--backbone", "B", *extra,
                 *board_args(seeded_board, built_datasets)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlcodegen: error:") and fragment in lines[0], err
    assert "Traceback" not in err
    assert store_files(seeded_board) == before


def test_cli_error_in_a_real_process(tmp_path, seeded_board, built_datasets, generations):
    path = invalid_file(tmp_path, generations, "duplicate id")
    before = store_files(seeded_board)
    done = subprocess.run([sys.executable, "-m", "dlcodegen.cli", "leaderboard", "submit", str(path), "--method",
                           "Bad", "--backbone", "B", *board_args(seeded_board, built_datasets)],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlcodegen: error: line 6: duplicate id"), done.stderr
    assert done.stdout == ""
    assert store_files(seeded_board) == before


def test_cli_invalid_file_on_a_fresh_store_fails_before_seeding(tmp_path, built_datasets, generations, capsys):
    import time

    from dlcodegen.cli import main

    path = invalid_file(tmp_path, generations, "duplicate id")
    fresh = tmp_path / "fresh-board"
    started = time.perf_counter()
    code = main(["leaderboard", "submit", str(path), "--method", "Bad", "--backbone", "B",
                 *board_args(fresh, built_datasets)])
    elapsed = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dlcodegen: error: line 6: duplicate id"), err  # no "seeding"
    assert elapsed < 10.0, elapsed  # seeding takes about 2 minutes
    assert not (fresh / ENTRIES_FILE).exists()
    assert not fresh.exists() or store_files(fresh).keys() <= {LOCK_FILE}


def test_cli_valid_file_on_a_fresh_store_is_read_then_seeded_then_added(tmp_path, built_datasets, generations,
                                                                        monkeypatch, capsys):
    from dlcodegen.cli import main
    from dlcodegen.leaderboard.service import Leaderboard, SubmitResult

    calls = []
    validate_file = Leaderboard.validate_file
    monkeypatch.setattr(Leaderboard, "validate_file",
                        lambda self, *args: calls.append("validate") or validate_file(self, *args))
    monkeypatch.setattr(Leaderboard, "seed", lambda self, progress=True: calls.append("seed") or 0)

    def add(self, submission):
        calls.append("add")
        entry = make_entry(submission.codes, method=submission.meta.method, backbone=submission.meta.backbone)
        entry.scores["reference_mean_lines"] = 3.0
        return SubmitResult(entry, True)

    monkeypatch.setattr(Leaderboard, "add", add)
    path = invalid_file(tmp_path, generations, "valid")
    assert main(["leaderboard", "submit", str(path), "--method", "Good", "--backbone", "B",
                 *board_args(tmp_path / "fresh-board", built_datasets)]) == 0
    out, err = capsys.readouterr()
    assert calls == ["validate", "seed", "add"]
    assert out.startswith("added Good (B)") and "seeding a fresh leaderboard" in err
