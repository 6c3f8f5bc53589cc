"""File helpers shared by the stages: the atomic writer, the one JSON Lines reader and writer, the user data folder."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from dlcodegen.core.errors import InputError


class JsonLinesError(InputError):
    """A line of a JSON Lines text is not JSON; `number` says which line, `reason` why."""

    def __init__(self, number: int, reason: str):
        super().__init__(f"line {number}: not valid JSON ({reason})")
        self.number, self.reason = number, reason


def write_atomic(path: str | os.PathLike, text: str) -> None:
    """Write `text` to `path` through a temporary file and `os.replace`: readers see the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def iter_jsonl(text: str, complete_only: bool = False) -> Iterator[tuple[int, Any]]:
    """(line number, value) of every non-blank line of JSON Lines `text`, lazily: a caller that checks each row as it
    comes reports the first problem in file order. `JsonLinesError` for a line that is not JSON.

    Only "\\n" ends a line: U+2028 and the other separators `str.splitlines` knows are valid inside a row (`bench`
    writes them raw), and a "\\r" before the "\\n" is white space. `complete_only`: what follows the last "\\n" (a line
    an interrupted writer left without its newline) is left out.
    """
    if complete_only:
        text = text[:text.rfind("\n") + 1]
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            raise JsonLinesError(number, error.msg) from None
        yield number, value


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, Any]]:
    """`iter_jsonl` over a UTF-8 file (read whole, universal newlines)."""
    return iter_jsonl(Path(path).read_text(encoding="utf-8"))


def jsonl_text(rows: Iterable[Any], ensure_ascii: bool = False) -> str:
    """Rows as JSON Lines, one `json.dumps` per line, each ended by "\\n" (`ensure_ascii`: no raw non-ASCII)."""
    return "".join(json.dumps(row, ensure_ascii=ensure_ascii) + "\n" for row in rows)


def user_data_dir(path: str | os.PathLike | None, env: str, name: str) -> Path:
    """`path`, else `$<env>`, else `$XDG_DATA_HOME/dlcodegen/<name>` (by default `~/.local/share/dlcodegen/<name>`)."""
    if path:
        return Path(path).expanduser()
    if os.environ.get(env):
        return Path(os.environ[env]).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "dlcodegen" / name
