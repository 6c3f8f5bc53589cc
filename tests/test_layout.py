"""The core never reaches into the folder packages that build on it (only the CLI, at the top, may)."""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parent.parent / "dlcodegen"
FOLDER_PACKAGES = ("dlcodegen.datasets_builder", "dlcodegen.hf", "dlcodegen.training", "dlcodegen.space",
                   "dlcodegen.evaluate_metrics", "datasets_builder", "hf", "training", "space", "evaluate_metrics")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_core_modules_do_not_import_folder_packages():
    offenders = {}
    for path in CORE.rglob("*.py"):
        if path.name == "cli.py":
            continue
        bad = sorted(name for name in _imports(path)
                     if any(name == package or name.startswith(package + ".") for package in FOLDER_PACKAGES))
        if bad:
            offenders[str(path.relative_to(CORE))] = bad
    assert offenders == {}
