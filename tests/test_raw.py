"""The strict raw readers: every bad line is reported with its file and line number."""

import pytest

from dlcodegen.datasets_builder.raw import (
    CODE_SEPARATOR,
    RawDataError,
    parse_record,
    read_records,
    split_code_blocks,
    split_generations,
)


def test_parse_record_accepts_json_and_python_literals():
    assert parse_record('{"a": 1}', "f", 1) == ({"a": 1}, "json")
    assert parse_record("{'a': None}", "f", 1) == ({"a": None}, "python-literal")


def test_parse_record_rejects_non_objects_with_position():
    with pytest.raises(RawDataError, match=r"^f.txt:3: expected an object, got list"):
        parse_record("[1, 2]", "f.txt", 3)
    with pytest.raises(RawDataError, match=r"^f.txt:4: not JSON .* and not a Python literal"):
        parse_record('{"a": ', "f.txt", 4)


def test_read_records_names_the_malformed_line():
    text = '{"a": 1}\n{"a": 2}\n{"a": oops}\n{"a": 4}\n'
    with pytest.raises(RawDataError) as info:
        read_records(text, "Test.txt")
    assert (info.value.file, info.value.line) == ("Test.txt", 3)
    assert str(info.value).startswith("Test.txt:3: not JSON")


def test_read_records_detects_a_truncated_last_line():
    with pytest.raises(RawDataError, match=r"^T.txt:2: file is truncated"):
        read_records('{"a": 1}\n{"a": 2, "b": "cut he', "T.txt")


def test_read_records_checks_count_and_keys_and_blank_lines():
    with pytest.raises(RawDataError, match="expected 3 records, found 2"):
        read_records('{"a": 1}\n{"a": 2}\n', "T.txt", expected=3)
    with pytest.raises(RawDataError, match=r"T.txt:2: missing key\(s\) 'b'"):
        read_records('{"b": 1}\n{"a": 2}\n', "T.txt", required_keys=("b",))
    with pytest.raises(RawDataError, match=r"T.txt:2: empty line between records"):
        read_records('{"a": 1}\n\n{"a": 2}\n', "T.txt")
    assert len(read_records('{"a": 1}\n{"a": 2}\n\n', "T.txt", expected=2)) == 2


def test_split_code_blocks_counts_separators():
    text = f"a = 1\n{CODE_SEPARATOR}\nb = 2\n{CODE_SEPARATOR}\nc = 3\n"
    blocks = split_code_blocks(text, "C.txt", expected=3)
    assert [(block.line, block.text) for block in blocks] == [(1, "a = 1"), (3, "b = 2"), (5, "c = 3")]
    with pytest.raises(RawDataError, match=r"C.txt:5: found 2 separator lines \(3 blocks\), expected 3"):
        split_code_blocks(text, "C.txt", expected=4)
    with pytest.raises(RawDataError, match=r"C.txt:3: empty code block"):
        split_code_blocks(f"a\n{CODE_SEPARATOR}\n\n{CODE_SEPARATOR}\nb", "C.txt", expected=3)


def test_split_generations_checks_terminators():
    good = f"x\n{CODE_SEPARATOR} 0\ny\nz\n{CODE_SEPARATOR} 1\n"
    assert [block.text for block in split_generations(good, "G.txt", 2)] == ["x", "y\nz"]
    with pytest.raises(RawDataError, match=r"G.txt:6: file is truncated: text after the last terminator"):
        split_generations(good + "partial gen", "G.txt", 3)
    with pytest.raises(RawDataError, match=r"G.txt:2: terminator names item 5, expected 0"):
        split_generations(f"x\n{CODE_SEPARATOR} 5\n", "G.txt", 1)
