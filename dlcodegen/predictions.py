"""Reading prediction files: JSON Lines of `{"id": ..., "<field>": ...}` checked against the expected ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable


class PredictionFileError(ValueError):
    """A predictions file is malformed or does not cover exactly the expected ids."""


def read_predictions(path: str | Path, field: str, expected_ids: Iterable[int]) -> dict[int, Any]:
    """`{id: value}` for every expected id; one clear error for bad JSON, missing, duplicate or unknown ids."""
    path = Path(path)
    if not path.is_file():
        raise PredictionFileError(f"{path}: no such file")
    expected = set(expected_ids)
    values: dict[int, Any] = {}
    first_line: dict[int, int] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise PredictionFileError(f"{path}:{number}: not valid JSON ({error.msg})") from None
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
    missing = sorted(expected - set(values))
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        raise PredictionFileError(f"{path}: {len(missing)} id(s) missing: {shown}")
    return values
