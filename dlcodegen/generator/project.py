"""Write a generated project: the code as `.py` and `.ipynb`, the plan as `plan.json`, the run as `trace.json`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from dlcodegen.core.errors import InputError
from dlcodegen.core.results import GenerationResult
from dlcodegen.files import write_atomic

PROJECT_FILE = "project.py"
NOTEBOOK_FILE = "project.ipynb"
PLAN_FILE = "plan.json"
TASK_FILE = "task.json"  # the task read from the words, beside the plan
TRACE_FILE = "trace.json"
_CELL_MARKER = re.compile(r"^# %%.*$", re.M)


def notebook_cells(code: str) -> list[str]:
    """Cells at `# %%` markers when the code has them, else at top-level blocks separated by two blank lines."""
    if _CELL_MARKER.search(code):
        parts = _CELL_MARKER.split(code)
    else:
        parts = re.split(r"\n\s*\n\s*\n(?=\S)", code)
    return [part.strip("\n") for part in parts if part.strip()]


def notebook(code: str) -> dict:
    """An nbformat 4 notebook with one code cell per block of `code`."""
    cells: list[dict] = [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                          "source": cell.splitlines(keepends=True)} for cell in notebook_cells(code) or [""]]
    return {"cells": cells, "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def check_out_dir(out: str | Path) -> Path:
    """`out` as a folder to write the project into: refused at once when it exists and is not a folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder: choose a folder for the project")
    return out


def write_project(result: GenerationResult, out: str | Path) -> dict[str, Path]:
    """Write the four files into `out` (created if needed); returns their paths."""
    out = Path(out)
    code = result.code if result.code.endswith("\n") else result.code + "\n"
    paths = {name: out / name for name in (PROJECT_FILE, NOTEBOOK_FILE, PLAN_FILE, TRACE_FILE)}
    write_atomic(paths[PROJECT_FILE], code)
    write_atomic(paths[NOTEBOOK_FILE], json.dumps(notebook(result.code), indent=1, ensure_ascii=False) + "\n")
    write_atomic(paths[PLAN_FILE], (result.plan.to_json(indent=2) if result.plan else "null") + "\n")
    if result.task is not None:
        paths[TASK_FILE] = out / TASK_FILE
        write_atomic(paths[TASK_FILE], json.dumps(result.task.to_dict(), indent=2, ensure_ascii=False) + "\n")
    write_atomic(paths[TRACE_FILE], json.dumps(result.trace(), indent=2, ensure_ascii=False) + "\n")
    return paths


def write_trace(result: GenerationResult, out: str | Path) -> Path:
    """Only `trace.json` (a failed run keeps what it did)."""
    path = Path(out) / TRACE_FILE
    write_atomic(path, json.dumps(result.trace(), indent=2, ensure_ascii=False) + "\n")
    return path
