"""The two levels after `train_step`, run when the job carries a task:

``task_fit``: a synthetic batch shaped as the task states (not as the model's input happens to be) goes through the
model; its outputs, their activations and the compiled loss must fit the task's output (`verify.task_fit`).

``learns``: up to STEPS train steps on a tiny batch whose targets follow from its inputs (class-dependent input levels,
class-dependent token ranges, per-sample constant images to reconstruct), the "overfit one batch" check: the loss
must fall below LEARN_RATIO of its first value (it stops early once SETTLED steps in a row are below).
"""

from __future__ import annotations

import math

from dlcodegen.core.task import TaskSpec
from dlcodegen.verify.child.state import Run
from dlcodegen.verify.child.training import _all_layers, _loss_name
from dlcodegen.verify.task_fit import SeenModel, SeenOutput, fit_error, output_kind, stated_input

BATCH = 8
FREE_DIM = 32
STEPS = 50
MIN_STEPS = 10
SETTLED = 3  # steps in a row below the ratio that end the level early (then the verdict is a pass)
VERDICT_STEPS = 5  # the verdict's loss: the lowest of the last VERDICT_STEPS steps
LEARN_RATIO = 0.8


class LevelFailed(Exception):
    """A task level failed; the message is its one line."""


def _task(run: Run) -> TaskSpec:
    return TaskSpec.from_dict(run.job.task or {})


def _own_train_step(model) -> bool:
    import keras

    return type(model).train_step is not keras.Model.train_step


def _losses(model, count: int) -> list[str]:
    loss = getattr(model, "loss", None)
    names = list(getattr(model, "output_names", None) or [])
    if isinstance(loss, dict):
        return [_loss_name(loss.get(names[i] if i < len(names) else None)) for i in range(count)]
    if isinstance(loss, (list, tuple)):
        return [_loss_name(loss[i] if i < len(loss) else None) for i in range(count)]
    return [_loss_name(loss)] * count


def _activations(model, count: int) -> list[str]:
    found = []
    for index in range(count):
        layer = None
        try:
            layer = model.outputs[index]._keras_history[0]
        except Exception:
            layers = getattr(model, "layers", None) or []
            layer = layers[-1] if layers and count == 1 else None
        activation = getattr(layer, "activation", None)
        found.append(getattr(activation, "__name__", "") if activation is not None else "")
    return found


def _inputs(model):
    try:
        inputs = model.inputs
    except Exception:
        inputs = None
    if not inputs:
        raise LevelFailed("input: the model's input shape is unknown (it was never built or called on data)")
    return list(inputs)


def _input_shapes(task: TaskSpec, inputs) -> list[tuple]:
    shapes = []
    for tensor in inputs:
        own = tuple(None if dim is None else int(dim) for dim in tuple(tensor.shape)[1:])
        wanted, clash = stated_input(task, own)
        if clash:
            raise LevelFailed(clash)
        shapes.append(tuple(FREE_DIM if dim is None else dim for dim in wanted))
    return shapes


class _Batch:
    """A learnable batch: `labels` decide the inputs (and so the targets)."""

    def __init__(self, model, task: TaskSpec, family: str, rng):
        import keras
        import numpy as np

        self.model, self.task, self.family, self.rng = model, task, family, rng
        self.kind = output_kind(task, family)
        embeddings = [layer.input_dim for layer in _all_layers(model) if isinstance(layer, keras.layers.Embedding)]
        self.vocabulary = max(min(embeddings), 3) if embeddings else None
        self.classes = 2
        self.labels = np.arange(BATCH) % 2
        self.levels = (np.arange(BATCH) % 2).astype("float32")

    def set_classes(self, classes: int) -> None:
        import numpy as np

        self.classes = max(2, int(classes))
        self.labels = np.arange(BATCH) % self.classes

    def value(self, tensor, shape: tuple):
        import numpy as np

        dtype = str(getattr(tensor, "dtype", "float32"))
        full = (BATCH, *shape)
        if "string" in dtype:
            return np.resize(np.array([f"class {label} example" for label in self.labels], dtype=object), full)
        if "int" in dtype or "bool" in dtype or (self.vocabulary and len(shape) == 1):
            high = self.vocabulary or 2
            span = max(1, (high - 1) // self.classes)
            low = 1 + self.labels * span
            ids = low.reshape((BATCH,) + (1,) * len(shape)) + self.rng.integers(0, span, size=full)
            return np.clip(ids, 0, high - 1).astype("int32")
        if self.kind in ("image", "reconstruction"):
            return np.broadcast_to(self.levels.reshape((BATCH,) + (1,) * len(shape)), full).astype("float32").copy()
        level = self.labels / (self.classes - 1)
        noise = self.rng.random(full).astype("float32")
        return (0.1 * noise + 0.9 * level.reshape((BATCH,) + (1,) * len(shape))).astype("float32")

    def target(self, output_shape: tuple, loss: str, x_first):
        """Targets for one output (shape without the batch) matched to its loss and learnable from the inputs."""
        import numpy as np

        shape = tuple(FREE_DIM if dim is None else int(dim) for dim in output_shape)
        units = shape[-1] if shape else 1
        if "ctc" in loss:
            length = max(1, min(8, (shape[0] if shape else 8) // 4))
            return (1 + (self.labels.reshape(-1, 1) + np.arange(length)) % max(1, units - 1)).astype("int32")
        if self.kind in ("image", "reconstruction") and len(shape) >= 2:
            return _broadcast(self.levels, shape)
        if "sparse" in loss:
            return self._sparse(shape, units, x_first)
        if "categorical" in loss or "kl" in loss or ("dice" in loss and len(shape) >= 2 and units > 1):
            labels = self._sparse(shape, units, x_first)
            return np.eye(max(units, 1), dtype="float32")[labels]
        if any(key in loss for key in ("binary", "bce", "dice", "focal", "hinge", "iou")):
            if len(shape) == 1 and units > 1:  # multilabel: the label's bits
                return ((self.labels.reshape(-1, 1) >> (np.arange(units) % 8)) & 1).astype("float32")
            return _broadcast((self.labels % 2).astype("float32"), shape)
        return _broadcast(((self.labels + 1) / (self.classes + 1)).astype("float32"), shape)

    def _sparse(self, shape: tuple, units: int, x_first):
        import numpy as np

        if len(shape) >= 2:  # per step: tags or next tokens follow the token ids
            steps = shape[0]
            if x_first is not None and getattr(x_first, "ndim", 0) == 2 and "int" in str(x_first.dtype):
                ids = np.resize(x_first, (BATCH, steps)) if x_first.shape[1] != steps else x_first
                return (ids % max(units, 1)).astype("int32")
            return _broadcast(self.labels % max(units, 1), shape[:-1]).astype("int32")
        return (self.labels % max(units, 1)).astype("int32")


def _broadcast(per_sample, shape: tuple):
    """One value per sample, repeated over the rest of `shape`."""
    import numpy as np

    return np.broadcast_to(per_sample.reshape((BATCH,) + (1,) * len(shape)), (BATCH, *shape)).copy()


def _structure(model, values: list):
    import keras

    struct = getattr(model, "_inputs_struct", None)
    if struct is None:
        return values[0] if len(values) == 1 else values
    packed = keras.tree.pack_sequence_as(struct, values)
    return packed[0] if isinstance(packed, (list, tuple)) and len(packed) == 1 else packed


def _task_batch(model, task: TaskSpec, family: str):
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    inputs = _inputs(model)
    shapes = _input_shapes(task, inputs)
    batch = _Batch(model, task, family, rng)
    stated = task.output.classes.value
    if stated:
        batch.set_classes(int(stated))
    values = [batch.value(tensor, shape) for tensor, shape in zip(inputs, shapes)]
    x = _structure(model, values)
    outputs = keras.tree.flatten(model(x, training=False))
    return batch, values, shapes, x, outputs


def task_fit(run: Run, model) -> None:
    """The task_fit level: raises LevelFailed with one line when the model does not fit the task."""
    task = _task(run)
    family = task.task.value or ""
    _, _, shapes, _, outputs = _task_batch(model, task, family)
    losses = _losses(model, len(outputs))
    activations = _activations(model, len(outputs))
    seen = SeenModel(tuple(shapes), tuple(SeenOutput(tuple(int(d) if d is not None else None for d in
                                                           tuple(output.shape)[1:]), activation, loss)
                                          for output, activation, loss in zip(outputs, activations, losses)),
                     own_train_step=_own_train_step(model), fed=tuple(shapes))
    error = fit_error(task, seen, family)
    if error:
        raise LevelFailed(error)
    run.note("task_fit: a batch shaped as the task states: x " + ", ".join(str((BATCH, *s)) for s in shapes)
             + "; y " + ", ".join(str(tuple(output.shape)) for output in outputs))


def _first_loss(value) -> float:
    if isinstance(value, dict):
        value = value.get("loss", next(iter(value.values()), float("nan")))
    if isinstance(value, (list, tuple)):
        value = value[0] if value else float("nan")
    return float(value)


def learns(run: Run, model, train_on_batch) -> None:
    """The learns level: STEPS steps on a tiny learnable batch; the loss must fall below LEARN_RATIO x the first."""
    import keras

    task = _task(run)
    family = task.task.value or ""
    batch, values, _, x, outputs = _task_batch(model, task, family)
    int_inputs = [value for value in values if "int" in str(getattr(value, "dtype", ""))]
    if _own_train_step(model):
        data = _own_step_data(batch, model, x, outputs, family)
        step = lambda: train_on_batch(model, *data)  # noqa: E731
    else:
        losses = _losses(model, len(outputs))
        targets = [batch.target(tuple(output.shape)[1:], loss, int_inputs[-1] if int_inputs else None)
                   for output, loss in zip(outputs, losses)]
        names = list(getattr(model, "output_names", None) or [])
        y = dict(zip(names, targets)) if isinstance(getattr(model, "loss", None), dict) and len(names) == len(
            targets) else keras.tree.pack_sequence_as(model(x, training=False), targets)
        step = lambda: train_on_batch(model, x, y)  # noqa: E731
    history = _losses_until_learned(step)
    first, last, steps = history[0], min(history[-VERDICT_STEPS:]), len(history)
    if not all(math.isfinite(value) for value in history):
        raise LevelFailed(f"the loss became {history[-1]} after {steps} steps (first {first:.4g})")
    if not last < LEARN_RATIO * first:
        raise LevelFailed(f"the loss went from {first:.4g} to {last:.4g} in {steps} steps on one tiny batch "
                          f"(expected below {LEARN_RATIO * first:.4g})")
    run.note(f"learns: loss {first:.4g} -> {last:.4g} in {steps} steps on one batch of {BATCH}")


def _losses_until_learned(step) -> list[float]:
    """The training loss of each step, up to STEPS; stopped early once SETTLED steps in a row (after MIN_STEPS) are
    below LEARN_RATIO x the first (a large model's steps cost seconds on CPU), or at a non-finite loss."""
    history: list[float] = []
    for _ in range(STEPS):
        history.append(_first_loss(step()))
        if not math.isfinite(history[-1]):
            break
        if len(history) >= MIN_STEPS and all(value < LEARN_RATIO * history[0] for value in history[-SETTLED:]):
            break
    return history


def _own_step_data(batch: _Batch, model, x, outputs, family: str) -> tuple:
    """What a model with its own train_step trains on: images for a generator (shaped like its output),
    (images, labels) for an embedding, else the task batch and targets."""
    import numpy as np

    if family == "image_generation" and outputs:
        shape = tuple(int(dim) for dim in tuple(outputs[0].shape)[1:])
        images = np.broadcast_to(batch.levels.reshape((BATCH,) + (1,) * len(shape)), (BATCH, *shape))
        return (images.astype("float32").copy(),)
    if family == "image_similarity":
        return x, batch.labels.astype("int32")
    return (x,)
