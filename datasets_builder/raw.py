"""Strict readers for the artifact's raw text files.

Nothing is dropped silently: every record is parsed or the read stops with a `RawDataError` that names the file,
the line and the reason.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass

from dlcodegen.core.errors import InputError

CODE_SEPARATOR = "-" * 37
GENERATION_TERMINATOR = re.compile(r"^-{37} (\d+)$")


class RawDataError(InputError):
    """A raw artifact file does not have the documented format."""

    def __init__(self, file: str, line: int | None, reason: str):
        self.file, self.line, self.reason = file, line, reason
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class RawRecord:
    line: int  # one-based line number in the raw file
    text: str  # the raw line, without its newline
    value: dict
    syntax: str  # "json" or "python-literal"


@dataclass(frozen=True)
class RawBlock:
    line: int  # one-based line number of the block's first line
    text: str


def _lines(text: str) -> list[str]:
    """The file's lines; the newline that ends the last one does not start another."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def parse_record(text: str, file: str, line: int) -> tuple[dict, str]:
    """Parse one raw line as JSON, else as a Python literal; it must be a dict."""
    try:
        value, syntax = json.loads(text), "json"
    except json.JSONDecodeError as json_error:
        try:
            value, syntax = ast.literal_eval(text), "python-literal"
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise RawDataError(file, line, f"not JSON ({json_error.msg} at column {json_error.colno}) "
                                           "and not a Python literal") from None
    if not isinstance(value, dict):
        raise RawDataError(file, line, f"expected an object, got {type(value).__name__}")
    return value, syntax


def read_records(text: str, file: str, expected: int | None = None,
                 required_keys: tuple[str, ...] = ()) -> list[RawRecord]:
    """Read a file of one record per line. Blank lines are only allowed at the very end."""
    lines = _lines(text)
    truncated_tail = not text.endswith("\n")
    records: list[RawRecord] = []
    for index, raw_line in enumerate(lines):
        number = index + 1
        if not raw_line.strip():
            if any(rest.strip() for rest in lines[index:]):
                raise RawDataError(file, number, "empty line between records")
            break
        try:
            value, syntax = parse_record(raw_line, file, number)
        except RawDataError as error:
            if truncated_tail and index == len(lines) - 1:
                raise RawDataError(file, number, "file is truncated: the last line has no newline and "
                                                 f"does not parse ({error.reason})") from None
            raise
        missing = [key for key in required_keys if key not in value]
        if missing:
            raise RawDataError(file, number, f"missing key(s) {', '.join(map(repr, missing))}")
        records.append(RawRecord(number, raw_line, value, syntax))
    if expected is not None and len(records) != expected:
        raise RawDataError(file, len(lines), f"expected {expected} records, found {len(records)} "
                                             "(truncated or not the pinned artifact file?)")
    return records


def split_code_blocks(text: str, file: str, expected: int) -> list[RawBlock]:
    """Split a file of code blocks *separated* (not terminated) by a line of exactly 37 dashes."""
    lines = _lines(text)
    blocks: list[RawBlock] = []
    current: list[str] = []
    start = 1
    for number, raw_line in enumerate(lines, start=1):
        if raw_line == CODE_SEPARATOR:
            blocks.append(_finish_block(current, start, file))
            current, start = [], number + 1
        else:
            current.append(raw_line)
    blocks.append(_finish_block(current, start, file))
    if len(blocks) != expected:
        raise RawDataError(file, len(lines), f"found {len(blocks) - 1} separator lines ({len(blocks)} blocks), "
                                             f"expected {expected - 1} ({expected} blocks): truncated file or "
                                             "a separator count that does not match")
    return blocks


def _finish_block(lines: list[str], start: int, file: str) -> RawBlock:
    block = "\n".join(lines)
    if not block.strip():
        raise RawDataError(file, start, "empty code block")
    return RawBlock(start, block)


def split_generations(text: str, file: str, expected: int) -> list[RawBlock]:
    """Split a released-generations file: each generation is *terminated* by `<37 dashes> <index>`."""
    lines = _lines(text)
    blocks: list[RawBlock] = []
    current: list[str] = []
    start = 1
    for number, raw_line in enumerate(lines, start=1):
        match = GENERATION_TERMINATOR.match(raw_line)
        if match is None:
            current.append(raw_line)
            continue
        index = int(match.group(1))
        if index != len(blocks):
            raise RawDataError(file, number, f"terminator names item {index}, expected {len(blocks)}")
        blocks.append(RawBlock(start, "\n".join(current)))
        current, start = [], number + 1
    if any(line.strip() for line in current):
        raise RawDataError(file, start, "file is truncated: text after the last terminator line "
                                        f"(generation {len(blocks)} has no '{'-' * 37} {len(blocks)}' line)")
    if len(blocks) != expected:
        raise RawDataError(file, len(lines), f"found {len(blocks)} generations, expected {expected}")
    return blocks
