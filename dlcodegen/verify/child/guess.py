"""Guesses about the data a project expects, read from its syntax tree: the column names it reads from its data
frames, the constants it compares them with, the columns it treats as text, the image file extension it uses."""

from __future__ import annotations

import ast
import collections
import re

from dlcodegen.verify.child.state import DataGuess

MAX_COLUMNS = 80
_COLUMN_CALLS = {"drop", "pop", "groupby", "value_counts", "sort_values", "rename", "fillna", "dropna", "astype",
                 "get_dummies", "set_index", "pivot_table", "melt", "explode", "nunique", "unique", "map", "apply"}
_COLUMN_KEYWORDS = {"columns", "x_col", "y_col", "usecols", "names", "subset", "by", "on", "id_vars",
                    "value_vars", "index", "values", "labels", "stratify"}
_COLUMN_VARIABLES = re.compile(r"col|feat|target|label|categor|numer|drop|text", re.I)
_IMAGE_EXTENSIONS = re.compile(r"\.(png|jpe?g|bmp|tiff?|gif|webp|dcm|nii(?:\.gz)?)\b", re.I)


def scan_code(tree: ast.Module, code: str) -> DataGuess:
    """Guess the column names the code reads from its data frames, and the image file extension it expects."""
    guess = DataGuess(columns=_column_names(tree)[:MAX_COLUMNS], column_literals=_compared_literals(tree),
                      text_columns=_text_columns(tree))
    extensions = collections.Counter(match.group(0).lower() for match in _IMAGE_EXTENSIONS.finditer(code))
    if extensions:
        guess.image_ext = extensions.most_common(1)[0][0]
    return guess


def _column_names(tree: ast.Module) -> list[str]:
    """Plausible column names, in the order of the code: string subscripts, column keywords and the first argument
    of frame methods that take columns, and lists assigned to column-like variables."""
    found: list[tuple[int, int, str]] = []

    def add(node: ast.AST, values: list[str]) -> None:
        found.extend((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), value) for value in values)

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            add(node, _strings(node.slice))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in _COLUMN_KEYWORDS:
                    add(node, _strings(keyword.value))
            if isinstance(node.func, ast.Attribute) and node.func.attr in _COLUMN_CALLS:
                for argument in node.args[:1]:
                    add(node, _strings(argument))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and _COLUMN_VARIABLES.search(t.id)
                                                  for t in node.targets):
            add(node, _strings(node.value))
    ordered = [value for _, _, value in sorted(found, key=lambda item: (item[0], item[1]))]
    return list(dict.fromkeys(name for name in ordered if _plausible_column(name)))


def _text_columns(tree: ast.Module) -> set[str]:
    return {node.value.slice.value for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr in ("str", "lower", "split")
            and isinstance(node.value, ast.Subscript) and isinstance(node.value.slice, ast.Constant)
            and isinstance(node.value.slice.value, str)}


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [value for element in node.elts for value in _strings(element)]
    if isinstance(node, ast.Dict):
        return [value for key in node.keys if key is not None for value in _strings(key)]
    return []


def _plausible_column(name: str) -> bool:
    return (0 < len(name) <= 60 and name.isprintable() and not any(c in name for c in "/\\%{}\n")
            and not re.search(r"\.\w{2,4}$", name) and not name.startswith(("http", ".")))


def _compared_column(node) -> str | None:
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
        return node.slice.value
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr
    return None


def _compared_literals(tree: ast.Module) -> dict[str, list]:
    """Column -> the constants the code compares it with (`df["city"] == "Paris"`, `.isin([...])`), so that a
    filtered synthetic frame is not empty."""
    literals: dict[str, list] = collections.defaultdict(list)
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            column = _compared_column(node.left)
            other = node.comparators[0]
            if column and isinstance(other, ast.Constant) and isinstance(other.value, (str, int, float)) and \
                    not isinstance(other.value, bool):
                literals[column].append(other.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "isin"
              and node.args and isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set))):
            column = _compared_column(node.func.value)
            values = [e.value for e in node.args[0].elts if isinstance(e, ast.Constant)]
            if column and values:
                literals[column].extend(values)
    return {column: list(dict.fromkeys(values)) for column, values in literals.items()}
