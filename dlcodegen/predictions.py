"""Reading prediction files: JSON Lines of `{"id": ..., "<field>": ...}` checked against the expected ids."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.files import JsonLinesError, read_jsonl


class PredictionFileError(InputError):
    """A predictions file is malformed or does not cover exactly the expected ids."""


def ids_text(ids: list[int]) -> str:
    """The first ten ids of a sorted list, for a one-line message."""
    return ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")


def read_predictions(path: str | Path, field: str, expected_ids: Iterable[int]) -> dict[int, Any]:
    """`{id: value}` for every expected id; one clear error for bad JSON, missing, duplicate or unknown ids
    (`MissingError` when there is no such file)."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"{path}: no such file")
    expected = set(expected_ids)
    values: dict[int, Any] = {}
    first_line: dict[int, int] = {}
    try:
        for number, row in read_jsonl(path):
            if not isinstance(row, dict) or "id" not in row or field not in row:
                raise PredictionFileError(f'{path}:{number}: each line must be an object with "id" and "{field}"')
            item_id = row["id"]
            if isinstance(item_id, bool) or not isinstance(item_id, int):
                raise PredictionFileError(f"{path}:{number}: id must be an integer, got {item_id!r}")
            if item_id in values:
                raise PredictionFileError(f"{path}:{number}: duplicate id {item_id} (first on line "
                                          f"{first_line[item_id]})")
            if item_id not in expected:
                raise PredictionFileError(f"{path}:{number}: unknown id {item_id}; expected ids "
                                          f"{min(expected)}..{max(expected)}")
            values[item_id], first_line[item_id] = row[field], number
    except JsonLinesError as error:
        raise PredictionFileError(f"{path}:{error.number}: not valid JSON ({error.reason})") from None
    except UnicodeDecodeError as error:
        raise PredictionFileError(f"{path}: not UTF-8 text (invalid byte at offset {error.start})") from None
    missing = sorted(expected - set(values))
    if missing:
        raise PredictionFileError(f"{path}: {len(missing)} id(s) missing: {ids_text(missing)}")
    return values
