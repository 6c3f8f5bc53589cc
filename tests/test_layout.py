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


def _package_imports(path: Path) -> set[str]:
    """The dlcodegen modules `path` imports, absolute or relative, at any depth of the file (TYPE_CHECKING too)."""
    names = {name for name in _imports(path) if name == "dlcodegen" or name.startswith("dlcodegen.")}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("." * node.level + (node.module or ""))
    return names


def test_the_contract_layer_imports_nothing_else_from_the_package():
    offenders = {}
    for path in (CORE / "core").glob("*.py"):
        outside = sorted(name for name in _package_imports(path)
                         if not (name.startswith("dlcodegen.core") or name.startswith(".")) or name.startswith(".."))
        if outside:
            offenders[path.name] = outside
    assert offenders == {}


def test_planning_and_analysis_do_not_import_metrics_generator_or_leaderboard():
    later_stages = ("dlcodegen.metrics", "dlcodegen.generator", "dlcodegen.leaderboard", "dlcodegen.verify")
    offenders = {}
    for folder in ("planning", "analysis"):
        for path in (CORE / folder).rglob("*.py"):
            bad = sorted(name for name in _package_imports(path) if name.startswith(later_stages))
            if bad:
                offenders[str(path.relative_to(CORE))] = bad
    assert offenders == {}


def test_no_module_of_the_package_is_longer_than_700_lines():
    lengths = {str(path.relative_to(CORE)): len(path.read_text(encoding="utf-8").splitlines())
               for path in CORE.rglob("*.py")}
    assert {name: length for name, length in lengths.items() if length > 700} == {}


def test_the_library_configures_no_logging_handlers():
    """Only the CLI sets logging up; library modules log through logging.getLogger(__name__)."""
    offenders = [str(path.relative_to(CORE)) for path in CORE.rglob("*.py") if path.name != "cli.py"
                 and any(call in path.read_text(encoding="utf-8") for call in ("logging.basicConfig", "addHandler("))]
    assert offenders == []
