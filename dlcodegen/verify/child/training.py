"""The synthetic training step: one `train_on_batch` on a batch of 2 rows shaped like the model's inputs and outputs,
the targets matched to the compiled loss; and the interception of the project's own `fit`/`train_on_batch`."""

from __future__ import annotations

import re

from dlcodegen.verify.child.state import Run, StopAfterTrainStep, TrainStepFailed

BATCH = 2            # rows of the synthetic training batch
FREE_DIM = 32        # stand-in size of a None (free) dimension of an input other than the batch one


def _loss_name(loss) -> str:
    if loss is None:
        return ""
    if isinstance(loss, str):
        return loss.lower()
    name = getattr(loss, "name", None) or getattr(loss, "__name__", None) or type(loss).__name__
    fn = getattr(loss, "fn", None)
    if fn is not None:
        name = f"{name} {getattr(fn, '__name__', '')}"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", str(name)).lower()


def _batch_shape(shape) -> tuple[int, ...]:
    return tuple(BATCH if i == 0 else (FREE_DIM if dim is None else int(dim)) for i, dim in enumerate(shape))


def _target_for(output_shape, loss, rng):
    import numpy as np

    shape = _batch_shape(output_shape)
    name = _loss_name(loss)
    classes = shape[-1] if len(shape) > 1 else 1
    if "ctc" in name:  # label sequences (0 = padding), not output-shaped values
        length = max(1, min(8, (shape[1] if len(shape) > 2 else 8) // 4))
        labels = rng.integers(1, max(2, classes), size=(shape[0], length))
        return labels.astype("int32"), f"int label sequences < {max(2, classes)}"
    if "sparse" in name:
        labels = rng.integers(0, max(classes, 1), size=shape[:-1] if len(shape) > 1 else shape)
        return labels.astype("int32"), f"int labels < {max(classes, 1)}"
    if "categorical" in name or name in ("kld", "kl_divergence", "kullback_leibler_divergence"):
        labels = rng.integers(0, max(classes, 1), size=shape[:-1])
        return np.eye(max(classes, 1), dtype="float32")[labels], f"one-hot over {classes}"
    if any(key in name for key in ("binary", "bce", "dice", "focal", "jaccard", "iou", "hinge")):
        return (rng.random(shape) > 0.5).astype("float32"), "0/1"
    return rng.random(shape).astype("float32"), "floats"


def _input_for(tensor, embedding_dim: int | None, rng):
    import numpy as np

    shape = _batch_shape(tensor.shape)
    dtype = str(getattr(tensor, "dtype", "float32"))
    if "string" in dtype:
        words = np.array(["synthetic text for verify", "another short example"], dtype=object)
        return np.resize(words, shape), "strings"
    if "int" in dtype or "bool" in dtype or (embedding_dim and len(shape) == 2):
        high = embedding_dim or 2
        return rng.integers(0, high, size=shape).astype("int32"), f"ints < {high}"
    return rng.random(shape).astype("float32"), "floats"


def _describe_batch(values: list[tuple[object, str]]) -> str:
    return ", ".join(f"{tuple(getattr(value, 'shape', ()))} {kind}" for value, kind in values)


def _all_layers(model):
    seen, stack, out = set(), [model], []
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        out.append(layer)
        stack.extend(getattr(layer, "layers", None) or [])
    return out


def _synthetic_inputs(model, rng):
    """(x, [(value, kind) per input]) shaped like the model's inputs; raises when they are unknown."""
    import keras

    try:
        inputs = model.inputs
    except Exception:
        inputs = None
    if inputs is None or (isinstance(inputs, (list, tuple)) and len(inputs) == 0):
        raise RuntimeError("the model's input shape is unknown (it was never built or called on data)")
    embeddings = [layer.input_dim for layer in _all_layers(model) if isinstance(layer, keras.layers.Embedding)]
    embedding_dim = min(embeddings) if embeddings else None
    struct = getattr(model, "_inputs_struct", None)
    struct = inputs if struct is None else struct
    described: list[tuple[object, str]] = []

    def make_input(tensor):
        value, kind = _input_for(tensor, embedding_dim, rng)
        described.append((value, kind))
        return value

    x = keras.tree.map_structure(make_input, struct)
    if isinstance(x, (list, tuple)) and len(x) == 1:
        x = x[0]
    return x, described


def _synthetic_targets(model, outputs, rng):
    """(y, [(value, kind) per output]): targets shaped like `outputs` and matched to each output's loss (y is None
    when the model has no loss)."""
    import keras

    loss = getattr(model, "loss", None)
    names = getattr(model, "output_names", None)
    names = list(names) if isinstance(names, (list, tuple)) else []
    targets: list[tuple[object, str]] = []
    for index, output in enumerate(keras.tree.flatten(outputs)):
        if isinstance(loss, dict):
            this_loss = loss.get(names[index] if index < len(names) else None)
        elif isinstance(loss, (list, tuple)):
            this_loss = loss[index] if index < len(loss) else None
        else:
            this_loss = loss
        targets.append(_target_for(tuple(output.shape), this_loss, rng))
    if loss is None:
        return None, targets
    if isinstance(loss, dict) and len(names) == len(targets):
        return {name: value for name, (value, _) in zip(names, targets)}, targets
    return keras.tree.pack_sequence_as(outputs, [value for value, _ in targets]), targets


def _generator_with_own_step(model, x, outputs) -> bool:
    import keras

    return (type(model).train_step is not keras.Model.train_step and getattr(x, "ndim", 0) == 2
            and len(getattr(outputs, "shape", ())) == 4)


def synthetic_batch(model):
    """(x, y, description) of a batch of BATCH rows shaped like the model's inputs and its outputs, the targets
    matched to the compiled loss; raises when the model's input shape is unknown."""
    import numpy as np

    rng = np.random.default_rng(0)
    x, inputs = _synthetic_inputs(model, rng)
    outputs = model(x, training=False)
    if _generator_with_own_step(model, x, outputs):  # a VAE/GAN whose call decodes latents trains on images
        images = rng.random(tuple(outputs.shape)).astype("float32")
        return images, None, f"x {_describe_batch([(images, 'floats')])} (images for its own train_step); y none"
    y, targets = _synthetic_targets(model, outputs, rng)
    description = f"x {_describe_batch(inputs)}; y " + (_describe_batch(targets) if y is not None else "none")
    return x, y, description


def _first_batch(args, kwargs):
    """The first BATCH rows of the data passed to fit (the fallback when the model's input shape is unknown)."""
    import numpy as np

    x = kwargs.get("x", args[0] if args else None)
    y = kwargs.get("y", args[1] if len(args) > 1 else None)
    if x is None:
        raise RuntimeError("fit() was called without data and the model's input shape is unknown")
    if hasattr(x, "take") and hasattr(x, "element_spec"):  # a tf.data.Dataset (already batched, as fit wants)
        element = next(iter(x.take(1)))
        return (element[0], element[1] if len(element) > 1 else None) if isinstance(element, tuple) else \
            (element, None)
    if not hasattr(x, "shape") and not isinstance(x, (list, tuple, dict)):  # a generator or a keras Sequence
        element = next(x) if hasattr(x, "__next__") else x[0]
        if isinstance(element, tuple):
            return element[0][:BATCH], (element[1][:BATCH] if len(element) > 1 else None)
        return element[:BATCH], None

    def head(value):
        if value is None:
            return None
        if isinstance(value, dict):
            return {key: head(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [head(item) for item in value]
        if hasattr(value, "iloc"):
            value = value.to_numpy()
        return np.asarray(value)[:BATCH]

    return head(x), head(y)


def synthetic_train_step(run: Run, model, fit_args=(), fit_kwargs=None) -> None:
    """One train_on_batch on a synthetic batch shaped like the model (the data given to fit when the model's
    shape is unknown)."""
    train_on_batch = run.original_train_on_batch or type(model).train_on_batch
    try:
        x, y, description = synthetic_batch(model)
        source = "synthetic batch"
    except RuntimeError:
        if not fit_args and not fit_kwargs:
            raise
        x, y = _first_batch(fit_args, fit_kwargs or {})
        description, source = "the first rows of the data given to fit()", "fit data"
    train_on_batch(model, x, y)
    run.note(f"train step: one train_on_batch on a {source} ({description})")


def intercepted_training(run: Run, model, how: str, args, kwargs) -> None:
    """Model.fit / train_on_batch called by the project: one synthetic step, then stop the project."""
    if getattr(model, "built", False) or getattr(model, "optimizer", None) is not None:
        run.model_built(model)
    run.note(f"{how}(...) intercepted: the project stops after one training step")
    try:
        synthetic_train_step(run, model, args, kwargs)
    except Exception as error:
        failure = TrainStepFailed(error)
        run.train_failure = failure  # reported even if the project swallows it with a bare `except:`
        raise failure from None
    run.train_done = True
    raise StopAfterTrainStep()
