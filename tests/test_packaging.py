"""Packaging matches the tree: every package folder is packaged, every import names a module the tree holds, and a
wheel installed into a fresh virtual environment plans with the classifiers it ships (no refit)."""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
PACKAGE_DIRS = {name: REPO / folder for name, folder in SETUPTOOLS["package-dir"].items()}  # installed name -> folder
# Code outside the package that imports it: a stale import there breaks as surely as one inside.
IMPORTERS = ("tests", "space", "benchmarks", "evaluate_metrics")


def _source_files(folder: Path, suffix: str = "") -> list[Path]:
    return sorted(path for path in folder.rglob(f"*{suffix}")
                  if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc")


def _folder_of(package: str) -> Path:
    """The source folder of an installed package name (the longest package-dir prefix, as setuptools maps it)."""
    root = max((name for name in PACKAGE_DIRS if package == name or package.startswith(name + ".")), key=len)
    return PACKAGE_DIRS[root].joinpath(*package[len(root):].split(".")[1:])


def _tree_packages() -> dict[str, Path]:
    """Every folder under a package root (pyproject.toml's package-dir) that holds Python code, by installed name."""
    found = {}
    for root, folder in PACKAGE_DIRS.items():
        for path in [folder, *(p for p in folder.rglob("*") if p.is_dir() and p.name != "__pycache__")]:
            if any(path.glob("*.py")):
                found[".".join([root, *path.relative_to(folder).parts])] = path
    return found


def _module_exists(module: str) -> bool:
    if not any(module == name or module.startswith(name + ".") for name in PACKAGE_DIRS):
        return True  # not ours
    path = _folder_of(module)
    return path.with_suffix(".py").is_file() or (path.is_dir() and any(path.glob("*.py")))


def _guarded(tree: ast.AST) -> set[ast.AST]:
    """The statements of `try:` bodies that catch ImportError: imports allowed to fail (a module that also runs
    as a copy beside a model's files, for one)."""
    guards = {"ImportError", "ModuleNotFoundError"}
    return {statement for node in ast.walk(tree) if isinstance(node, ast.Try)
            and any(isinstance(handler.type, ast.Name) and handler.type.id in guards for handler in node.handlers)
            for statement in node.body}


def _imported_modules(path: Path, package: str | None) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, written relative) of each import in a file; `package`: its installed package."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    guarded = _guarded(tree)
    for node in ast.walk(tree):
        if node in guarded:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, False) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, False))
        elif isinstance(node, ast.ImportFrom) and package:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            found.append((node.lineno, ".".join(base + ([node.module] if node.module else [])), True))
    return found


def test_every_package_folder_is_packaged():
    """pyproject.toml lists exactly the folders that hold the package's code: a new subpackage left out of the list
    works in an editable install and is missing from the wheel."""
    assert sorted(SETUPTOOLS["packages"]) == sorted(_tree_packages())


def test_every_import_names_a_module_of_the_tree():
    """Each `dlcodegen...` import (at module level or inside a function) names a module the tree holds at the path
    pyproject.toml installs it from, and a folder package (training/, hf/, datasets_builder/) imports its own
    modules relatively, by the path they have in the tree."""
    packages = {folder: name for name, folder in _tree_packages().items()}
    missing, roundabout = [], []
    files = [path for folder in PACKAGE_DIRS.values() for path in _source_files(folder, ".py")]
    files += [path for folder in IMPORTERS for path in _source_files(REPO / folder, ".py")]
    for path in files:
        package = packages.get(path.parent)
        own_root = next((name for name in PACKAGE_DIRS if package and name != "dlcodegen"
                         and (package == name or package.startswith(name + "."))), None)
        for line, module, relative in _imported_modules(path, package):
            where = f"{path.relative_to(REPO)}:{line} {module}"
            if not _module_exists(module):
                missing.append(where)
            if own_root and not relative and module.startswith(own_root + "."):
                roundabout.append(where)
    assert missing == []
    assert roundabout == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline with this environment's setuptools from a copy of the tree (an in-tree build
    would leave build/lib behind, whose stale files a later wheel would pick up)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    for folder in PACKAGE_DIRS.values():
        shutil.copytree(folder, source / folder.relative_to(REPO), ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    "-w", str(work / "dist"), str(source)], check=True, cwd=work, timeout=300)
    (built,) = (work / "dist").glob("dlcodegen-*.whl")
    return built


@pytest.mark.slow
def test_wheel_holds_every_file_of_the_tree(wheel):
    """Code and package data (prompts, templates, cards, recipes, the shipped classifiers) all reach the wheel, each
    at the path it is imported from."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    expected = {"/".join([*name.split("."), *path.relative_to(folder).parts])
                for name, folder in PACKAGE_DIRS.items() for path in _source_files(folder)}
    assert sorted(expected - names) == []


PREDICT = """
import importlib, json, logging, pkgutil

records = []
handler = logging.Handler(logging.WARNING)
handler.emit = records.append
logging.getLogger().addHandler(handler)

import dlcodegen
import dlcodegen.core

core = [importlib.import_module(f"dlcodegen.core.{module.name}").__name__
        for module in pkgutil.iter_modules(dlcodegen.core.__path__)]  # the contract layer, each module
from dlcodegen.planning import classify, planners


def refit(*args, **kwargs):
    raise AssertionError("the planner refitted its classifiers instead of loading the shipped ones")


classify.fit_classifiers = refit
planner = planners.load_planner()
prediction = planner.predict("Classify chest X-ray images as pneumonia or normal",
                             "5,863 X-ray images (JPEG) in two categories (Pneumonia/Normal)")
print(json.dumps({
    "package": dlcodegen.__file__, "core": core, "classifier_folder": str(classify.DEFAULT_FOLDER),
    "classifiers": sorted(planner.classifiers), "classified_fields": sorted(planner.config.classified_fields),
    "plan": prediction.plan.to_dict() if prediction.plan else None,
    "warnings": [f"{record.name}: {record.getMessage()}" for record in records
                 if record.name.startswith("dlcodegen")],
}))
"""


@pytest.fixture(scope="module")
def data_folder(request) -> Path:
    """The repository's built datasets when they are there, else the session's."""
    from dlcodegen.data import missing_datasets

    built = REPO / "build" / "datasets"
    return built if not missing_datasets(["dlplandata"], built) else request.getfixturevalue("built_datasets")


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_plans_with_the_shipped_classifiers(wheel, data_folder, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # This environment's pip installs into the new one, offline, without the dependencies...
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q",
                    str(wheel)], check=True, timeout=300)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site_packages = Path(subprocess.run([str(python), "-c", purelib], check=True, capture_output=True,
                                        text=True).stdout.strip())
    # ...which it then reads from this environment's site-packages, after its own (a plain path: the editable
    # install's finder, a .pth file there, is not run).
    ours = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (site_packages / "dependencies.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(DLCODEGEN_DATA=str(data_folder), PYTHONNOUSERSITE="1")
    result = subprocess.run([str(python), "-c", PREDICT], cwd=outside, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(report["package"]).is_relative_to(site_packages), report["package"]
    assert {"dlcodegen.core.plan", "dlcodegen.core.errors"} <= set(report["core"])
    assert Path(report["classifier_folder"]).is_relative_to(site_packages), report["classifier_folder"]
    assert report["classifiers"] == report["classified_fields"] != []
    assert report["warnings"] == []
    assert report["plan"] and report["plan"]["Task Category"] == "Image Classification", report["plan"]
