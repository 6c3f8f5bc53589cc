"""From the analysis to a `Plan`: `plan_from_code(code, task_category)`, the plan a Keras/TensorFlow script or
notebook *implements*, in DLPlanData's style, read statically (the code is parsed, never imported or executed).

- `layers`: see `dlcodegen.analysis.tracer` (layers of the compiled receiver, else the fitted one, else the last
  `Model(...)`/`Sequential(...)` built).
- `optimizer`, `learning_rate`, `loss_function`, `evaluation_metric`, `batch_size`, `epochs`: see
  `dlcodegen.analysis.training`; fallbacks: a module constant named like `LR`/`LEARNING_RATE`, `BATCH_SIZE`,
  `EPOCHS` (also `CFG.batch_size`, `config['epochs']`), then the last `batch_size=`/`epochs=` keyword of any call.
- `input`: a short text from the model's input shape (`Input(shape=...)`, `input_shape=`, `input_dim=`), else
  `target_size=`/`image_size=` or an `IMG_SIZE`-like constant: "Images of shape (224, 224, 3)", "Sequences of shape
  (60, 1)", "Feature vectors of shape (108,)", "Token sequences of length 100". `output`: from the last Dense (or
  convolution) layer and its activation: "10 classes (softmax)", "Binary label (sigmoid)", "1 value (linear)".
- `task_category`: the argument (the code does not say it); `preprocess` is left empty.

Bad code never raises: IPython lines become harmless and syntax errors are repaired (`dlcodegen.analysis.source`);
code with nothing readable gives a plan holding only `task_category`. Everything is a heuristic over the source
text: a value computed at run time (`len(classes)`, `X.shape[1:]`) stays as written or is left empty.
"""

from __future__ import annotations

import ast
import re

from dlcodegen.analysis.scope import (Frame, argument_value, as_learning_rate, dotted_name, keyword_value, last_name,
                                      position_of, positive_int)
from dlcodegen.analysis.source import parse_code
from dlcodegen.analysis.tracer import Layer
from dlcodegen.analysis.training import BATCH_NAME, EPOCHS_NAME, LR_NAME, TrainingReader
from dlcodegen.core.plan import Plan

__all__ = ["plan_from_code"]

_SKIP_AT_OUTPUT = {"Dropout", "Reshape", "Flatten", "GaussianNoise", "AlphaDropout", "SpatialDropout1D",
                   "SpatialDropout2D", "ActivityRegularization", "BatchNormalization", "LayerNormalization",
                   "Cropping2D"}
_CONVOLUTIONS = {"Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose", "Conv1DTranspose",
                 "SeparableConv2D", "Convolution2D"}

_IMAGE_SIZE_NAME = re.compile(r"^(?:img|image|im|target)_?(?:size|shape|dims?|res|resolution)$", re.I)
_INPUT_SHAPE_NAME = re.compile(r"^input_?shape$", re.I)
_IMAGE_HEIGHT_NAME = re.compile(r"^(?:img|image|im)_?(?:height|h|rows)$", re.I)
_IMAGE_WIDTH_NAME = re.compile(r"^(?:img|image|im)_?(?:width|w|cols)$", re.I)



class Extractor(TrainingReader):
    """Everything the plan needs: the training set-up, the layers, and the model's input and output as phrases."""

    def shape_items(self, node, frame: Frame, line: int, depth: int = 0) -> list[str] | None:
        if node is None or depth > 10:
            return None
        value = self.const(node, frame, line)
        if isinstance(value, (tuple, list)) and all(v is None or positive_int(v) for v in value):
            return ["None" if v is None else str(int(v)) for v in value]
        if positive_int(value):
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
                items.append("None" if number is None else str(int(number)) if positive_int(number)
                             else ast.unparse(element))
            return items
        name = dotted_name(node)
        if name is not None:
            found = self.resolve(name, frame, line)
            if found is not None and found.value is not None and found.index is None:
                return self.shape_items(found.value, found.frame, found.line, depth + 1)
        return None

    def _shape_text(self, node, frame: Frame, line: int) -> tuple[list[str] | None, str]:
        items = self.shape_items(node, frame, line)
        if items is None:
            return None, ast.unparse(node)
        return items, "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def input_text(self) -> str | None:
        for index, layer in enumerate(self.layers):
            if layer.call is None:
                continue
            following = self.layers[index + 1].call if index + 1 < len(self.layers) else None
            embedding = following is not None and last_name(following) == "Embedding"
            text = self._input_of(layer.call, layer.frame, layer.line, embedding)
            if text:
                return text
        embedding = False
        for call in sorted(self.collected.all_calls, key=position_of):
            text = self._input_of(call, self.frame_at(call), call.lineno, embedding, nested=False)
            if text:
                return text
        for call in sorted(self.collected.all_calls, key=position_of):
            node = keyword_value(call, "target_size", "image_size")
            if node is not None:
                items, text = self._shape_text(node, self.frame_at(call), call.lineno)
                return _image_phrase(items) if items else f"Images resized to {text}"
        shape = self.named_constant(_INPUT_SHAPE_NAME, _shape_value)
        if isinstance(shape, tuple):
            return _phrase([str(int(x)) for x in shape], "(" + ", ".join(str(int(x)) for x in shape)
                           + ("," if len(shape) == 1 else "") + ")", embedding)
        size = self.named_constant(_IMAGE_SIZE_NAME, lambda v: v if positive_int(v) else _shape_value(v))
        if size is not None:
            return _image_phrase([str(int(size))] if not isinstance(size, tuple) else [str(int(x)) for x in size])
        height = self.named_constant(_IMAGE_HEIGHT_NAME, positive_int)
        width = self.named_constant(_IMAGE_WIDTH_NAME, positive_int)
        if height and width:
            return f"Images resized to ({height}, {width})"
        return None

    def _input_of(self, call: ast.Call, frame: Frame, line: int, embedding: bool, nested: bool = True) -> str | None:
        callee = last_name(call)
        node = None
        if callee in ("Input", "InputLayer"):
            node = argument_value(call, 0, "shape", "input_shape")
            if node is None:
                batch = keyword_value(call, "batch_shape", "batch_input_shape")
                if batch is not None:
                    node = ast.Subscript(value=batch, slice=ast.Slice(lower=ast.Constant(1)), ctx=ast.Load())
        if node is None:
            node = keyword_value(call, "input_shape")
        if node is None and keyword_value(call, "batch_input_shape") is not None:
            node = ast.Subscript(value=keyword_value(call, "batch_input_shape"), slice=ast.Slice(lower=ast.Constant(1)),
                                 ctx=ast.Load())
        if node is None and callee == "Embedding" and keyword_value(call, "input_length") is not None:
            length = self.const(keyword_value(call, "input_length"), frame, line)
            text = str(int(length)) if positive_int(length) else ast.unparse(keyword_value(call, "input_length"))
            return f"Token sequences of length {text}"
        if node is None and callee != "Embedding" and keyword_value(call, "input_dim") is not None:
            node = ast.Tuple(elts=[keyword_value(call, "input_dim")], ctx=ast.Load())
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
            while last_name(call) == "TimeDistributed" and call.args and isinstance(call.args[0], ast.Call):
                call = call.args[0]
            callee = last_name(call)
            if callee in ("Activation",):
                activation = activation or self._activation(argument_value(call, 0, "activation"), layer)
                continue
            if callee in ("Softmax",):
                activation = activation or "softmax"
                continue
            if callee in _SKIP_AT_OUTPUT:
                continue
            if callee == "Dense" or callee in _CONVOLUTIONS:
                units_node = argument_value(call, 0, "units" if callee == "Dense" else "filters")
                if units_node is None or (isinstance(units_node, ast.Constant) and units_node.value is Ellipsis):
                    return None
                units = self.const(units_node, layer.frame, layer.line)
                units = str(int(units)) if positive_int(units) else ast.unparse(units_node)
                own = self._activation(argument_value(call, 1 if callee == "Dense" else None, "activation"), layer)
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

    def _activation(self, node, layer: Layer) -> str | None:
        if node is None:
            return None
        value = self.const(node, layer.frame, layer.line)
        if isinstance(value, str):
            return value
        if value is None:
            return "linear"
        name = dotted_name(node)
        return name.rsplit(".", 1)[-1] if name else (last_name(node) if isinstance(node, ast.Call) else None)


def _shape_value(value) -> tuple | None:
    if isinstance(value, (tuple, list)) and value and all(positive_int(x) for x in value):
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
        extractor = Extractor(module)
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


def _layers_step(extractor: Extractor, plan: Plan, compile_call, fit) -> None:
    try:
        extractor.model_layers(compile_call, fit)
    finally:  # a recursion error deep in a graph keeps what was found
        plan.layers = [layer.text for layer in extractor.layers]


def _compile_step(extractor: Extractor, plan: Plan, compile_call) -> None:
    if compile_call is not None:
        frame, line = extractor.frame_at(compile_call), compile_call.lineno
        optimizer = argument_value(compile_call, 0, "optimizer")
        plan.optimizer, plan.learning_rate = extractor.optimizer(optimizer, frame, line)
        plan.loss_function = extractor.names_text(argument_value(compile_call, 1, "loss"), frame, line)
        plan.evaluation_metric = extractor.names_text(argument_value(compile_call, 2, "metrics"), frame, line)
    if plan.optimizer is None:
        plan.optimizer, rate = extractor.fallback_optimizer()
        plan.learning_rate = plan.learning_rate or rate
    if plan.loss_function is None:
        plan.loss_function = extractor.fallback_loss()
    if plan.learning_rate is None:
        plan.learning_rate = extractor.named_constant(LR_NAME, as_learning_rate)


def _fit_step(extractor: Extractor, plan: Plan, fit) -> None:
    plan.epochs = extractor.fit_number(fit, "epochs", 3)
    plan.batch_size = extractor.fit_number(fit, "batch_size", 2)
    if plan.batch_size is None and fit is not None:
        data = argument_value(fit, 0, "x", "generator")
        plan.batch_size = extractor.data_batch_size(data, extractor.frame_at(fit), fit.lineno)
    if plan.epochs is None:
        plan.epochs = extractor.named_constant(EPOCHS_NAME, positive_int) or extractor.epoch_loop() \
            or extractor.last_keyword(("epochs",), positive_int)
    if plan.batch_size is None:
        plan.batch_size = extractor.named_constant(BATCH_NAME, positive_int) \
            or extractor.last_keyword(("batch_size",), positive_int)
