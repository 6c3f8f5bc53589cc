"""The levels, in order, for one project: parse, imports, model_built, train_step (and task_fit, learns when the job
carries a task). Each step returns the level that
failed and its one-line error, or (None, None) when the project went on."""

from __future__ import annotations

import ast
import builtins
import re

from dlcodegen.verify.child.describe import describe, describe_raised, one_line, project_line
from dlcodegen.verify.child.guess import scan_code
from dlcodegen.verify.child.libraries import keras_installed, patch_libraries
from dlcodegen.verify.child.plotting import NOTEBOOK_NAMES
from dlcodegen.verify.child.state import Run, StopAfterTrainStep, TrainStepFailed
from dlcodegen.verify.child.training import synthetic_train_step

Failure = tuple[str | None, str | None]   # (the level that failed, its one-line error); (None, None): passed

_KERAS_HINT = re.compile(r"\b(keras|tensorflow)\b")
_BUILDER_NAME = re.compile(r"^(build|create|get|make|define)_?\w*model\w*$", re.I)


def run_levels(run: Run, code: str) -> Failure:
    """Go through the levels; returns (failed level, error) or (None, None) when the train step passed."""
    try:
        code, tree = prepare_source(run, code)
        program = compile(tree, run.filename, "exec")
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        return "parse", f"{type(error).__name__}: {one_line(run, error.msg)}{where}"
    except (ValueError, RecursionError) as error:
        return "parse", f"{type(error).__name__}: {one_line(run, error)}"
    run.reach("parse")
    run.guess = scan_code(tree, code)

    package = _package_shaped(tree)
    namespace = {"__name__": "project" if package else "__main__", "__file__": run.filename,
                 "__builtins__": builtins, **NOTEBOOK_NAMES}
    try:
        _run_imports(run, tree, namespace)
    except BaseException as error:  # noqa: BLE001  (SystemExit too: the project must not end the harness)
        return "imports", describe_raised(run, error)
    run.reach("imports")
    try:
        patch_libraries(run, keras=bool(_KERAS_HINT.search(code)) and keras_installed())
    except Exception as error:
        return "model_built", f"harness: could not prepare Keras: {describe(run, error, None)}"

    try:
        if package:
            _train_package_project(run, program, namespace)
        else:
            _train_any_project(run, program, tree, namespace)
    except StopAfterTrainStep:
        pass
    except TrainStepFailed as failure:
        return run.attempting, describe(run, failure.error, project_line(run, failure.__traceback__))
    except BaseException as error:  # noqa: BLE001
        return run.attempting, describe_raised(run, error)
    run.reach("train_step")
    if run.job.task is None:
        return None, None
    return _task_levels(run)


def _task_levels(run: Run) -> Failure:
    """task_fit and learns on the model the project built (the job carries the task)."""
    from dlcodegen.verify.child.task_levels import LevelFailed, learns, task_fit

    model = run.last_model
    if model is None:
        return "task_fit", "the project trained no Keras model verify can see"
    train_on_batch = run.original_train_on_batch or type(model).train_on_batch
    for level, check in (("task_fit", lambda: task_fit(run, model)),
                         ("learns", lambda: learns(run, model, train_on_batch))):
        try:
            check()
        except LevelFailed as failure:
            return level, str(failure)
        except Exception as error:  # noqa: BLE001  (the model's own error on the task batch)
            return level, describe(run, error, project_line(run, error.__traceback__))
        run.reach(level)
    return None, None


def prepare_source(run: Run, code: str) -> tuple[str, ast.Module]:
    """The code as it will run, parsed; fences and notebook magics are removed only when it does not parse as is."""
    try:
        return code, ast.parse(code, run.filename)
    except SyntaxError as first_error:
        from dlcodegen.analysis.source import strip_magics_counted
        from dlcodegen.extract import extract_code

        candidate = code
        if re.search(r"^[ \t]*(```|~~~)", code, re.M):
            candidate = extract_code(code)
            run.note("markdown fences removed (line numbers refer to the code inside them)")
        candidate, stripped = strip_magics_counted(candidate, prefixed_only=True)
        if stripped:
            run.note(f"{stripped} notebook shell/magic line(s) (! or %) replaced by `pass`")
        if candidate == code:
            raise first_error
        return candidate, ast.parse(candidate, run.filename)


def _takes_no_argument(node: ast.FunctionDef) -> bool:
    return (len(node.args.args) == len(node.args.defaults) and not node.args.posonlyargs
            and all(default is not None for default in node.args.kw_defaults))


def _package_shaped(tree: ast.Module) -> bool:
    """A project in this package's shape: a top-level `build_model()` callable without arguments and a
    `if __name__ == "__main__":` guard."""
    has_builder = any(isinstance(node, ast.FunctionDef) and node.name == "build_model" and _takes_no_argument(node)
                      for node in tree.body)
    has_guard = any(isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)
                    and "__main__" in ast.unparse(node.test) for node in tree.body)
    return has_builder and has_guard


def _run_imports(run: Run, tree: ast.Module, namespace: dict) -> None:
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module(body=[node], type_ignores=[]), run.filename, "exec"), namespace)


def _is_keras_model(value) -> bool:
    try:
        from keras.src.models.model import Model
    except ImportError:
        return False
    return isinstance(value, Model)


def _train_package_project(run: Run, program, namespace: dict) -> None:
    """This package's shape: import the module (main() does not run), call build_model(), one synthetic step."""
    run.note("project in dlcodegen's shape: module imported (main() not run), build_model() called, "
             "load_data() not run")
    exec(program, namespace)
    model = namespace["build_model"]()
    if not _is_keras_model(model):
        raise TypeError(f"build_model() returned {type(model).__name__}, not a Keras model")
    run.model_built(model)
    synthetic_train_step(run, model)
    run.train_done = True


def _train_any_project(run: Run, program, tree: ast.Module, namespace: dict) -> None:
    """Any other code: run it top to bottom (its first fit runs the synthetic step and stops it); when it ends
    without training, step its last compiled model (or the one its model-building function returns)."""
    try:
        exec(program, namespace)
    except SystemExit as stop:
        if stop.code not in (None, 0):
            raise
        run.note("the project called sys.exit(0)")
    if run.train_failure is not None and not run.train_done:
        raise run.train_failure
    if not run.train_done and run.last_model is None:
        _call_model_builder(run, tree, namespace)
    if not run.train_done:
        if run.last_model is None:
            raise RuntimeError("the project ran to its end without compiling a Keras model")
        run.note("the project ran to its end without calling fit(): train step on its last compiled model")
        synthetic_train_step(run, run.last_model)
        run.train_done = True


def _call_model_builder(run: Run, tree: ast.Module, namespace: dict) -> None:
    """The project ran to its end without building a model (its main call commented out, say): call its first
    top-level model-building function that needs no argument, if any."""
    for node in tree.body:
        if (isinstance(node, ast.FunctionDef) and _BUILDER_NAME.match(node.name) and _takes_no_argument(node)
                and callable(namespace.get(node.name))):
            run.note(f"the project ran to its end without building a model: called its {node.name}()")
            model = namespace[node.name]()
            if _is_keras_model(model):
                run.model_built(model)
            return
