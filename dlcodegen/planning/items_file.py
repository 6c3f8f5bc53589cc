"""Reading a file of requirements to plan (`dlcodegen plan predict --items FILE.jsonl`): JSON Lines of
`{"id": int, "requirement": str, "attributes": str}` rows, every row checked before any is planned."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.files import JsonLinesError, read_jsonl


@dataclass(frozen=True)
class PlanItem:
    id: int
    requirement: str
    attributes: str | dict = ""


def _item(path: Path, number: int, row, first_line: dict[int, int]) -> PlanItem:
    where = f"{path}:{number}"
    if not isinstance(row, dict):
        raise InputError(f'{where}: each line must be an object {{"id": int, "requirement": str, "attributes": str}}')
    item_id = row.get("id")
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise InputError(f"{where}: id must be an integer, got {item_id!r}")
    if item_id in first_line:
        raise InputError(f"{where}: duplicate id {item_id} (first on line {first_line[item_id]})")
    requirement = row.get("requirement")
    if not isinstance(requirement, str) or not requirement.strip():
        raise InputError(f'{where}: "requirement" must be a non-empty string')
    attributes = row.get("attributes", "")
    if attributes is None:
        attributes = ""
    if not isinstance(attributes, (str, dict)):
        raise InputError(f'{where}: "attributes" must be a string or an object, got {type(attributes).__name__}')
    first_line[item_id] = number
    return PlanItem(item_id, requirement, attributes)


def read_plan_items(path: str | Path) -> list[PlanItem]:
    """Every row of the file; one clear line naming the first bad line (nothing is planned then)."""
    path = Path(path)
    if not path.is_file():
        raise MissingError(f"{path}: no such file")
    first_line: dict[int, int] = {}
    try:
        items = [_item(path, number, row, first_line) for number, row in read_jsonl(path)]
    except JsonLinesError as error:
        raise InputError(f"{path}:{error.number}: not valid JSON ({error.reason})") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{path}: not UTF-8 text (invalid byte at offset {error.start})") from None
    if not items:
        raise InputError(f"{path}: no rows to plan")
    return items
