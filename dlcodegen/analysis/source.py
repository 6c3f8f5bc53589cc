"""Reading source code: `.py`/`.ipynb` files, the code cells of a notebook, IPython lines made harmless, and parsing
with syntax repair so that `ast.parse` gives a module even for code that does not quite parse.

This is the one notebook reader and the one magic stripper of the package: the static analysis (`parse_code`) and
the verifier use the same functions, each with the keyword that keeps its own line layout.
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from pathlib import Path

from dlcodegen.core.errors import InputError, MissingError

__all__ = ["notebook_code", "parse_code", "read_source", "strip_magics", "strip_magics_counted", "usable_module"]

# ---------------------------------------------------------------------------------------------------------------
# Files and notebooks


def read_source(path: str | Path) -> str:
    """The Python code of a `.ipynb` (its code cells, see `notebook_code`) or the text of any other file.

    Raises `MissingError` when the path does not exist and `InputError` when it is not a file, not UTF-8 text, or
    a `.ipynb` that is not a notebook. The text is decoded as plain UTF-8 (a byte-order mark is kept).
    """
    file = Path(path)
    if not file.exists():
        raise MissingError(f"{file} does not exist")
    if not file.is_file():
        raise InputError(f"{file} is not a file")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{file} is not UTF-8 text") from None
    if file.suffix.lower() != ".ipynb":
        return text
    try:
        return notebook_code(text)
    except InputError as error:
        raise InputError(f"{file} is {error}") from None


def notebook_code(text: str, *, verbatim: bool = False) -> str:
    """The code cells of a notebook's JSON `text`, joined with one blank line; IPython magics are kept.

    By default blank code cells are skipped, each cell's trailing newlines are cut and the result ends with one
    newline (nothing at all without code). `verbatim=True` keeps every code cell exactly as written, blank ones
    included, joined by one blank line with nothing added at the end: the layout the verifier reports line
    numbers in. Both read nbformat 4 (`cells`) and nbformat 3 (`worksheets[0].cells`, a cell's `input`).

    Raises `InputError("not a Jupyter notebook: ...")` when `text` is not JSON or has no list of cells.
    """
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not a Jupyter notebook: not JSON ({error.msg} at line {error.lineno})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if cells is None and isinstance(notebook, dict) and notebook.get("worksheets"):  # nbformat 3
        cells = notebook["worksheets"][0].get("cells")
    if not isinstance(cells, list):
        raise InputError("not a Jupyter notebook: it has no list of cells")
    sources = [_cell_source(cell) for cell in cells if isinstance(cell, dict) and cell.get("cell_type") == "code"]
    if verbatim:
        return "\n\n".join(sources)
    parts = [source.rstrip("\n") for source in sources if source.strip()]
    return "\n\n".join(parts) + ("\n" if parts else "")


def _cell_source(cell: dict) -> str:
    """A cell's source as one string (a list of lines joined; anything else that is not text counts as empty)."""
    source = cell.get("source", cell.get("input", ""))
    if isinstance(source, list):
        source = "".join(str(line) for line in source)
    return source if isinstance(source, str) else ""


# ---------------------------------------------------------------------------------------------------------------
# IPython magics and shell lines

_MAGIC = re.compile(r"^(\s*)(?:!(?!=)|%%?[A-Za-z])")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)(?:!(?!=)|%%?[A-Za-z]).*$")
_SHELL_LINE = re.compile(r"^(\s*)(?:pip3?|conda|apt(?:-get)?|wget|curl|unzip|tar|git|ls|cd|mkdir|rm|cp|mv|"
                         r"nvidia-smi|python3?|kaggle)\s")
_PREFIXED_LINE = re.compile(r"^([ \t]*)[!%]")


def strip_magics(source: str, *, prefixed_only: bool = False) -> str:
    """`source` with IPython lines made harmless, keeping each line's indentation and every line number.

    By default (what the static analysis reads): a `!cmd` / `%magic` / `%%cell` line becomes `pass`, `x = !ls`
    becomes `x = None`, a bare shell command that does not parse (`pip install x`, `wget ...`) becomes `pass`,
    and `\\r\\n`/`\\r` line ends and NUL characters are normalised away. `prefixed_only=True` (what the verifier
    runs): exactly the lines whose first non-blank character is `!` or `%` become `pass`, nothing else changes.
    """
    return strip_magics_counted(source, prefixed_only=prefixed_only)[0]


def strip_magics_counted(source: str, *, prefixed_only: bool = False) -> tuple[str, int]:
    """`strip_magics(source, prefixed_only=...)` and how many lines it replaced."""
    if prefixed_only:
        lines = source.split("\n")
    else:
        lines = source.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    replaced = 0
    for index, line in enumerate(lines):
        harmless = _prefixed_line(line) if prefixed_only else _harmless_line(line)
        if harmless is not None:
            lines[index] = harmless
            replaced += 1
    return "\n".join(lines), replaced


def _prefixed_line(line: str) -> str | None:
    prefixed = _PREFIXED_LINE.match(line)
    return prefixed.group(1) + "pass" if prefixed else None


def _harmless_line(line: str) -> str | None:
    """The line's replacement when it is an IPython or shell line, else None."""
    magic = _MAGIC.match(line)
    if magic:
        return magic.group(1) + "pass"
    assigned = _ASSIGNED_MAGIC.match(line)
    if assigned:
        return assigned.group(1) + "None"
    shell = _SHELL_LINE.match(line)
    if shell and not _parses(line.strip()):
        return shell.group(1) + "pass"
    return None


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


# ---------------------------------------------------------------------------------------------------------------
# Parsing with syntax repair

_MAX_PARSES = 80  # whole-file parses spent on repairs before falling back to statement by statement
_CONTINUATION = re.compile(r"^(?:else|elif|except|finally|case)\b|^[)\]}#]")


def parse_code(code: str) -> ast.Module:
    """The module `code` parses to after removing magics and repairing syntax errors (possibly with no statements).

    Each syntax error is repaired line by line (cut at the error, re-indented, blanked, or its whole top-level
    statement blanked); when the repair budget is spent, each top-level statement is parsed alone.
    """
    if not isinstance(code, str):
        return ast.Module(body=[], type_ignores=[])
    with warnings.catch_warnings():  # notebooks are full of invalid escapes ("\s" in a regex): not our concern
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _parse_code(code)


def usable_module(module: ast.Module) -> bool:
    """Whether the module holds at least one real statement (not only `pass`, names and string constants)."""
    for statement in module.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, (ast.Constant, ast.Name)):
            continue
        return True
    return False


def _parse_code(code: str) -> ast.Module:
    lines = strip_magics(code).split("\n")
    parses, budget = 0, max(8, min(_MAX_PARSES, 4_000_000 // max(len(code), 1)))  # ~4 MB of parsing at most
    while parses < budget:
        error = _error_line(lines)
        parses += 1
        if error is None:
            try:
                return ast.parse("\n".join(lines))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                break
        index, offset, indentation_error = error
        for candidate in _candidates(lines, index, offset, indentation_error):
            after = _error_line(candidate)
            parses += 1
            if after is None or after[0] > index:
                lines = candidate
                break
        else:
            if not _drop_statement(lines, index):
                break
    return _parse_statements(lines)


def _statement_start(line: str) -> bool:
    return bool(line.strip()) and not line[0].isspace() and not _CONTINUATION.match(line)


def _error_line(lines: list[str]) -> tuple[int, int | None, bool] | None:
    """(0-based line, 1-based offset, is an indentation error) of the first syntax error; None when it parses."""
    try:
        ast.parse("\n".join(lines))
        return None
    except SyntaxError as error:
        line = min(max((error.lineno or len(lines)) - 1, 0), len(lines) - 1)
        return line, error.offset, isinstance(error, IndentationError)
    except (ValueError, RecursionError, MemoryError):
        return len(lines) - 1, None, False


def _candidates(lines: list[str], index: int, offset: int | None, indentation_error: bool):
    """Repairs of line `index`, most conservative first: cut at the error, re-indent like the line before, blank."""
    line = lines[index]
    indent = len(line) - len(line.lstrip())
    if offset and not indentation_error and indent < offset - 1 < len(line.rstrip()):
        yield lines[:index] + [line[:offset - 1].rstrip()] + lines[index + 1:]
    if indentation_error and indent:
        previous = next((lines[j] for j in range(index - 1, -1, -1) if lines[j].strip()), "")
        new_indent = len(previous) - len(previous.lstrip())
        if new_indent != indent:
            yield lines[:index] + [" " * new_indent + line.lstrip()] + lines[index + 1:]
    if line.strip():
        yield lines[:index] + [""] + lines[index + 1:]


def _drop_statement(lines: list[str], index: int) -> bool:
    start = next((j for j in range(index, -1, -1) if _statement_start(lines[j])), 0)
    end = next((j for j in range(index + 1, len(lines)) if _statement_start(lines[j])), len(lines))
    changed = any(lines[j].strip() for j in range(start, end))
    lines[start:end] = [""] * (end - start)
    return changed


def _parse_statements(lines: list[str]) -> ast.Module:
    """Each top-level statement parsed alone; those that fail are dropped."""
    starts = [j for j, line in enumerate(lines) if _statement_start(line)] + [len(lines)]
    body: list[ast.stmt] = []
    for start, end in zip(starts, starts[1:]):
        chunk = "\n" * start + "\n".join(lines[start:end])
        try:
            body.extend(ast.parse(chunk).body)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
    return ast.Module(body=body, type_ignores=[])
