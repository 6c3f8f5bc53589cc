"""Scopes, assignments and constant propagation over a parsed module: which expression a name holds at a line of a
scope (through function parameters bound at a call site, class attributes and enclosing scopes), and the constant
value of an expression where the source states it (`EPOCHS = 10`, `CFG.batch_size`, `config['epochs']`, arithmetic).

Everything here reads the tree; nothing is imported or executed.
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass, field

UNKNOWN = object()  # `Resolver.const` of an expression whose value the source does not state
LAST_LINE = 10 ** 9  # a line after every line of a module

@dataclass
class Assign:
    line: int
    col: int
    value: ast.expr | None  # None: bound, but to nothing we can read (loop variable, augmented assignment, ...)
    index: int | None = None  # `a, b = f()`: position of the name in the unpacked value


@dataclass(eq=False)
class Scope:
    node: ast.AST
    kind: str  # "module", "function", "class"
    parent: "Scope | None"
    assigns: dict[str, list[Assign]] = field(default_factory=dict)
    calls: list[ast.Call] = field(default_factory=list)
    functions: dict[str, "Scope"] = field(default_factory=dict)
    classes: dict[str, "Scope"] = field(default_factory=dict)
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

    def find_function(self, name: str) -> "Scope | None":
        """The function `name` as seen from this scope (defined here or in an enclosing scope)."""
        return self._find(name, "functions")

    def find_class(self, name: str) -> "Scope | None":
        """The class `name` as seen from this scope (defined here or in an enclosing scope)."""
        return self._find(name, "classes")

    def _find(self, name: str, table: str) -> "Scope | None":
        scope = self
        while scope is not None:
            found = getattr(scope, table)
            if name in found:
                return found[name]
            scope = scope.parent
        return None

    def enclosing_class(self) -> "Scope | None":
        scope = self.parent
        while scope is not None and scope.kind != "class":
            scope = scope.parent
        return scope


def dotted_name(node: ast.AST | None) -> str | None:
    """`tf.keras.layers.Dense` for that chain of attributes on a name, `x` for a name; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def last_name(call: ast.Call) -> str:
    """Last name of what is called: `tf.keras.layers.Dense` -> "Dense"; "" when it is not a (dotted) name."""
    name = dotted_name(call.func)
    return name.rsplit(".", 1)[-1] if name else ""


class Collector:
    """Builds the scope tree: assignments, calls, functions, classes and returns of each scope."""

    def __init__(self, module: ast.Module):
        self.module = Scope(module, "module", None)
        self.scope_of: dict[int, Scope] = {}
        self.all_calls: list[ast.Call] = []
        self.layer_modules: set[str] = set()
        self._visit_body(module.body, self.module)

    def _bind(self, scope: Scope, target: ast.AST, value: ast.expr | None, index: int | None = None) -> None:
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
        name = dotted_name(target)
        if name is None:
            return
        scope.assigns.setdefault(name, []).append(
            Assign(getattr(target, "lineno", 0), getattr(target, "col_offset", 0), value, index))

    def _visit_body(self, statements, scope: Scope) -> None:
        for statement in statements:
            self._visit(statement, scope)

    def _visit(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                self._visit(decorator, scope)
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            child = Scope(node, kind, scope)
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
class Frame:
    """A scope being read: `bindings` maps a function's parameters to the caller's arguments."""

    scope: Scope
    bindings: dict[str, tuple[ast.expr | None, "Frame", int]] = field(default_factory=dict)
    call_line: int | None = None
    caller: "Frame | None" = None


@dataclass
class Resolved:
    value: ast.expr | None
    frame: Frame
    line: int
    index: int | None = None


# ---------------------------------------------------------------------------------------------------------------
# Resolving names and constants


class Resolver:
    """Name resolution and constant propagation over one module's scope tree."""

    def __init__(self, module: ast.Module):
        self.collected = Collector(module)
        self.module_frame = Frame(self.collected.module)
        self._frames: dict[int, Frame] = {}
        self._bound_frames: dict[tuple[int, int], Frame] = {}

    # -- frames and names ---------------------------------------------------------------------------------------

    def frame_of(self, scope: Scope) -> Frame:
        if scope is self.collected.module:
            return self.module_frame
        if id(scope) not in self._frames:
            self._frames[id(scope)] = Frame(scope, caller=self.frame_of(scope.parent) if scope.parent else None)
        return self._frames[id(scope)]

    def call_frame(self, function: Scope, call: ast.Call, caller: Frame, line: int) -> Frame:
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
        frame = Frame(function, bindings, line, self.frame_of(function.parent) if function.parent else None)
        self._bound_frames[key] = frame
        return frame

    def user_function(self, call: ast.Call, frame: Frame) -> Scope | None:
        """The user-defined function (or `self.method`) that `call` calls, if any."""
        name = dotted_name(call.func) or ""
        if name and "." not in name:
            return frame.scope.find_function(name)
        root, _, rest = name.partition(".")
        if root in ("self", "cls") and rest and "." not in rest:
            owner = frame.scope if frame.scope.kind == "class" else frame.scope.enclosing_class()
            return owner.functions.get(rest) if owner is not None else None
        return None

    def deref(self, node: ast.AST, frame: Frame, line: int, depth: int = 0) -> Resolved | None:
        """Follow name -> name bindings to the expression behind them."""
        name = dotted_name(node)
        if name is None:
            return Resolved(node, frame, line)
        if depth > 20:
            return None
        found = self.resolve(name, frame, line)
        if found is None or found.value is None or found.index is not None:
            return found
        return self.deref(found.value, found.frame, found.line, depth + 1)

    def resolve(self, name: str, frame: Frame, line: int) -> Resolved | None:
        """The expression `name` holds at `line` of `frame` (the last assignment before it), or None."""
        scope = frame.scope
        entries = scope.assigns.get(name, [])
        before = [entry for entry in entries if entry.line < line]
        if before:
            entry = before[-1]
            return Resolved(entry.value, frame, entry.line, entry.index)
        if name in frame.bindings:
            value, caller, call_line = frame.bindings[name]
            return Resolved(value, caller, call_line)
        params = scope.params
        if name in params:
            default = params[name]
            return Resolved(default, frame.caller or self.module_frame, scope.node.lineno) if default else None
        if "." in name:
            root, rest = name.split(".", 1)
            if root in ("self", "cls") and "." not in rest:
                found = self._class_attribute(scope, rest)
                if found:
                    return found
            owner = scope.find_class(root)
            if owner is not None and "." not in rest and rest in owner.assigns:
                entry = owner.assigns[rest][-1]
                return Resolved(entry.value, self.frame_of(owner), entry.line, entry.index)
        parent = scope.parent
        while parent is not None and parent.kind == "class":  # methods do not see their class body's names
            parent = parent.parent
        if parent is None:
            return None
        parent_frame = frame.caller if frame.caller is not None and frame.caller.scope is parent \
            else self.frame_of(parent)
        entries = parent.assigns.get(name, [])
        if not entries:
            return self.resolve(name, parent_frame, LAST_LINE) if parent.kind != "module" else None
        limit = frame.call_line if frame.call_line is not None and parent_frame.scope is parent else \
            scope.node.lineno
        before = [entry for entry in entries if entry.line < limit] or entries
        entry = before[-1]
        return Resolved(entry.value, parent_frame, entry.line, entry.index)

    def _class_attribute(self, scope: Scope, attribute: str) -> Resolved | None:
        owner = scope if scope.kind == "class" else scope.enclosing_class()
        if owner is None:
            return None
        best: tuple[Assign, Scope] | None = None
        for method in owner.functions.values():
            for entry in method.assigns.get(f"self.{attribute}", []):
                if best is None or entry.line > best[0].line:
                    best = (entry, method)
        if best is None and attribute in owner.assigns:
            best = (owner.assigns[attribute][-1], owner)
        if best is None:
            return None
        return Resolved(best[0].value, self.frame_of(best[1]), best[0].line, best[0].index)

    # -- constants ----------------------------------------------------------------------------------------------

    def const(self, node: ast.AST | None, frame: Frame, line: int, depth: int = 0):
        """The value `node` has at `line` of `frame` where the source states it (numbers, strings, None, tuples,
        dicts, through names, subscripts, arithmetic and `int()`/`float()`/`round()`); else `UNKNOWN`."""
        if node is None or depth > 40:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.Tuple, ast.List)):
            return self._const_sequence(node, frame, line, depth)
        if isinstance(node, ast.Dict):
            return self._const_dict(node, frame, line, depth)
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return UNKNOWN
            value = self.const(found.value, found.frame, found.line, depth + 1)
            if found.index is not None:
                return value[found.index] if isinstance(value, tuple) and found.index < len(value) else UNKNOWN
            return value
        if isinstance(node, ast.Subscript):
            return self._const_subscript(node, frame, line, depth)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            value = self.const(node.operand, frame, line, depth + 1)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return -value if isinstance(node.op, ast.USub) else value
            return UNKNOWN
        if isinstance(node, ast.BinOp):
            left = self.const(node.left, frame, line, depth + 1)
            right = self.const(node.right, frame, line, depth + 1)
            return _binop(node.op, left, right)
        if isinstance(node, ast.Call) and dotted_name(node.func) in ("int", "float", "round") and len(node.args) == 1:
            return self._const_conversion(node, frame, line, depth)
        return UNKNOWN

    def _const_sequence(self, node: ast.Tuple | ast.List, frame: Frame, line: int, depth: int):
        items = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                value = self.const(element.value, frame, line, depth + 1)
                if not isinstance(value, (tuple, list)):
                    return UNKNOWN
                items.extend(value)
                continue
            value = self.const(element, frame, line, depth + 1)
            if value is UNKNOWN:
                return UNKNOWN
            items.append(value)
        return tuple(items)

    def _const_dict(self, node: ast.Dict, frame: Frame, line: int, depth: int):
        result = {}
        for key, value in zip(node.keys, node.values):
            if key is None:
                return UNKNOWN
            key_value, item = self.const(key, frame, line, depth + 1), self.const(value, frame, line, depth + 1)
            if key_value is UNKNOWN or item is UNKNOWN or not isinstance(key_value, (str, int, float)):
                return UNKNOWN
            result[key_value] = item
        return result

    def _const_subscript(self, node: ast.Subscript, frame: Frame, line: int, depth: int):
        container = self.const(node.value, frame, line, depth + 1)
        key = self.const(node.slice, frame, line, depth + 1)
        if isinstance(node.slice, ast.Slice):
            parts = [self.const(p, frame, line, depth + 1) if p is not None else None
                     for p in (node.slice.lower, node.slice.upper, node.slice.step)]
            if isinstance(container, tuple) and all(p is None or isinstance(p, int) for p in parts):
                return container[slice(*parts)]
            return UNKNOWN
        try:
            if isinstance(container, (dict, tuple, str)) and isinstance(key, (str, int)):
                return container[key]
        except (KeyError, IndexError, TypeError):
            return UNKNOWN
        return UNKNOWN

    def _const_conversion(self, node: ast.Call, frame: Frame, line: int, depth: int):
        """`int(x)`, `float(x)`, `round(x)` of a constant."""
        value = self.const(node.args[0], frame, line, depth + 1)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            try:
                return {"int": int, "float": float, "round": round}[dotted_name(node.func)](value)
            except (ValueError, OverflowError):
                return UNKNOWN
        return UNKNOWN

    # -- where things are ---------------------------------------------------------------------------------------

    def frame_at(self, call: ast.Call) -> Frame:
        """The frame of the scope `call` stands in (its parameters unbound)."""
        return self.frame_of(self.collected.scope_of[id(call)])

    def all_scopes(self):
        """Every scope of the module: the module, then functions and classes, depth first."""
        stack = [self.collected.module]
        while stack:
            scope = stack.pop()
            yield scope
            stack.extend(scope.functions.values())
            stack.extend(scope.classes.values())


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
            return UNKNOWN
        if isinstance(op, ast.Add) and type(left) is type(right) and isinstance(left, (str, tuple)):
            return left + right
        if isinstance(op, ast.Mult) and isinstance(left, tuple) and isinstance(right, int) and 0 <= right <= 16:
            return left * right
    except (ZeroDivisionError, OverflowError, TypeError, ValueError):
        return UNKNOWN
    return UNKNOWN


def keyword_value(call: ast.Call, *names: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg in names:
            return keyword.value
    return None


def argument_value(call: ast.Call, position: int | None, *names: str) -> ast.expr | None:
    found = keyword_value(call, *names)
    if found is not None:
        return found
    if position is not None and len(call.args) > position and not any(
            isinstance(arg, ast.Starred) for arg in call.args[:position + 1]):
        return call.args[position]
    return None


def position_of(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


# ---------------------------------------------------------------------------------------------------------------
# From the analysis to the plan


def positive_int(value) -> int | None:
    """`value` as a count (a batch size, epochs, units): a whole number from 1 to 10 million, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    number = int(value)
    return number if 0 < number <= 10_000_000 else None


def as_learning_rate(value) -> float | None:
    """`value` as a learning rate: a finite number strictly between 0 and 10, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and 0 < number < 10 else None
