"""Static code -> plan extraction for Keras/TensorFlow code: the plan a notebook *implements*, read with `ast` only.

The code is parsed, never imported or executed. `plan_from_code(code, task_category)` returns a `Plan` in
DLPlanData's style:

- `layers`: one string per layer, `ast.unparse` of the layer's constructor call with the module path removed
  (`tf.keras.layers.Conv2D(32, (3, 3), activation='relu')` -> "Conv2D(32, (3, 3), activation='relu')"; inside the
  arguments `tf.keras.regularizers.l2(0.01)` -> "regularizers.l2(0.01)"), as DLPlanData's code-style plans write
  them. Arguments are kept as written (`Dense(num_classes, ...)` stays so), except a function's parameters that the
  call site binds to constants (`conv_block(x, 64)`: `Conv2D(filters, 3)` -> "Conv2D(64, 3)"). Read from
  `Sequential([...])` lists, `model.add(...)` chains, functional graphs (traced backwards from `Model(inputs,
  outputs)`'s outputs through `x = Layer(...)(x)` assignments, user functions such as `conv_block(x, 64)` and
  `base_model.output`, then listed inputs-first in execution order) and subclassed models (the
  `self.* = Layer(...)` of `__init__`). Pretrained bases count as one layer ("VGG16(weights='imagenet',
  include_top=False, input_shape=(224, 224, 3))"); a nested `Sequential` (data augmentation) is inlined.
- `optimizer`: the Keras class name ("Adam", "RMSprop"; string names are mapped: 'adam' -> "Adam"), with the wrapped
  optimizer for wrappers ("Lookahead with Adam"). `learning_rate`: the optimizer call's `learning_rate`/`lr`
  keyword or first argument, through variables and `initial_learning_rate` of a schedule; else a module constant
  named like `LR`/`LEARNING_RATE`.
- `loss_function`: a string loss as written ('categorical_crossentropy'), a loss object's class name
  ("CategoricalCrossentropy", "... with label smoothing" when it has one), a custom function's name; several
  losses joined with ", ". `evaluation_metric`: the compile metrics joined with ", " ("accuracy, AUC").
- `batch_size`, `epochs`: `fit(...)` keywords (or positions), through simple constant propagation (`EPOCHS = 10`,
  `CFG.batch_size`, `config['epochs']`, arithmetic); the batch size else from the training data (`batch_size=` of
  `flow_from_directory`/`image_dataset_from_directory`, `.batch(32)` of a `tf.data` chain); else a module constant
  named like `BATCH_SIZE`/`EPOCHS`, else the last `batch_size=`/`epochs=` keyword of any call. Keras defaults
  (batch 32, one epoch) are never filled in.
- `input`: a short text from the model's input shape (`Input(shape=...)`, `input_shape=`, `input_dim=`), else
  `target_size=`/`image_size=` or an `IMG_SIZE`-like constant: "Images of shape (224, 224, 3)", "Sequences of shape
  (60, 1)", "Feature vectors of shape (108,)", "Token sequences of length 100". `output`: from the last Dense (or
  convolution) layer and its activation: "10 classes (softmax)", "Binary label (sigmoid)", "1 value (linear)".
- `task_category`: the argument (the code does not say it); `preprocess` is left empty.

Which model: the last `fit` (or `fit_generator`) whose receiver is compiled; its compile is the last compile of the
same receiver before it (or the compile inside the user function that built the receiver). A notebook that
trains twice (say, a head then a fine-tuning pass) therefore gives the second compile's optimizer and learning
rate. Without such a pair the last compile is used, with the last fit-like call that has an `epochs=` keyword; the
layers come from the compiled receiver, else the fitted one, else the last `Model(...)`/`Sequential(...)` built.

Bad code never raises: IPython lines (`!pip ...`, `%matplotlib inline`, `x = !ls`, a bare `pip install`) become
`pass`, and each remaining syntax error is repaired line by line (cut at the error, dedented, dropped, or the
whole top-level statement dropped), falling back to parsing statement by statement; code with nothing readable
gives a plan holding only `task_category`. Everything is a heuristic over the source text: a value computed at
run time (`len(classes)`, `X.shape[1:]`) stays as written or is left empty.
"""

from __future__ import annotations

import ast
import copy
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlcodegen.planning.plan import Plan

__all__ = ["notebook_code", "parse_code", "plan_from_code", "strip_magics", "usable_module"]

# ---------------------------------------------------------------------------------------------------------------
# Reading code: notebooks, IPython magics, partial parsing


def notebook_code(source: str | Path) -> str:
    """The Python code of a `.ipynb` (code cells joined with blank lines; magics kept) or of any other text file."""
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    if path.suffix.lower() != ".ipynb":
        return text
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not a Jupyter notebook: not JSON ({error.msg} at line {error.lineno})") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if cells is None and isinstance(notebook, dict) and notebook.get("worksheets"):  # nbformat 3
        cells = notebook["worksheets"][0].get("cells")
    if not isinstance(cells, list):
        raise ValueError(f"{path} is not a Jupyter notebook: it has no list of cells")
    parts = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source_text = cell.get("source", cell.get("input", ""))
        if isinstance(source_text, list):
            source_text = "".join(str(line) for line in source_text)
        if isinstance(source_text, str) and source_text.strip():
            parts.append(source_text.rstrip("\n"))
    return "\n\n".join(parts) + ("\n" if parts else "")


_MAGIC = re.compile(r"^(\s*)(?:!(?!=)|%%?[A-Za-z])")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)(?:!(?!=)|%%?[A-Za-z]).*$")
_SHELL_LINE = re.compile(r"^(\s*)(?:pip3?|conda|apt(?:-get)?|wget|curl|unzip|tar|git|ls|cd|mkdir|rm|cp|mv|"
                         r"nvidia-smi|python3?|kaggle)\s")


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def strip_magics(code: str) -> str:
    """`code` with IPython lines replaced by `pass` (same indentation, same line numbers)."""
    lines = code.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "").split("\n")
    for index, line in enumerate(lines):
        magic = _MAGIC.match(line)
        if magic:
            lines[index] = magic.group(1) + "pass"
            continue
        assigned = _ASSIGNED_MAGIC.match(line)
        if assigned:
            lines[index] = assigned.group(1) + "None"
            continue
        shell = _SHELL_LINE.match(line)
        if shell and not _parses(line.strip()):
            lines[index] = shell.group(1) + "pass"
    return "\n".join(lines)


_MAX_PARSES = 80  # whole-file parses spent on repairs before falling back to statement by statement
_CONTINUATION = re.compile(r"^(?:else|elif|except|finally|case)\b|^[)\]}#]")


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


def parse_code(code: str) -> ast.Module:
    """The module `code` parses to after removing magics and repairing syntax errors (possibly with no statements)."""
    if not isinstance(code, str):
        return ast.Module(body=[], type_ignores=[])
    with warnings.catch_warnings():  # notebooks are full of invalid escapes ("\s" in a regex): not our concern
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return _parse_code(code)


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


def usable_module(module: ast.Module) -> bool:
    """Whether the module holds at least one real statement (not only `pass`, names and string constants)."""
    for statement in module.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, (ast.Constant, ast.Name)):
            continue
        return True
    return False


# ---------------------------------------------------------------------------------------------------------------
# Scopes, assignments and constant propagation

_UNKNOWN = object()
_LAST_LINE = 10 ** 9


@dataclass
class _Assign:
    line: int
    col: int
    value: ast.expr | None  # None: bound, but to nothing we can read (loop variable, augmented assignment, ...)
    index: int | None = None  # `a, b = f()`: position of the name in the unpacked value


@dataclass(eq=False)
class _Scope:
    node: ast.AST
    kind: str  # "module", "function", "class"
    parent: "_Scope | None"
    assigns: dict[str, list[_Assign]] = field(default_factory=dict)
    calls: list[ast.Call] = field(default_factory=list)
    functions: dict[str, "_Scope"] = field(default_factory=dict)
    classes: dict[str, "_Scope"] = field(default_factory=dict)
    returns: list[ast.Return] = field(default_factory=list)
    loops: list[ast.For] = field(default_factory=list)

    @property
    def params(self) -> dict[str, ast.expr | None]:
        if self.kind != "function":
            return {}
        args = self.node.args
        positional = args.posonlyargs + args.args
        defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
        params = {arg.arg: default for arg, default in zip(positional, defaults)}
        params.update({arg.arg: default for arg, default in zip(args.kwonlyargs, args.kw_defaults)})
        return params

    def find_function(self, name: str) -> "_Scope | None":
        scope = self
        while scope is not None:
            if name in scope.functions:
                return scope.functions[name]
            scope = scope.parent
        return None

    def find_class(self, name: str) -> "_Scope | None":
        scope = self
        while scope is not None:
            if name in scope.classes:
                return scope.classes[name]
            scope = scope.parent
        return None

    def enclosing_class(self) -> "_Scope | None":
        scope = self.parent
        while scope is not None and scope.kind != "class":
            scope = scope.parent
        return scope


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _callee(call: ast.Call) -> str:
    """Last name of what is called: `tf.keras.layers.Dense` -> "Dense"; "" when it is not a (dotted) name."""
    name = _dotted(call.func)
    return name.rsplit(".", 1)[-1] if name else ""


class _Collector:
    """Builds the scope tree: assignments, calls, functions, classes and returns of each scope."""

    def __init__(self, module: ast.Module):
        self.module = _Scope(module, "module", None)
        self.scope_of: dict[int, _Scope] = {}
        self.all_calls: list[ast.Call] = []
        self.layer_modules: set[str] = set()
        self._visit_body(module.body, self.module)

    def _bind(self, scope: _Scope, target: ast.AST, value: ast.expr | None, index: int | None = None) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts) \
                    and not any(isinstance(e, ast.Starred) for e in target.elts + value.elts):
                for sub_target, sub_value in zip(target.elts, value.elts):
                    self._bind(scope, sub_target, sub_value)
            else:
                for position, sub_target in enumerate(target.elts):
                    starred = isinstance(sub_target, ast.Starred)
                    self._bind(scope, sub_target.value if starred else sub_target,
                               None if starred else value, None if starred or value is None else position)
            return
        if isinstance(target, ast.Starred):
            self._bind(scope, target.value, None)
            return
        name = _dotted(target)
        if name is None:
            return
        scope.assigns.setdefault(name, []).append(
            _Assign(getattr(target, "lineno", 0), getattr(target, "col_offset", 0), value, index))

    def _visit_body(self, statements, scope: _Scope) -> None:
        for statement in statements:
            self._visit(statement, scope)

    def _visit(self, node: ast.AST, scope: _Scope) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                self._visit(decorator, scope)
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            child = _Scope(node, kind, scope)
            (scope.classes if kind == "class" else scope.functions)[node.name] = child
            if kind == "function":
                for default in node.args.defaults + [d for d in node.args.kw_defaults if d is not None]:
                    self._visit(default, scope)
            else:
                for base in node.bases:
                    self._visit(base, scope)
            self._visit_body(node.body, child)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            self._imports(node)
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._bind(scope, target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._bind(scope, node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            self._bind(scope, node.target, None)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._bind(scope, node.target, None)
            scope.loops.append(node)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self._bind(scope, item.optional_vars, None)
        elif isinstance(node, ast.NamedExpr):
            self._bind(scope, node.target, node.value)
        elif isinstance(node, ast.Return):
            scope.returns.append(node)
        elif isinstance(node, ast.Call):
            scope.calls.append(node)
            self.all_calls.append(node)
            self.scope_of[id(node)] = scope
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope)

    def _imports(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            full = alias.name if isinstance(node, ast.Import) else f"{node.module or ''}.{alias.name}"
            bound = alias.asname or (alias.name if isinstance(node, ast.ImportFrom) else None)
            if bound and (full.endswith(".layers") or full == "layers" or "applications" in full
                          or "efficientnet" in full):
                self.layer_modules.add(bound)


@dataclass(eq=False)
class _Frame:
    """A scope being read: `bindings` maps a function's parameters to the caller's arguments."""

    scope: _Scope
    bindings: dict[str, tuple[ast.expr | None, "_Frame", int]] = field(default_factory=dict)
    call_line: int | None = None
    caller: "_Frame | None" = None


@dataclass
class _Resolved:
    value: ast.expr | None
    frame: _Frame
    line: int
    index: int | None = None


# ---------------------------------------------------------------------------------------------------------------
# Naming conventions

OPTIMIZER_NAMES = {name.lower(): name for name in (
    "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "SGD", "Adagrad", "Adadelta", "Ftrl", "Lion", "Adafactor",
    "RectifiedAdam", "LazyAdam", "Lookahead", "SWA", "LAMB", "NovoGrad", "Yogi", "SGDW", "AdaBelief")}
OPTIMIZER_WRAPPERS = {"Lookahead", "SWA", "LossScaleOptimizer", "MovingAverage"}
_LR_SCHEDULES_KEYS = ("initial_learning_rate", "learning_rate", "lr", "max_lr", "base_lr")
_MERGES = {"concatenate": "Concatenate", "add": "Add", "multiply": "Multiply", "average": "Average",
           "maximum": "Maximum", "minimum": "Minimum", "subtract": "Subtract", "dot": "Dot"}
_SKIP_AT_OUTPUT = {"Dropout", "Reshape", "Flatten", "GaussianNoise", "AlphaDropout", "SpatialDropout1D",
                   "SpatialDropout2D", "ActivityRegularization", "BatchNormalization", "LayerNormalization",
                   "Cropping2D"}
_CONVOLUTIONS = {"Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "Conv1DTranspose",
                 "SeparableConv2D", "Convolution2D"}
_BATCH_NAME = re.compile(r"^(?:train_|training_)?(?:batch_?size|bs|batch)$", re.I)
_EPOCHS_NAME = re.compile(r"^(?:n_|num_|nb_|max_|total_|train_)?epochs?$", re.I)
_LR_NAME = re.compile(r"^(?:init_|initial_|base_|max_|start_)?(?:lr|learning_?rate)$", re.I)
_IMAGE_SIZE_NAME = re.compile(r"^(?:img|image|im|target)_?(?:size|shape|dims?|res|resolution)$", re.I)
_INPUT_SHAPE_NAME = re.compile(r"^input_?shape$", re.I)
_IMAGE_HEIGHT_NAME = re.compile(r"^(?:img|image|im)_?(?:height|h|rows)$", re.I)
_IMAGE_WIDTH_NAME = re.compile(r"^(?:img|image|im)_?(?:width|w|cols)$", re.I)
_MAX_DEPTH = 300


def _positive_int(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    number = int(value)
    return number if 0 < number <= 10_000_000 else None


def _learning_rate(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 < number < 10 else None


class _StripModules(ast.NodeTransformer):
    """`tf.keras.layers.X` / `layers.X` / `tf.keras.applications.x.Y` -> `X` / `Y`; `tf.keras.a.b` -> `a.b`."""

    def __init__(self, layer_modules: set[str]):
        self.layer_modules = layer_modules

    def visit_Attribute(self, node: ast.Attribute):
        name = _dotted(node)
        if name is None:
            return self.generic_visit(node)
        parts = name.split(".")
        if parts[0] in ("self", "cls"):
            return node
        inner = parts[:-1]
        if parts[0] in self.layer_modules or any(part in ("layers", "applications") for part in inner):
            return ast.copy_location(ast.Name(id=parts[-1], ctx=ast.Load()), node)
        for prefix in (("tensorflow", "keras"), ("tf", "keras"), ("keras",)):
            if tuple(parts[:len(prefix)]) == prefix and len(parts) > len(prefix) + 1:
                return ast.copy_location(ast.parse(".".join(parts[len(prefix):]), mode="eval").body, node)
        return node


def _literal(value) -> ast.expr | None:
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return ast.Constant(value)
    if isinstance(value, tuple) and len(value) <= 8:
        items = [_literal(item) for item in value]
        return None if any(item is None for item in items) else ast.Tuple(elts=items, ctx=ast.Load())
    return None


class _Substitute(ast.NodeTransformer):
    """A function's parameters, where the call site binds them (or their defaults) to constants, as values."""

    def __init__(self, analysis: "_Analysis", frame: _Frame, line: int):
        self.analysis, self.frame, self.line = analysis, frame, line
        self.params = set(frame.scope.params)

    def visit_Lambda(self, node: ast.Lambda):
        return node  # its own parameters shadow

    def visit_Name(self, node: ast.Name):
        if node.id not in self.params or not isinstance(node.ctx, ast.Load):
            return node
        if any(entry.line < self.line for entry in self.frame.scope.assigns.get(node.id, [])):
            return node  # reassigned inside the function
        literal = _literal(self.analysis.const(node, self.frame, self.line))
        return ast.copy_location(literal, node) if literal is not None else node


# ---------------------------------------------------------------------------------------------------------------
# The analysis


@dataclass
class _Layer:
    text: str
    call: ast.Call | None
    frame: _Frame
    line: int


class _Analysis:
    def __init__(self, module: ast.Module):
        self.collected = _Collector(module)
        self.module_frame = _Frame(self.collected.module)
        self._frames: dict[int, _Frame] = {}
        self._bound_frames: dict[tuple[int, int], _Frame] = {}
        self.layers: list[_Layer] = []
        self._seen: set[tuple] = set()

    # -- frames and names ---------------------------------------------------------------------------------------

    def frame_of(self, scope: _Scope) -> _Frame:
        if scope is self.collected.module:
            return self.module_frame
        if id(scope) not in self._frames:
            self._frames[id(scope)] = _Frame(scope, caller=self.frame_of(scope.parent) if scope.parent else None)
        return self._frames[id(scope)]

    def call_frame(self, function: _Scope, call: ast.Call, caller: _Frame, line: int) -> _Frame:
        key = (id(call), id(caller))
        if key in self._bound_frames:
            return self._bound_frames[key]
        node = function.node
        positional = [arg.arg for arg in node.args.posonlyargs + node.args.args]
        if function.enclosing_class() is not None and positional and positional[0] in ("self", "cls"):
            positional = positional[1:]
        bindings = {}
        for name, arg in zip(positional, call.args):
            if isinstance(arg, ast.Starred):
                break
            bindings[name] = (arg, caller, line)
        for keyword in call.keywords:
            if keyword.arg:
                bindings[keyword.arg] = (keyword.value, caller, line)
        frame = _Frame(function, bindings, line, self.frame_of(function.parent) if function.parent else None)
        self._bound_frames[key] = frame
        return frame

    def user_function(self, call: ast.Call, frame: _Frame) -> _Scope | None:
        """The user-defined function (or `self.method`) that `call` calls, if any."""
        name = _dotted(call.func) or ""
        if name and "." not in name:
            return frame.scope.find_function(name)
        root, _, rest = name.partition(".")
        if root in ("self", "cls") and rest and "." not in rest:
            owner = frame.scope if frame.scope.kind == "class" else frame.scope.enclosing_class()
            return owner.functions.get(rest) if owner is not None else None
        return None

    def deref(self, node: ast.AST, frame: _Frame, line: int, depth: int = 0) -> _Resolved | None:
        """Follow name -> name bindings to the expression behind them."""
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is None:
            return _Resolved(node, frame, line)
        if depth > 20:
            return None
        found = self.resolve(name, frame, line)
        if found is None or found.value is None or found.index is not None:
            return found
        return self.deref(found.value, found.frame, found.line, depth + 1)

    def resolve(self, name: str, frame: _Frame, line: int) -> _Resolved | None:
        """The expression `name` holds at `line` of `frame` (the last assignment before it), or None."""
        scope = frame.scope
        entries = scope.assigns.get(name, [])
        before = [entry for entry in entries if entry.line < line]
        if before:
            entry = before[-1]
            return _Resolved(entry.value, frame, entry.line, entry.index)
        if name in frame.bindings:
            value, caller, call_line = frame.bindings[name]
            return _Resolved(value, caller, call_line)
        params = scope.params
        if name in params:
            default = params[name]
            return _Resolved(default, frame.caller or self.module_frame, scope.node.lineno) if default else None
        if "." in name:
            root, rest = name.split(".", 1)
            if root in ("self", "cls") and "." not in rest:
                found = self._class_attribute(scope, rest)
                if found:
                    return found
            owner = scope.find_class(root)
            if owner is not None and "." not in rest and rest in owner.assigns:
                entry = owner.assigns[rest][-1]
                return _Resolved(entry.value, self.frame_of(owner), entry.line, entry.index)
        parent = scope.parent
        while parent is not None and parent.kind == "class":  # methods do not see their class body's names
            parent = parent.parent
        if parent is None:
            return None
        parent_frame = frame.caller if frame.caller is not None and frame.caller.scope is parent \
            else self.frame_of(parent)
        entries = parent.assigns.get(name, [])
        if not entries:
            return self.resolve(name, parent_frame, _LAST_LINE) if parent.kind != "module" else None
        limit = frame.call_line if frame.call_line is not None and parent_frame.scope is parent else \
            scope.node.lineno
        before = [entry for entry in entries if entry.line < limit] or entries
        entry = before[-1]
        return _Resolved(entry.value, parent_frame, entry.line, entry.index)

    def _class_attribute(self, scope: _Scope, attribute: str) -> _Resolved | None:
        owner = scope if scope.kind == "class" else scope.enclosing_class()
        if owner is None:
            return None
        best: tuple[_Assign, _Scope] | None = None
        for method in owner.functions.values():
            for entry in method.assigns.get(f"self.{attribute}", []):
                if best is None or entry.line > best[0].line:
                    best = (entry, method)
        if best is None and attribute in owner.assigns:
            best = (owner.assigns[attribute][-1], owner)
        if best is None:
            return None
        return _Resolved(best[0].value, self.frame_of(best[1]), best[0].line, best[0].index)

    # -- constants ----------------------------------------------------------------------------------------------

    def const(self, node: ast.AST | None, frame: _Frame, line: int, depth: int = 0):
        if node is None or depth > 40:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            items = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    value = self.const(element.value, frame, line, depth + 1)
                    if not isinstance(value, (tuple, list)):
                        return _UNKNOWN
                    items.extend(value)
                    continue
                value = self.const(element, frame, line, depth + 1)
                if value is _UNKNOWN:
                    return _UNKNOWN
                items.append(value)
            return tuple(items)
        if isinstance(node, ast.Dict):
            result = {}
            for key, value in zip(node.keys, node.values):
                if key is None:
                    return _UNKNOWN
                key_value, item = self.const(key, frame, line, depth + 1), self.const(value, frame, line, depth + 1)
                if key_value is _UNKNOWN or item is _UNKNOWN or not isinstance(key_value, (str, int, float)):
                    return _UNKNOWN
                result[key_value] = item
            return result
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return _UNKNOWN
            value = self.const(found.value, found.frame, found.line, depth + 1)
            if found.index is not None:
                return value[found.index] if isinstance(value, tuple) and found.index < len(value) else _UNKNOWN
            return value
        if isinstance(node, ast.Subscript):
            container = self.const(node.value, frame, line, depth + 1)
            key = self.const(node.slice, frame, line, depth + 1)
            if isinstance(node.slice, ast.Slice):
                parts = [self.const(p, frame, line, depth + 1) if p is not None else None
                         for p in (node.slice.lower, node.slice.upper, node.slice.step)]
                if isinstance(container, tuple) and all(p is None or isinstance(p, int) for p in parts):
                    return container[slice(*parts)]
                return _UNKNOWN
            try:
                if isinstance(container, (dict, tuple, str)) and isinstance(key, (str, int)):
                    return container[key]
            except (KeyError, IndexError, TypeError):
                return _UNKNOWN
            return _UNKNOWN
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.const(node.operand, frame, line, depth + 1)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value if isinstance(node.op, ast.USub) else value
            return _UNKNOWN
        if isinstance(node, ast.BinOp):
            left = self.const(node.left, frame, line, depth + 1)
            right = self.const(node.right, frame, line, depth + 1)
            return _binop(node.op, left, right)
        if isinstance(node, ast.Call) and _dotted(node.func) in ("int", "float", "round") and len(node.args) == 1:
            value = self.const(node.args[0], frame, line, depth + 1)
            if isinstance(value, (int, float, str)) and not isinstance(value, bool):
                try:
                    return {"int": int, "float": float, "round": round}[_dotted(node.func)](value)
                except (ValueError, OverflowError):
                    return _UNKNOWN
        return _UNKNOWN

    # -- layers -------------------------------------------------------------------------------------------------

    def layer_text(self, call: ast.Call, frame: _Frame | None = None) -> str:
        """The call as DLPlanData writes a layer; inside a function called with constants, its parameters become
        those values (`conv_block(x, 64)`: `Conv2D(filters, 3)` -> `Conv2D(64, 3)`)."""
        node = copy.deepcopy(call)
        name = _dotted(node.func)
        if name is not None:
            node.func = ast.Name(id=name.rsplit(".", 1)[-1], ctx=ast.Load())
        node = _StripModules(self.collected.layer_modules).visit(node)
        if frame is not None and frame.scope.kind == "function":
            node = _Substitute(self, frame, call.lineno).visit(node)
        return ast.unparse(node)

    def _emit(self, text: str, call: ast.Call | None, frame: _Frame, line: int) -> None:
        self.layers.append(_Layer(text, call, frame, line))

    def emit_object(self, node: ast.AST, frame: _Frame, line: int, depth: int = 0) -> None:
        """Append the layers of a layer or model object (a constructor call, or a name bound to one)."""
        if depth > _MAX_DEPTH:
            return
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                if isinstance(node, ast.Name):
                    self._emit(name, None, frame, line)
                return
            key = (id(found.value), id(found.frame))
            if key in self._seen:
                return
            self._seen.add(key)
            value = found.value
            if isinstance(value, ast.Call) and _callee(value) == "Sequential":
                self.sequential(value, found.frame, name, found.line, line)
            elif found.index is not None and isinstance(value, ast.Call):
                return  # `a, b = make_models()`: which one is unknown
            else:
                self.emit_object(value, found.frame, found.line, depth + 1)
            return
        if isinstance(node, ast.Attribute) and node.attr in ("output", "outputs"):
            self.trace(node, frame, line, depth + 1)
            return
        if not isinstance(node, ast.Call):
            return
        if isinstance(node.func, ast.Call):  # `Model(...)(x)` used as a layer object: the applied object
            self.emit_object(node.func, frame, line, depth + 1)
            return
        callee = _callee(node)
        callee_name = _dotted(node.func) or ""
        if callee == "Sequential":
            self.sequential(node, frame, None, node.lineno, line)
            return
        if callee in ("Model", "Functional") and (len(node.args) >= 2 or _keyword(node, "outputs") is not None):
            outputs = _keyword(node, "outputs") or node.args[1]
            self.trace(outputs, frame, node.lineno, depth + 1)
            return
        function = self.user_function(node, frame)
        if function is not None:
            callee_frame = self.call_frame(function, node, frame, line)
            for returned in function.returns:
                if returned.value is not None:
                    self.emit_object(returned.value, callee_frame, returned.lineno, depth + 1)
            return
        if "." not in callee_name:
            owner = frame.scope.find_class(callee_name)
            if owner is not None and _subclasses_model(owner):
                self.subclassed(owner, node, frame, line, depth)
                return
        if callee[:1].isupper():  # layers and models are classes; `load_model(...)` and the like are not layers
            self._emit(self.layer_text(node, frame), node, frame, line)

    def sequential(self, call: ast.Call, frame: _Frame, name: str | None, start: int, upto: int) -> None:
        elements = _keyword(call, "layers") or (call.args[0] if call.args else None)
        if isinstance(elements, (ast.List, ast.Tuple)):
            for element in elements.elts:
                self.emit_object(element, frame, call.lineno)
        if name is None:
            return
        later = [entry.line for entry in frame.scope.assigns.get(name, []) if entry.line > start]
        end = min([upto] + later)
        for added in frame.scope.calls:
            if (start < added.lineno < end and isinstance(added.func, ast.Attribute) and added.func.attr == "add"
                    and _dotted(added.func.value) == name and len(added.args) == 1):
                self.emit_object(added.args[0], frame, added.lineno)

    def subclassed(self, owner: _Scope, call: ast.Call, frame: _Frame, line: int, depth: int) -> None:
        init = owner.functions.get("__init__")
        if init is None:
            return
        init_frame = self.call_frame(init, call, frame, line)
        entries = sorted((entry for name, items in init.assigns.items() if name.startswith("self.")
                          for entry in items if entry.value is not None), key=lambda e: (e.line, e.col))
        for entry in entries:
            if isinstance(entry.value, (ast.Call, ast.Name, ast.List)):
                values = entry.value.elts if isinstance(entry.value, ast.List) else [entry.value]
                for value in values:
                    self.emit_object(value, init_frame, entry.line, depth + 1)

    def trace(self, node: ast.AST, frame: _Frame, line: int, depth: int = 0) -> None:
        """Append the layers that compute the tensor `node`, inputs first."""
        if depth > _MAX_DEPTH or node is None:
            return
        if isinstance(node, ast.Attribute) and node.attr in ("output", "outputs"):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                self.emit_object(root, frame, line, depth + 1)
            return
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return
            key = (id(found.value), id(found.frame))
            if key in self._seen:
                return
            self._seen.add(key)
            value = found.value
            if found.index is not None and isinstance(value, ast.Call):
                function = self.user_function(value, found.frame)
                if function is None:
                    self.trace(value, found.frame, found.line, depth + 1)
                    return
                callee_frame = self.call_frame(function, value, found.frame, found.line)
                for returned in function.returns:
                    target = returned.value
                    if isinstance(target, (ast.Tuple, ast.List)) and found.index < len(target.elts):
                        target = target.elts[found.index]
                    self.trace(target, callee_frame, returned.lineno, depth + 1)
                return
            self.trace(value, found.frame, found.line, depth + 1)
            return
        if isinstance(node, ast.Call):
            self._trace_call(node, frame, line, depth)
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            for element in node.elts:
                self.trace(element, frame, line, depth + 1)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                self.trace(value, frame, line, depth + 1)
        elif isinstance(node, ast.Subscript):
            self.trace(node.value, frame, line, depth + 1)
        elif isinstance(node, ast.BinOp):
            self.trace(node.left, frame, line, depth + 1)
            self.trace(node.right, frame, line, depth + 1)
        elif isinstance(node, ast.IfExp):
            self.trace(node.body, frame, line, depth + 1)
        elif isinstance(node, ast.Starred):
            self.trace(node.value, frame, line, depth + 1)

    def _trace_inputs(self, call: ast.Call, frame: _Frame, line: int, depth: int) -> None:
        for argument in call.args:
            self.trace(argument, frame, line, depth + 1)
        for keyword in call.keywords:
            if keyword.arg not in ("training", "name"):
                self.trace(keyword.value, frame, line, depth + 1)

    def _trace_call(self, call: ast.Call, frame: _Frame, line: int, depth: int) -> None:
        key = ("call", id(call), id(frame))
        if key in self._seen:
            return
        self._seen.add(key)
        if isinstance(call.func, ast.Call):  # Layer(...)(inputs)
            self._trace_inputs(call, frame, line, depth)
            self.emit_object(call.func, frame, line, depth + 1)
            return
        name = _dotted(call.func)
        if name is None:
            self._trace_inputs(call, frame, line, depth)
            return
        last = name.rsplit(".", 1)[-1]
        if last in ("Input", "InputLayer"):
            self._emit(self.layer_text(call, frame), call, frame, line)
            return
        function = self.user_function(call, frame)
        if function is not None:
            callee_frame = self.call_frame(function, call, frame, line)
            for returned in function.returns:
                self.trace(returned.value, callee_frame, returned.lineno, depth + 1)
            return
        if last in _MERGES and (("." not in name) or name.rsplit(".", 2)[-2] == "layers"
                                or name.split(".")[0] in self.collected.layer_modules):
            self._trace_inputs(call, frame, line, depth)
            merged = ast.Call(func=ast.Name(id=_MERGES[last], ctx=ast.Load()), args=[],
                              keywords=[k for k in call.keywords if k.arg not in (None, "inputs", "name")])
            self._emit(ast.unparse(merged), call, frame, line)
            return
        if isinstance(call.func, (ast.Name, ast.Attribute)) and (isinstance(call.func, ast.Name)
                                                                 or name.startswith("self.")):
            found = self.deref(call.func, frame, line)
            if found is not None and isinstance(found.value, ast.Call):  # a layer or model object, applied
                self._trace_inputs(call, frame, line, depth)
                self.emit_object(call.func, frame, line, depth + 1)
                return
        self._trace_inputs(call, frame, line, depth)


def _binop(op: ast.operator, left, right):
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
    try:
        if numbers:
            if isinstance(op, ast.Add):
                return left + right
            if isinstance(op, ast.Sub):
                return left - right
            if isinstance(op, ast.Mult):
                return left * right
            if isinstance(op, ast.Div):
                return left / right
            if isinstance(op, ast.FloorDiv):
                return left // right
            if isinstance(op, ast.Mod):
                return left % right
            if isinstance(op, ast.Pow) and abs(right) <= 64 and abs(left) < 1e6:
                return left ** right
            return _UNKNOWN
        if isinstance(op, ast.Add) and type(left) is type(right) and isinstance(left, (str, tuple)):
            return left + right
        if isinstance(op, ast.Mult) and isinstance(left, tuple) and isinstance(right, int) and 0 <= right <= 16:
            return left * right
    except (ZeroDivisionError, OverflowError, TypeError, ValueError):
        return _UNKNOWN
    return _UNKNOWN


def _keyword(call: ast.Call, *names: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def _argument(call: ast.Call, position: int | None, *names: str) -> ast.expr | None:
    found = _keyword(call, *names)
    if found is not None:
        return found
    if position is not None and len(call.args) > position and not any(
            isinstance(arg, ast.Starred) for arg in call.args[:position + 1]):
        return call.args[position]
    return None


def _subclasses_model(owner: _Scope) -> bool:
    return any((_dotted(base) or "").rsplit(".", 1)[-1] in ("Model", "Sequential") for base in owner.node.bases)


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


# ---------------------------------------------------------------------------------------------------------------
# From the analysis to the plan


class _Extractor(_Analysis):
    def __init__(self, module: ast.Module):
        super().__init__(module)
        calls = self.collected.all_calls
        self.compiles = [c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr == "compile"
                         and c.func.value is not None and _dotted(c.func.value) not in ("re", "super")
                         and not isinstance(c.func.value, ast.Call)]
        self.fits = [c for c in calls if isinstance(c.func, ast.Attribute)
                     and c.func.attr in ("fit", "fit_generator") and _dotted(c.func.value)]
        self.compiles.sort(key=_position)
        self.fits.sort(key=_position)

    def frame_at(self, call: ast.Call) -> _Frame:
        return self.frame_of(self.collected.scope_of[id(call)])

    def choose(self) -> tuple[ast.Call | None, ast.Call | None]:
        """(compile, fit): the last fit whose receiver is compiled, and that compile."""
        for fit in reversed(self.fits):
            compile_call = self._compile_for(fit)
            if compile_call is not None:
                return compile_call, fit
        compile_call = self.compiles[-1] if self.compiles else None
        fit_like = [c for c in self.collected.all_calls if isinstance(c.func, ast.Attribute)
                    and c.func.attr in ("fit", "fit_generator", "search") and _keyword(c, "epochs") is not None]
        return compile_call, max(fit_like, key=_position) if fit_like else None

    def _compile_for(self, fit: ast.Call) -> ast.Call | None:
        receiver = _dotted(fit.func.value)
        scope = self.collected.scope_of[id(fit)]
        same = [c for c in self.compiles if _dotted(c.func.value) == receiver and _position(c) < _position(fit)]
        in_scope = [c for c in same if self.collected.scope_of[id(c)] is scope]
        if in_scope:
            return in_scope[-1]
        found = self.deref(fit.func.value, self.frame_of(scope), fit.lineno)
        if found is not None and isinstance(found.value, ast.Call):
            function = self.user_function(found.value, found.frame)
            if function is not None:
                inside = [c for c in self.compiles if self._within(self.collected.scope_of[id(c)], function)]
                if inside:
                    return inside[-1]
        return same[-1] if same else None

    @staticmethod
    def _within(scope: _Scope | None, ancestor: _Scope) -> bool:
        while scope is not None:
            if scope is ancestor:
                return True
            scope = scope.parent
        return False

    # -- layers -------------------------------------------------------------------------------------------------

    def model_layers(self, compile_call: ast.Call | None, fit: ast.Call | None) -> None:
        for call in (compile_call, fit):
            if call is not None and not self.layers:
                self._seen.clear()
                self.emit_object(call.func.value, self.frame_at(call), call.lineno)
                if self.layers and all(layer.call is None for layer in self.layers):
                    self.layers.clear()  # only unresolved names (a model loaded from disk, a parameter)
        if self.layers:
            return
        constructions = [c for c in self.collected.all_calls if _callee(c) == "Sequential" or (
            _callee(c) in ("Model", "Functional") and (len(c.args) >= 2 or _keyword(c, "outputs") is not None))]
        for construction in sorted(constructions, key=_position, reverse=True):
            self._seen.clear()
            scope = self.collected.scope_of[id(construction)]
            name = next((n for n, entries in scope.assigns.items() for e in entries
                         if e.value is construction and e.index is None), None)
            frame = self.frame_of(scope)
            if name is not None and _callee(construction) == "Sequential":
                self.sequential(construction, frame, name, construction.lineno, _LAST_LINE)
            else:
                self.emit_object(construction, frame, construction.lineno)
            if self.layers:
                return

    # -- hyperparameters ----------------------------------------------------------------------------------------

    def optimizer(self, node, frame: _Frame, line: int, depth: int = 0) -> tuple[str | None, float | None]:
        if node is None or depth > 20:
            return None, None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return OPTIMIZER_NAMES.get(node.value.lower().replace("_", ""), node.value), None
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None:
                return self.optimizer(found.value, found.frame, found.line, depth + 1)
            last = name.rsplit(".", 1)[-1]
            return (OPTIMIZER_NAMES.get(last.lower(), last), None) if last.lower() in OPTIMIZER_NAMES else (None, None)
        if not isinstance(node, ast.Call):
            return None, None
        callee = _callee(node)
        if not callee:
            return None, None
        function = self.user_function(node, frame)
        if function is not None:
            callee_frame = self.call_frame(function, node, frame, line)
            for returned in reversed(function.returns):
                result = self.optimizer(returned.value, callee_frame, returned.lineno, depth + 1)
                if result[0]:
                    return result
            return None, None
        inner = _argument(node, 0, "optimizer", "inner_optimizer")
        if callee in OPTIMIZER_WRAPPERS and inner is not None:
            inner_name, inner_lr = self.optimizer(inner, frame, line, depth + 1)
            own = self.learning_rate(_keyword(node, "learning_rate", "lr"), frame, line)
            return (f"{callee} with {inner_name}" if inner_name else callee), own or inner_lr
        rate = _argument(node, 0 if callee.lower() in OPTIMIZER_NAMES else None, "learning_rate", "lr")
        return callee, self.learning_rate(rate, frame, line)

    def learning_rate(self, node, frame: _Frame, line: int, depth: int = 0) -> float | None:
        if node is None or depth > 10:
            return None
        value = self.const(node, frame, line)
        if value is not _UNKNOWN:
            return _learning_rate(value)
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None:
                return self.learning_rate(found.value, found.frame, found.line, depth + 1)
            return None
        if isinstance(node, ast.Call):  # a schedule: its initial rate
            return self.learning_rate(_argument(node, 0, *_LR_SCHEDULES_KEYS), frame, line, depth + 1)
        return None

    def _named(self, node, frame: _Frame, line: int, depth: int = 0) -> list[str]:
        """Names of losses or metrics: strings as written, objects by class, functions by name."""
        if node is None or depth > 20:
            return []
        if isinstance(node, ast.Constant):
            return [str(node.value)] if isinstance(node.value, str) and node.value else []
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            return [name for element in node.elts for name in self._named(element, frame, line, depth + 1)]
        if isinstance(node, ast.Dict):
            return [name for value in node.values for name in self._named(value, frame, line, depth + 1)]
        if isinstance(node, ast.Call):
            callee = _callee(node)
            if not callee:
                return []
            smoothing = self.const(_keyword(node, "label_smoothing"), frame, line)
            if isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and smoothing > 0:
                return [f"{callee} with label smoothing"]
            return [callee]
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None and isinstance(
                    found.value, (ast.Constant, ast.Call, ast.List, ast.Tuple, ast.Dict, ast.Name, ast.Attribute)):
                resolved = self._named(found.value, found.frame, found.line, depth + 1)
                if resolved:
                    return resolved
            return [name.rsplit(".", 1)[-1]]
        return []

    def names_text(self, node, frame: _Frame, line: int) -> str | None:
        """Loss or metric names joined with ", " (optimizers, passed by a custom `compile`, are left out)."""
        names = [name for name in dict.fromkeys(self._named(node, frame, line))
                 if OPTIMIZER_NAMES.get(name.lower()) != name]
        return ", ".join(names) if names else None

    def fit_number(self, fit: ast.Call | None, keyword: str, position: int) -> int | None:
        if fit is None:
            return None
        names = ("epochs", "nb_epoch") if keyword == "epochs" else (keyword,)
        node = _argument(fit, position if fit.func.attr != "search" else None, *names)
        return _positive_int(self.const(node, self.frame_at(fit), fit.lineno)) if node is not None else None

    def data_batch_size(self, node, frame: _Frame, line: int, depth: int = 0) -> int | None:
        """The batch size a training input carries: `flow...(batch_size=)`, `.batch(n)`, a loader's argument."""
        if node is None or depth > 25:
            return None
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return None
            return self.data_batch_size(found.value, found.frame, found.line, depth + 1)
        if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
            return self.data_batch_size(node.elts[0], frame, line, depth + 1)
        if not isinstance(node, ast.Call):
            return None
        size = _keyword(node, "batch_size")
        if size is None and isinstance(node.func, ast.Attribute) and node.func.attr in ("batch", "padded_batch"):
            size = node.args[0] if node.args else None
        if size is not None:
            return _positive_int(self.const(size, frame, line))
        function = self.user_function(node, frame)
        if function is not None:
            callee_frame = self.call_frame(function, node, frame, line)
            for returned in function.returns:
                found = self.data_batch_size(returned.value, callee_frame, returned.lineno, depth + 1)
                if found:
                    return found
            return None
        if isinstance(node.func, ast.Attribute):
            return self.data_batch_size(node.func.value, frame, line, depth + 1)
        return None

    def named_constant(self, pattern: re.Pattern, convert) -> Any:
        """The last module (or config class / dict) constant whose name matches `pattern`, converted."""
        module = self.collected.module
        candidates = []
        for name, entries in module.assigns.items():
            if pattern.match(name.rsplit(".", 1)[-1]):
                candidates.extend((entry.line, name) for entry in entries)
        for owner in module.classes.values():
            for name, entries in owner.assigns.items():
                if pattern.match(name):
                    candidates.extend((entry.line, f"{owner.node.name}.{name}") for entry in entries)
        for line, name in sorted(candidates, reverse=True):
            value = convert(self.const(ast.parse(name, mode="eval").body, self.module_frame, line + 1))
            if value is not None:
                return value
        for scope in self._all_scopes():  # `self.batch_size = 128` in a trainer class
            for name, entries in scope.assigns.items():
                if name.startswith("self.") and name.count(".") == 1 and pattern.match(name[5:]):
                    for entry in reversed(entries):
                        value = convert(self.const(entry.value, self.frame_of(scope), entry.line))
                        if value is not None:
                            return value
        for entries in module.assigns.values():
            for entry in reversed(entries):
                if isinstance(entry.value, ast.Dict):
                    for key, value in zip(entry.value.keys, entry.value.values):
                        if isinstance(key, ast.Constant) and isinstance(key.value, str) and pattern.match(key.value):
                            converted = convert(self.const(value, self.module_frame, entry.line + 1))
                            if converted is not None:
                                return converted
        return None

    def last_keyword(self, names: tuple[str, ...], convert, before: int = _LAST_LINE) -> Any:
        for call in sorted(self.collected.all_calls, key=_position, reverse=True):
            if call.lineno >= before:
                continue
            node = _keyword(call, *names)
            if node is not None:
                value = convert(self.const(node, self.frame_at(call), call.lineno))
                if value is not None:
                    return value
        return None

    def epoch_loop(self) -> int | None:
        """`for epoch in range(EPOCHS)` of a custom training loop."""
        loops = [loop for scope in self._all_scopes() for loop in scope.loops
                 if isinstance(loop.target, ast.Name) and _EPOCHS_NAME.match(loop.target.id)
                 and isinstance(loop.iter, ast.Call) and _dotted(loop.iter.func) == "range" and loop.iter.args]
        for loop in sorted(loops, key=_position, reverse=True):
            scope = next(s for s in self._all_scopes() if loop in s.loops)
            value = _positive_int(self.const(loop.iter.args[-1] if len(loop.iter.args) < 3 else loop.iter.args[1],
                                             self.frame_of(scope), loop.lineno))
            if value:
                return value
        return None

    def _all_scopes(self):
        stack = [self.collected.module]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(scope.functions.values())
            stack.extend(scope.classes.values())

    def fallback_optimizer(self) -> tuple[str | None, float | None]:
        for call in sorted(self.collected.all_calls, key=_position, reverse=True):
            callee = _callee(call)
            if callee.lower() in OPTIMIZER_NAMES and callee[0].isupper():
                return self.optimizer(call, self.frame_at(call), call.lineno)
        return None, None

    def fallback_loss(self) -> str | None:
        for call in sorted(self.collected.all_calls, key=_position, reverse=True):
            name = _dotted(call.func) or ""
            if ".losses." in f".{name}" and name.rsplit(".", 1)[-1][:1].isupper():
                return self.names_text(call, self.frame_at(call), call.lineno)
        return None

    # -- input and output ---------------------------------------------------------------------------------------

    def shape_items(self, node, frame: _Frame, line: int, depth: int = 0) -> list[str] | None:
        if node is None or depth > 10:
            return None
        value = self.const(node, frame, line)
        if isinstance(value, (tuple, list)) and all(v is None or _positive_int(v) for v in value):
            return ["None" if v is None else str(int(v)) for v in value]
        if _positive_int(value):
            return [str(int(value))]
        if isinstance(node, (ast.Tuple, ast.List)):
            items = []
            for element in node.elts:
                if isinstance(element, ast.Starred):
                    inner = self.shape_items(element.value, frame, line, depth + 1)
                    if inner is None:
                        return None
                    items.extend(inner)
                    continue
                number = self.const(element, frame, line)
                items.append("None" if number is None else str(int(number)) if _positive_int(number)
                             else ast.unparse(element))
            return items
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None:
                return self.shape_items(found.value, found.frame, found.line, depth + 1)
        return None

    def _shape_text(self, node, frame: _Frame, line: int) -> tuple[list[str] | None, str]:
        items = self.shape_items(node, frame, line)
        if items is None:
            return None, ast.unparse(node)
        return items, "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def input_text(self) -> str | None:
        for index, layer in enumerate(self.layers):
            if layer.call is None:
                continue
            following = self.layers[index + 1].call if index + 1 < len(self.layers) else None
            embedding = following is not None and _callee(following) == "Embedding"
            text = self._input_of(layer.call, layer.frame, layer.line, embedding)
            if text:
                return text
        embedding = False
        for call in sorted(self.collected.all_calls, key=_position):
            text = self._input_of(call, self.frame_at(call), call.lineno, embedding, nested=False)
            if text:
                return text
        for call in sorted(self.collected.all_calls, key=_position):
            node = _keyword(call, "target_size", "image_size")
            if node is not None:
                items, text = self._shape_text(node, self.frame_at(call), call.lineno)
                return _image_phrase(items) if items else f"Images resized to {text}"
        shape = self.named_constant(_INPUT_SHAPE_NAME, _shape_value)
        if isinstance(shape, tuple):
            return _phrase([str(int(x)) for x in shape], "(" + ", ".join(str(int(x)) for x in shape)
                           + ("," if len(shape) == 1 else "") + ")", embedding)
        size = self.named_constant(_IMAGE_SIZE_NAME, lambda v: v if _positive_int(v) else _shape_value(v))
        if size is not None:
            return _image_phrase([str(int(size))] if not isinstance(size, tuple) else [str(int(x)) for x in size])
        height = self.named_constant(_IMAGE_HEIGHT_NAME, _positive_int)
        width = self.named_constant(_IMAGE_WIDTH_NAME, _positive_int)
        if height and width:
            return f"Images resized to ({height}, {width})"
        return None

    def _input_of(self, call: ast.Call, frame: _Frame, line: int, embedding: bool, nested: bool = True) -> str | None:
        callee = _callee(call)
        node = None
        if callee in ("Input", "InputLayer"):
            node = _argument(call, 0, "shape", "input_shape")
            if node is None:
                batch = _keyword(call, "batch_shape", "batch_input_shape")
                if batch is not None:
                    node = ast.Subscript(value=batch, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())
        if node is None:
            node = _keyword(call, "input_shape")
        if node is None and _keyword(call, "batch_input_shape") is not None:
            node = ast.Subscript(value=_keyword(call, "batch_input_shape"), slice=ast.Slice(lower=ast.Constant(1)),
                                 ctx=ast.Load())
        if node is None and callee == "Embedding" and _keyword(call, "input_length") is not None:
            length = self.const(_keyword(call, "input_length"), frame, line)
            text = str(int(length)) if _positive_int(length) else ast.unparse(_keyword(call, "input_length"))
            return f"Token sequences of length {text}"
        if node is None and callee != "Embedding" and _keyword(call, "input_dim") is not None:
            node = ast.Tuple(elts=[_keyword(call, "input_dim")], ctx=ast.Load())
        if node is None:
            if nested:
                for inner in [*call.args, *(k.value for k in call.keywords)]:
                    if isinstance(inner, ast.Call):
                        text = self._input_of(inner, frame, line, embedding)
                        if text:
                            return text
            return None
        items, text = self._shape_text(node, frame, line)
        return _phrase(items, text, embedding)

    def output_text(self) -> str | None:
        activation = None
        for layer in reversed(self.layers):
            call = layer.call
            if call is None:
                return None
            while _callee(call) == "TimeDistributed" and call.args and isinstance(call.args[0], ast.Call):
                call = call.args[0]
            callee = _callee(call)
            if callee in ("Activation",):
                activation = activation or self._activation(_argument(call, 0, "activation"), layer)
                continue
            if callee in ("Softmax",):
                activation = activation or "softmax"
                continue
            if callee in _SKIP_AT_OUTPUT:
                continue
            if callee == "Dense" or callee in _CONVOLUTIONS:
                units_node = _argument(call, 0, "units" if callee == "Dense" else "filters")
                if units_node is None or (isinstance(units_node, ast.Constant) and units_node.value is Ellipsis):
                    return None
                units = self.const(units_node, layer.frame, layer.line)
                units = str(int(units)) if _positive_int(units) else ast.unparse(units_node)
                own = self._activation(_argument(call, 1 if callee == "Dense" else None, "activation"), layer)
                act = activation or own or "linear"
                if callee != "Dense":
                    return f"{units}-channel map ({act})"
                if act == "softmax":
                    return f"{units} classes (softmax)"
                if act == "sigmoid":
                    return "Binary label (sigmoid)" if units == "1" else f"{units} labels (sigmoid)"
                if act == "linear":
                    return "1 value (linear)" if units == "1" else f"{units} values (linear)"
                return f"{units} outputs ({act})"
            return None
        return None

    def _activation(self, node, layer: _Layer) -> str | None:
        if node is None:
            return None
        value = self.const(node, layer.frame, layer.line)
        if isinstance(value, str):
            return value
        if value is None:
            return "linear"
        name = _dotted(node) if isinstance(node, (ast.Name, ast.Attribute)) else None
        return name.rsplit(".", 1)[-1] if name else (_callee(node) if isinstance(node, ast.Call) else None)


def _shape_value(value) -> tuple | None:
    if isinstance(value, (tuple, list)) and value and all(_positive_int(x) for x in value):
        return tuple(value)
    return None


def _image_phrase(items: list[str]) -> str:
    """`target_size=` / `IMG_SIZE`: an image size, (h, w) or (h, w, c); a single number is a square."""
    if len(items) == 1:
        items = items * 2
    if len(items) == 2:
        return f"Images resized to ({items[0]}, {items[1]})"
    return _phrase(items, "(" + ", ".join(items) + ")", False)


def _phrase(items: list[str] | None, text: str, embedding: bool) -> str:
    if items is None:
        return f"Input of shape {text}"
    rank = len(items)
    if rank == 1:
        return f"Token sequences of length {items[0]}" if embedding else f"Feature vectors of shape {text}"
    if rank == 2:
        return f"Sequences of shape {text}"
    if rank == 3:
        return f"Images of shape {text}"
    return f"Inputs of shape {text}"


def plan_from_code(code: str, task_category: str | None = None) -> Plan:
    """The plan `code` implements, read statically (see the module docstring); never raises on bad code."""
    plan = Plan(task_category=task_category, layers=[])
    try:
        module = parse_code(code)
        if not module.body:
            return plan
        extractor = _Extractor(module)
        compile_call, fit = extractor.choose()
    except Exception:  # noqa: BLE001 - the contract: bad code never raises, it gives an empty plan
        return plan
    steps = (
        lambda: _layers_step(extractor, plan, compile_call, fit),
        lambda: _compile_step(extractor, plan, compile_call),
        lambda: _fit_step(extractor, plan, fit),
        lambda: setattr(plan, "input", extractor.input_text()),
        lambda: setattr(plan, "output", extractor.output_text()),
    )
    for step in steps:  # each field on its own: one heuristic failing must not lose the others
        try:
            step()
        except Exception:  # noqa: BLE001 - as above, field by field
            continue
    return plan


def _layers_step(extractor: _Extractor, plan: Plan, compile_call, fit) -> None:
    try:
        extractor.model_layers(compile_call, fit)
    finally:  # a recursion error deep in a graph keeps what was found
        plan.layers = [layer.text for layer in extractor.layers]


def _compile_step(extractor: _Extractor, plan: Plan, compile_call) -> None:
    if compile_call is not None:
        frame, line = extractor.frame_at(compile_call), compile_call.lineno
        plan.optimizer, plan.learning_rate = extractor.optimizer(_argument(compile_call, 0, "optimizer"), frame, line)
        plan.loss_function = extractor.names_text(_argument(compile_call, 1, "loss"), frame, line)
        plan.evaluation_metric = extractor.names_text(_argument(compile_call, 2, "metrics"), frame, line)
    if plan.optimizer is None:
        plan.optimizer, rate = extractor.fallback_optimizer()
        plan.learning_rate = plan.learning_rate or rate
    if plan.loss_function is None:
        plan.loss_function = extractor.fallback_loss()
    if plan.learning_rate is None:
        plan.learning_rate = extractor.named_constant(_LR_NAME, _learning_rate)


def _fit_step(extractor: _Extractor, plan: Plan, fit) -> None:
    plan.epochs = extractor.fit_number(fit, "epochs", 3)
    plan.batch_size = extractor.fit_number(fit, "batch_size", 2)
    if plan.batch_size is None and fit is not None:
        data = _argument(fit, 0, "x", "generator")
        plan.batch_size = extractor.data_batch_size(data, extractor.frame_at(fit), fit.lineno)
    if plan.epochs is None:
        plan.epochs = extractor.named_constant(_EPOCHS_NAME, _positive_int) or extractor.epoch_loop() \
            or extractor.last_keyword(("epochs",), _positive_int)
    if plan.batch_size is None:
        plan.batch_size = extractor.named_constant(_BATCH_NAME, _positive_int) \
            or extractor.last_keyword(("batch_size",), _positive_int)
