"""The Keras layer tracer: the layers of a model, each written as DLPlanData writes a layer.

A layer is `ast.unparse` of its constructor call with the module path removed (`tf.keras.layers.Conv2D(32, 3)` ->
"Conv2D(32, 3)"; inside the arguments `tf.keras.regularizers.l2(0.01)` -> "regularizers.l2(0.01)"); a function's
parameters that the call site binds to constants become those values (`conv_block(x, 64)`: `Conv2D(filters, 3)` ->
"Conv2D(64, 3)"). Layers are read from `Sequential([...])` lists, `model.add(...)` chains, functional graphs (traced
backwards from `Model(inputs, outputs)`'s outputs through `x = Layer(...)(x)` assignments, user functions and
`base_model.output`, then listed inputs-first in execution order) and subclassed models (the `self.* = Layer(...)`
of `__init__`). Pretrained bases count as one layer; a nested `Sequential` (data augmentation) is inlined.
"""

from __future__ import annotations

import ast
import copy
import math
from dataclasses import dataclass

from dlcodegen.analysis.scope import (LAST_LINE, Frame, Resolver, Scope, dotted_name, keyword_value, last_name,
                                      position_of)

_MERGES = {"concatenate": "Concatenate", "add": "Add", "multiply": "Multiply", "average": "Average",
           "maximum": "Maximum", "minimum": "Minimum", "subtract": "Subtract", "dot": "Dot"}

MAX_DEPTH = 300  # how deep the tracer follows names, calls and graphs


class _StripModules(ast.NodeTransformer):
    """`tf.keras.layers.X` / `layers.X` / `tf.keras.applications.x.Y` -> `X` / `Y`; `tf.keras.a.b` -> `a.b`."""

    def __init__(self, layer_modules: set[str]):
        self.layer_modules = layer_modules

    def visit_Attribute(self, node: ast.Attribute):
        name = dotted_name(node)
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

    def __init__(self, analysis: Resolver, frame: Frame, line: int):
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
# Tracing


@dataclass
class Layer:
    text: str
    call: ast.Call | None
    frame: Frame
    line: int


class LayerTracer(Resolver):
    """Collects `layers`, in order, from the model objects and tensors it is asked to read."""

    def __init__(self, module: ast.Module):
        super().__init__(module)
        self.layers: list[Layer] = []
        self._seen: set[tuple] = set()

    def model_layers(self, compile_call: ast.Call | None, fit: ast.Call | None) -> None:
        """The layers of the compiled receiver, else the fitted one, else the last `Model(...)`/`Sequential(...)`
        built that yields layers."""
        for call in (compile_call, fit):
            if call is not None and not self.layers:
                self._seen.clear()
                self.emit_object(call.func.value, self.frame_at(call), call.lineno)
                if self.layers and all(layer.call is None for layer in self.layers):
                    self.layers.clear()  # only unresolved names (a model loaded from disk, a parameter)
        if self.layers:
            return
        constructions = [c for c in self.collected.all_calls if last_name(c) == "Sequential" or _functional_model(c)]
        for construction in sorted(constructions, key=position_of, reverse=True):
            self._seen.clear()
            scope = self.collected.scope_of[id(construction)]
            name = next((n for n, entries in scope.assigns.items() for e in entries
                         if e.value is construction and e.index is None), None)
            frame = self.frame_of(scope)
            if name is not None and last_name(construction) == "Sequential":
                self.sequential(construction, frame, name, construction.lineno, LAST_LINE)
            else:
                self.emit_object(construction, frame, construction.lineno)
            if self.layers:
                return

    # -- reading objects and tensors ----------------------------------------------------------------------------

    def layer_text(self, call: ast.Call, frame: Frame | None = None) -> str:
        """The call as DLPlanData writes a layer; inside a function called with constants, its parameters become
        those values (`conv_block(x, 64)`: `Conv2D(filters, 3)` -> `Conv2D(64, 3)`)."""
        node = copy.deepcopy(call)
        name = dotted_name(node.func)
        if name is not None:
            node.func = ast.Name(id=name.rsplit(".", 1)[-1], ctx=ast.Load())
        node = _StripModules(self.collected.layer_modules).visit(node)
        if frame is not None and frame.scope.kind == "function":
            node = _Substitute(self, frame, call.lineno).visit(node)
        return ast.unparse(node)

    def _emit(self, text: str, call: ast.Call | None, frame: Frame, line: int) -> None:
        self.layers.append(Layer(text, call, frame, line))

    def _first_visit(self, key: tuple) -> bool:
        """Marks `key` (an expression in a frame) as read; False when it already was: graphs share subgraphs."""
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def emit_object(self, node: ast.AST, frame: Frame, line: int, depth: int = 0) -> None:
        """Append the layers of a layer or model object (a constructor call, or a name bound to one)."""
        if depth > MAX_DEPTH:
            return
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                if isinstance(node, ast.Name):
                    self._emit(name, None, frame, line)
                return
            if not self._first_visit((id(found.value), id(found.frame))):
                return
            value = found.value
            if isinstance(value, ast.Call) and last_name(value) == "Sequential":
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
        callee = last_name(node)
        callee_name = dotted_name(node.func) or ""
        if callee == "Sequential":
            self.sequential(node, frame, None, node.lineno, line)
            return
        if _functional_model(node):
            outputs = keyword_value(node, "outputs") or node.args[1]
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

    def sequential(self, call: ast.Call, frame: Frame, name: str | None, start: int, upto: int) -> None:
        elements = keyword_value(call, "layers") or (call.args[0] if call.args else None)
        if isinstance(elements, (ast.List, ast.Tuple)):
            for element in elements.elts:
                self.emit_object(element, frame, call.lineno)
        if name is None:
            return
        later = [entry.line for entry in frame.scope.assigns.get(name, []) if entry.line > start]
        end = min([upto] + later)
        for added in frame.scope.calls:
            if (start < added.lineno < end and isinstance(added.func, ast.Attribute) and added.func.attr == "add"
                    and dotted_name(added.func.value) == name and len(added.args) == 1):
                self.emit_object(added.args[0], frame, added.lineno)

    def subclassed(self, owner: Scope, call: ast.Call, frame: Frame, line: int, depth: int) -> None:
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

    def trace(self, node: ast.AST, frame: Frame, line: int, depth: int = 0) -> None:
        """Append the layers that compute the tensor `node`, inputs first."""
        if depth > MAX_DEPTH or node is None:
            return
        if isinstance(node, ast.Attribute) and node.attr in ("output", "outputs"):
            root = node.value
            while isinstance(root, (ast.Attribute, ast.Subscript, ast.Call)):
                root = root.func if isinstance(root, ast.Call) else root.value
            if isinstance(root, ast.Name):
                self.emit_object(root, frame, line, depth + 1)
            return
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return
            if not self._first_visit((id(found.value), id(found.frame))):
                return
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

    def _trace_inputs(self, call: ast.Call, frame: Frame, line: int, depth: int) -> None:
        for argument in call.args:
            self.trace(argument, frame, line, depth + 1)
        for keyword in call.keywords:
            if keyword.arg not in ("training", "name"):
                self.trace(keyword.value, frame, line, depth + 1)

    def _trace_call(self, call: ast.Call, frame: Frame, line: int, depth: int) -> None:
        if not self._first_visit(("call", id(call), id(frame))):
            return
        if isinstance(call.func, ast.Call):  # Layer(...)(inputs)
            self._trace_inputs(call, frame, line, depth)
            self.emit_object(call.func, frame, line, depth + 1)
            return
        name = dotted_name(call.func)
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


def _subclasses_model(owner: Scope) -> bool:
    return any((dotted_name(base) or "").rsplit(".", 1)[-1] in ("Model", "Sequential") for base in owner.node.bases)


def _functional_model(call: ast.Call) -> bool:
    """`Model(inputs, outputs)` / `Model(..., outputs=...)`: a functional model whose graph can be traced."""
    return last_name(call) in ("Model", "Functional") and (len(call.args) >= 2
                                                            or keyword_value(call, "outputs") is not None)
