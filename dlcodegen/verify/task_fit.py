"""What `verify`'s `task_fit` level checks, as pure functions of the task and of what the child saw the model do.

The child shapes a synthetic batch as the task states (`task_input_shape`), runs the model on it, and hands the
shapes, activations and losses it saw to `fit_error`, which answers None (fits) or one line with the expected and
the actual values. Imported by the child: only the standard library and the contract layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dlcodegen.core.task import FAMILIES, TaskSpec

Shape = tuple  # a shape without the batch dimension; None for a free dimension

_CLASSIFICATION_LOSS = re.compile(r"categorical|crossentropy|kl_?d|kullback|focal|hinge|poisson")
_SPARSE_OR_CATEGORICAL = re.compile(r"categorical|kl_?d|kullback|focal")
_BINARY_LOSS = re.compile(r"binary|bce|dice|focal|jaccard|iou|hinge|tversky|lovasz")
_REGRESSION_LOSS = re.compile(r"squared|absolute|huber|log_?cosh|mse|mae|msle|mape|poisson|quantile|pinball|rmse|l1|l2")
_IMAGE_LOSS = re.compile(r"squared|absolute|huber|mse|mae|ssim|binary_crossentropy|bce|l1|l2|charbonnier|perceptual")
_EMBEDDING_LOSS = re.compile(r"triplet|contrastive|cosine|margin|binary|bce|arcface|circle|npair|crossentropy|"
                             r"squared|mse|absolute|mae")
_SQUASHING = {"sigmoid", "softmax", "tanh"}


@dataclass(frozen=True)
class SeenOutput:
    shape: Shape                 # on the task batch, batch dimension left out
    activation: str = ""         # of the layer that produced it, when known ("" unknown)
    loss: str = ""               # the loss compiled for it ("" none/unknown)


@dataclass(frozen=True)
class SeenModel:
    inputs: tuple[Shape, ...]
    outputs: tuple[SeenOutput, ...]
    own_train_step: bool = False
    fed: tuple[Shape, ...] = field(default_factory=tuple)  # the shapes of the task batch it was given


def _stated(fact) -> int | None:
    return int(fact.value) if fact.stated else None


def stated_input(task: TaskSpec, model_shape: Shape) -> tuple[Shape, str | None]:
    """The input shape the task states for one model input (the model's own where the task says nothing), and one
    line when the model's fixed shape contradicts a stated fact."""
    family = FAMILIES.get(task.task.value or "")
    kind = task.input.kind.value or (family.input if family else None)
    facts = task.input
    shape = tuple(model_shape)
    wanted = list(shape)
    if kind in ("image", "image_text") and len(shape) == 3:
        for index, fact in enumerate((facts.height, facts.width, facts.channels)):
            if _stated(fact) is not None:
                wanted[index] = _stated(fact)
    elif kind == "time_series" and len(shape) == 2:
        for index, fact in enumerate((facts.sequence_length, facts.features)):
            if _stated(fact) is not None:
                wanted[index] = _stated(fact)
    elif kind == "tabular" and len(shape) == 1 and _stated(facts.features) is not None and shape[0] is None:
        wanted[0] = _stated(facts.features)
    elif kind == "text" and len(shape) == 1 and shape[0] is None and _stated(facts.sequence_length) is not None:
        wanted[0] = _stated(facts.sequence_length)
    wanted_shape = tuple(wanted)
    clash = [i for i, (have, want) in enumerate(zip(shape, wanted_shape)) if have is not None and have != want]
    if clash:
        return shape, (f"input: the task states {_shape_text(wanted_shape)}, the model takes {_shape_text(shape)}")
    return wanted_shape, None


def _shape_text(shape: Shape) -> str:
    return "(" + ", ".join("None" if dim is None else str(dim) for dim in shape) + ")"


def _units(output: SeenOutput) -> int | None:
    return output.shape[-1] if output.shape else 1


def _loss_fits(loss: str, pattern: re.Pattern, own: bool) -> bool:
    return own or not loss or bool(pattern.search(loss))


def _classes_error(task: TaskSpec, outputs: tuple[SeenOutput, ...], own: bool) -> str | None:
    kind = task.output.kind.value
    classes = _stated(task.output.classes)
    if kind == "multiclass" and classes == 2:
        kind = "binary"
    head = outputs[0]
    if len(head.shape) != 1:
        return f"output: a {kind} task wants (batch, units), the model gives (batch, {_dims(head.shape)})"
    units = head.shape[0]
    loss = head.loss
    if kind == "binary":
        if units == 1:
            if head.activation in ("softmax", "relu"):
                return f"output: one unit with {head.activation} cannot give a probability; expected sigmoid"
            return None if _loss_fits(loss, _BINARY_LOSS, own) else \
                f"loss: {loss} does not fit one binary output unit (expected binary cross-entropy)"
        if units == 2:
            return None if _loss_fits(loss, _SPARSE_OR_CATEGORICAL, own) else \
                f"loss: {loss} does not fit a 2-unit softmax output (expected categorical cross-entropy)"
        return f"output: a binary task wants 1 unit (sigmoid) or 2 (softmax), the model gives {units}"
    if classes is not None and units != classes:
        return f"output: the task states {classes} classes, the model's output has {units} units"
    if units is None or units < 2:
        return f"output: a {kind} task wants one unit per class, the model gives {units}"
    if kind == "multilabel":
        return None if _loss_fits(loss, _BINARY_LOSS, own) else \
            f"loss: {loss} does not fit a multilabel output (expected binary cross-entropy)"
    if loss and not own and not _SPARSE_OR_CATEGORICAL.search(loss):
        return f"loss: {loss} does not fit {units} classes (expected categorical cross-entropy)"
    if head.activation == "sigmoid" and loss and "categorical" in loss and "from_logits" not in loss:
        return "output: sigmoid units with a categorical cross-entropy; expected softmax"
    return None


def _first_of_rank(model: SeenModel, rank: int) -> SeenOutput | None:
    """The first output with `rank` dimensions besides the batch one."""
    return next((output for output in model.outputs if len(output.shape) == rank), None)


def _outputs_text(model: SeenModel) -> str:
    return ", ".join(f"(batch, {_dims(output.shape)})" for output in model.outputs)


def _dims(shape: Shape) -> str:
    return ", ".join("None" if dim is None else str(dim) for dim in shape)


def _regression_error(task: TaskSpec, outputs: tuple[SeenOutput, ...], own: bool) -> str | None:
    head = outputs[0]
    targets = _stated(task.output.targets) or 1
    horizon = _stated(task.output.horizon) or 1
    size = 1
    for dim in head.shape:
        size *= dim or 1
    wanted = targets * horizon
    if (task.output.targets.stated or task.output.horizon.stated) and size != wanted:
        return (f"output: the task wants {wanted} value(s) (targets {targets} x horizon {horizon}), the model gives "
                f"(batch, {_dims(head.shape)})")
    if len(head.shape) > 2:
        return f"output: a regression task wants (batch, values), the model gives (batch, {_dims(head.shape)})"
    if head.activation in ("sigmoid", "softmax"):
        return f"output: a regression output ends in {head.activation}; expected a linear unit"
    if head.loss and not own and (not _REGRESSION_LOSS.search(head.loss) or "crossentropy" in head.loss):
        return f"loss: {head.loss} does not fit a regression output (expected MSE, MAE or Huber)"
    return None


def _spatial(fed: tuple[Shape, ...]) -> tuple | None:
    image = next((shape for shape in fed if len(shape) == 3), None)
    return image[:2] if image else None


def _mask_error(task: TaskSpec, model: SeenModel) -> str | None:
    head = _first_of_rank(model, 3)
    size = _spatial(model.fed)
    if head is None:
        return f"output: a mask task wants (batch, height, width, classes), the model gives {_outputs_text(model)}"
    if size and tuple(head.shape[:2]) != tuple(size):
        return (f"output: the mask must match the input's {size[0]}x{size[1]}, the model gives "
                f"{head.shape[0]}x{head.shape[1]} (no decoder back to full size?)")
    classes = _stated(task.output.classes)
    channels = head.shape[2]
    if classes is not None and classes > 2 and channels != classes:
        return f"output: the task states {classes} mask classes, the model gives {channels} channels"
    if channels == 1:
        return None if _loss_fits(head.loss, _BINARY_LOSS, model.own_train_step) else \
            f"loss: {head.loss} does not fit a one-channel mask (expected binary cross-entropy or dice)"
    return None if _loss_fits(head.loss, _CLASSIFICATION_LOSS, model.own_train_step) or "dice" in head.loss else \
        f"loss: {head.loss} does not fit a {channels}-class mask (expected a categorical cross-entropy)"


def _image_error(task: TaskSpec, model: SeenModel, family: str) -> str | None:
    head = _first_of_rank(model, 3)
    if head is None:
        return ("output: an image task wants (batch, height, width, channels), the model gives "
                f"{_outputs_text(model)}")
    if family == "image_generation":
        height, width = _stated(task.input.height), _stated(task.input.width)
        if height and width and tuple(head.shape[:2]) != (height, width):
            return f"output: the task states {height}x{width} images, the generator gives {head.shape[0]}x{head.shape[1]}"
    else:
        size = _spatial(model.fed)
        if size and (head.shape[0] % size[0] or head.shape[1] % size[1]):
            return (f"output: the image must be the input's {size[0]}x{size[1]} (or a multiple), the model gives "
                    f"{head.shape[0]}x{head.shape[1]}")
    if head.shape[2] not in (1, 3, 4):
        return f"output: an image has 1, 3 or 4 channels, the model gives {head.shape[2]}"
    return None if _loss_fits(head.loss, _IMAGE_LOSS, model.own_train_step) else \
        f"loss: {head.loss} does not fit an image output (expected MSE or MAE)"


def _sequence_error(task: TaskSpec, model: SeenModel, what: str) -> str | None:
    head = _first_of_rank(model, 2)
    if head is None:
        return f"output: {what} wants (batch, steps, classes), the model gives {_outputs_text(model)}"
    classes = _stated(task.output.classes)
    if what.startswith("per-token") and classes is not None and head.shape[1] != classes:
        return f"output: the task states {classes} tags, the model gives {head.shape[1]} per token"
    steps = next((shape[0] for shape in model.fed if len(shape) == 1), None)
    if what.startswith("per-token") and steps is not None and head.shape[0] != steps:
        return f"output: one tag per token wants {steps} steps, the model gives {head.shape[0]}"
    if head.shape[1] is not None and head.shape[1] < 2:
        return f"output: {what} wants one unit per vocabulary entry, the model gives {head.shape[1]}"
    if head.loss and not model.own_train_step and not re.search(r"crossentropy|ctc", head.loss):
        return f"loss: {head.loss} does not fit {what} (expected a sparse categorical cross-entropy)"
    return None


def _span_error(model: SeenModel) -> str | None:
    steps = next((shape[0] for shape in model.fed if len(shape) == 1), None)
    spans = [output for output in model.outputs if len(output.shape) == 1 and output.shape[0] == steps] \
        if steps else []
    if len(spans) >= 2 or any(len(output.shape) == 2 and output.shape == (steps, 2) for output in model.outputs):
        return None
    return (f"output: question answering wants start and end scores over the {steps} tokens, the model gives "
            f"{_outputs_text(model)}")


def _boxes_error(task: TaskSpec, model: SeenModel) -> str | None:
    boxes = [output for output in model.outputs if output.shape and output.shape[-1] == 4][:1]
    others = [output for output in model.outputs if output is not boxes[0]] if boxes else []
    if not boxes:
        return f"output: detection wants a box output (..., 4), the model gives {_outputs_text(model)}"
    if not others and not (boxes and len(model.outputs) == 1 and len(boxes[0].shape) >= 2):
        return "output: detection wants a class output beside the boxes"
    classes = _stated(task.output.classes)
    if classes and others and not any(output.shape[-1] in (classes, classes + 1) for output in others):
        return f"output: the task states {classes} object classes, the class output has {others[0].shape[-1]}"
    return None


def _embedding_error(model: SeenModel) -> str | None:
    head = model.outputs[0]
    if len(head.shape) != 1:
        return f"output: an embedding task wants (batch, dimensions), the model gives (batch, {_dims(head.shape)})"
    return None if _loss_fits(head.loss, _EMBEDDING_LOSS, model.own_train_step) else \
        f"loss: {head.loss} does not fit an embedding (expected a contrastive or triplet loss)"


def _reconstruction_error(model: SeenModel) -> str | None:
    head = model.outputs[0]
    fed = model.fed[0] if model.fed else None
    if fed is not None and tuple(head.shape) != tuple(fed):
        return f"output: an autoencoder must give back its input {_shape_text(fed)}, the model gives {_shape_text(head.shape)}"
    return None if _loss_fits(head.loss, _REGRESSION_LOSS, model.own_train_step) else \
        f"loss: {head.loss} does not fit a reconstruction (expected MSE or MAE)"


def output_kind(task: TaskSpec, family: str) -> str:
    if family == "anomaly_detection":
        return "reconstruction"
    kind = task.output.kind.value or (FAMILIES[family].output if family in FAMILIES else "")
    return kind


def fit_error(task: TaskSpec, model: SeenModel, family: str | None = None) -> str | None:
    """None when the model's output and loss fit the task's output; else one line, expected and actual."""
    family = family or task.task.value or ""
    kind = output_kind(task, family)
    if not model.outputs:
        return "output: the model gave no output"
    if kind in ("binary", "multiclass", "multilabel"):
        return _classes_error(task, model.outputs, model.own_train_step)
    if kind == "regression":
        return _regression_error(task, model.outputs, model.own_train_step)
    if kind == "mask":
        return _mask_error(task, model)
    if kind == "image":
        return _image_error(task, model, family)
    if kind == "tags":
        return _sequence_error(task, model, "per-token tagging")
    if kind == "text":
        if family == "question_answering":
            return _span_error(model)
        return _sequence_error(task, model, "a text output")
    if kind == "boxes":
        return _boxes_error(task, model)
    if kind == "embedding":
        return _embedding_error(model)
    if kind == "reconstruction":
        return _reconstruction_error(model)
    if kind == "ranking":
        head = model.outputs[0]
        return None if len(head.shape) <= 1 else \
            f"output: a recommender wants one score per pair, the model gives (batch, {_dims(head.shape)})"
    return None
