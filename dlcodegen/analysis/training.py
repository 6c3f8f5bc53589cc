"""The training set-up of a Keras script: which compile and fit train the model, and the hyperparameters they state.

Which model: the last `fit` (or `fit_generator`) whose receiver is compiled; its compile is the last compile of the
same receiver before it (or the compile inside the user function that built the receiver). A notebook that trains
twice (say, a head then a fine-tuning pass) therefore gives the second compile's optimizer and learning rate.
Without such a pair the last compile is used, with the last fit-like call that has an `epochs=` keyword.

- optimizer: the Keras class name ("Adam"; string names are mapped: 'adam' -> "Adam"), with the wrapped optimizer
  for wrappers ("Lookahead with Adam"); learning rate: the optimizer call's `learning_rate`/`lr` keyword or first
  argument, through variables and `initial_learning_rate` of a schedule.
- loss and metrics: strings as written, loss objects by class name ("... with label smoothing" when it has one),
  custom functions by name; several joined with ", ".
- batch size and epochs: `fit(...)` keywords (or positions), through constant propagation; the batch size else from
  the training data (`batch_size=` of a loader, `.batch(32)` of a `tf.data` chain). Keras defaults are never
  filled in.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from dlcodegen.analysis.scope import (LAST_LINE, UNKNOWN, Frame, Scope, argument_value, as_learning_rate,
                                      dotted_name, keyword_value, last_name, position_of, positive_int)
from dlcodegen.analysis.tracer import LayerTracer

OPTIMIZER_NAMES = {name.lower(): name for name in (
    "Adam", "AdamW", "Adamax", "Nadam", "RMSprop", "SGD", "Adagrad", "Adadelta", "Ftrl", "Lion", "Adafactor",
    "RectifiedAdam", "LazyAdam", "Lookahead", "SWA", "LAMB", "NovoGrad", "Yogi", "SGDW", "AdaBelief")}
OPTIMIZER_WRAPPERS = {"Lookahead", "SWA", "LossScaleOptimizer", "MovingAverage"}
_LR_SCHEDULES_KEYS = ("initial_learning_rate", "learning_rate", "lr", "max_lr", "base_lr")

BATCH_NAME = re.compile(r"^(?:train_|training_)?(?:batch_?size|bs|batch)$", re.I)
EPOCHS_NAME = re.compile(r"^(?:n_|num_|nb_|max_|total_|train_)?epochs?$", re.I)
LR_NAME = re.compile(r"^(?:init_|initial_|base_|max_|start_)?(?:lr|learning_?rate)$", re.I)


class TrainingReader(LayerTracer):
    """The compile and fit calls of a module, and the hyperparameters read from them (or from named constants)."""

    def __init__(self, module: ast.Module):
        super().__init__(module)
        calls = self.collected.all_calls
        self.compiles = [c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr == "compile"
                         and c.func.value is not None and dotted_name(c.func.value) not in ("re", "super")
                         and not isinstance(c.func.value, ast.Call)]
        self.fits = [c for c in calls if isinstance(c.func, ast.Attribute)
                     and c.func.attr in ("fit", "fit_generator") and dotted_name(c.func.value)]
        self.compiles.sort(key=position_of)
        self.fits.sort(key=position_of)

    def choose(self) -> tuple[ast.Call | None, ast.Call | None]:
        """(compile, fit): the last fit whose receiver is compiled, and that compile."""
        for fit in reversed(self.fits):
            compile_call = self._compile_for(fit)
            if compile_call is not None:
                return compile_call, fit
        compile_call = self.compiles[-1] if self.compiles else None
        fit_like = [c for c in self.collected.all_calls if isinstance(c.func, ast.Attribute)
                    and c.func.attr in ("fit", "fit_generator", "search") and keyword_value(c, "epochs") is not None]
        return compile_call, max(fit_like, key=position_of) if fit_like else None

    def _compile_for(self, fit: ast.Call) -> ast.Call | None:
        receiver = dotted_name(fit.func.value)
        scope = self.collected.scope_of[id(fit)]
        same = [c for c in self.compiles if dotted_name(c.func.value) == receiver and position_of(c) < position_of(fit)]
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
    def _within(scope: Scope | None, ancestor: Scope) -> bool:
        while scope is not None:
            if scope is ancestor:
                return True
            scope = scope.parent
        return False

    # -- hyperparameters ----------------------------------------------------------------------------------------

    def optimizer(self, node, frame: Frame, line: int, depth: int = 0) -> tuple[str | None, float | None]:
        if node is None or depth > 20:
            return None, None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return OPTIMIZER_NAMES.get(node.value.lower().replace("_", ""), node.value), None
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None:
                return self.optimizer(found.value, found.frame, found.line, depth + 1)
            last = name.rsplit(".", 1)[-1]
            return (OPTIMIZER_NAMES.get(last.lower(), last), None) if last.lower() in OPTIMIZER_NAMES else (None, None)
        if not isinstance(node, ast.Call):
            return None, None
        callee = last_name(node)
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
        inner = argument_value(node, 0, "optimizer", "inner_optimizer")
        if callee in OPTIMIZER_WRAPPERS and inner is not None:
            inner_name, inner_lr = self.optimizer(inner, frame, line, depth + 1)
            own = self.learning_rate(keyword_value(node, "learning_rate", "lr"), frame, line)
            return (f"{callee} with {inner_name}" if inner_name else callee), own or inner_lr
        rate = argument_value(node, 0 if callee.lower() in OPTIMIZER_NAMES else None, "learning_rate", "lr")
        return callee, self.learning_rate(rate, frame, line)

    def learning_rate(self, node, frame: Frame, line: int, depth: int = 0) -> float | None:
        if node is None or depth > 10:
            return None
        value = self.const(node, frame, line)
        if value is not UNKNOWN:
            return as_learning_rate(value)
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None:
                return self.learning_rate(found.value, found.frame, found.line, depth + 1)
            return None
        if isinstance(node, ast.Call):  # a schedule: its initial rate
            return self.learning_rate(argument_value(node, 0, *_LR_SCHEDULES_KEYS), frame, line, depth + 1)
        return None

    def _named(self, node, frame: Frame, line: int, depth: int = 0) -> list[str]:
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
            callee = last_name(node)
            if not callee:
                return []
            smoothing = self.const(keyword_value(node, "label_smoothing"), frame, line)
            if isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool) and smoothing > 0:
                return [f"{callee} with label smoothing"]
            return [callee]
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None and isinstance(
                    found.value, (ast.Constant, ast.Call, ast.List, ast.Tuple, ast.Dict, ast.Name, ast.Attribute)):
                resolved = self._named(found.value, found.frame, found.line, depth + 1)
                if resolved:
                    return resolved
            return [name.rsplit(".", 1)[-1]]
        return []

    def names_text(self, node, frame: Frame, line: int) -> str | None:
        """Loss or metric names joined with ", " (optimizers, passed by a custom `compile`, are left out)."""
        names = [name for name in dict.fromkeys(self._named(node, frame, line))
                 if OPTIMIZER_NAMES.get(name.lower()) != name]
        return ", ".join(names) if names else None

    def fit_number(self, fit: ast.Call | None, keyword: str, position: int) -> int | None:
        if fit is None:
            return None
        names = ("epochs", "nb_epoch") if keyword == "epochs" else (keyword,)
        node = argument_value(fit, position if fit.func.attr != "search" else None, *names)
        return positive_int(self.const(node, self.frame_at(fit), fit.lineno)) if node is not None else None

    def data_batch_size(self, node, frame: Frame, line: int, depth: int = 0) -> int | None:
        """The batch size a training input carries: `flow...(batch_size=)`, `.batch(n)`, a loader's argument."""
        if node is None or depth > 25:
            return None
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is None or found.value is None:
                return None
            return self.data_batch_size(found.value, found.frame, found.line, depth + 1)
        if isinstance(node, (ast.Tuple, ast.List)) and node.elts:
            return self.data_batch_size(node.elts[0], frame, line, depth + 1)
        if not isinstance(node, ast.Call):
            return None
        size = keyword_value(node, "batch_size")
        if size is None and isinstance(node.func, ast.Attribute) and node.func.attr in ("batch", "padded_batch"):
            size = node.args[0] if node.args else None
        if size is not None:
            return positive_int(self.const(size, frame, line))
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
        for scope in self.all_scopes():  # `self.batch_size = 128` in a trainer class
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

    def last_keyword(self, names: tuple[str, ...], convert, before: int = LAST_LINE) -> Any:
        for call in sorted(self.collected.all_calls, key=position_of, reverse=True):
            if call.lineno >= before:
                continue
            node = keyword_value(call, *names)
            if node is not None:
                value = convert(self.const(node, self.frame_at(call), call.lineno))
                if value is not None:
                    return value
        return None

    def epoch_loop(self) -> int | None:
        """`for epoch in range(EPOCHS)` of a custom training loop."""
        loops = [loop for scope in self.all_scopes() for loop in scope.loops
                 if isinstance(loop.target, ast.Name) and EPOCHS_NAME.match(loop.target.id)
                 and isinstance(loop.iter, ast.Call) and dotted_name(loop.iter.func) == "range" and loop.iter.args]
        for loop in sorted(loops, key=position_of, reverse=True):
            scope = next(s for s in self.all_scopes() if loop in s.loops)
            value = positive_int(self.const(loop.iter.args[-1] if len(loop.iter.args) < 3 else loop.iter.args[1],
                                             self.frame_of(scope), loop.lineno))
            if value:
                return value
        return None

    def fallback_optimizer(self) -> tuple[str | None, float | None]:
        for call in sorted(self.collected.all_calls, key=position_of, reverse=True):
            callee = last_name(call)
            if callee.lower() in OPTIMIZER_NAMES and callee[0].isupper():
                return self.optimizer(call, self.frame_at(call), call.lineno)
        return None, None

    def fallback_loss(self) -> str | None:
        for call in sorted(self.collected.all_calls, key=position_of, reverse=True):
            name = dotted_name(call.func) or ""
            if ".losses." in f".{name}" and name.rsplit(".", 1)[-1][:1].isupper():
                return self.names_text(call, self.frame_at(call), call.lineno)
        return None
