"""Keep a plan true to the task: its category in the task's family, its Input and Output about the stated facts,
its last layer and loss fitting the output. Every planner's plan passes through `fit_plan_to_task`; each change
is returned as one line for the plan's repairs (shown by the CLI and the Space).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from dlcodegen.core.plan import Plan, normalize_label
from dlcodegen.core.task import TaskSpec, family_of_category
from dlcodegen.planning.layers import resolve_layer

# Losses that fit each output kind (normalize_label keys); the first is written when the plan's does not fit.
_LOSSES = {
    "binary": ("binary_crossentropy", "binarycrossentropy", "focal", "binaryfocal", "hinge", "bce"),
    "multiclass": ("categorical_crossentropy", "categoricalcrossentropy", "sparsecategoricalcrossentropy",
                   "crossentropy", "focal", "categoricalfocal", "kldivergence", "labelsmoothing"),
    "multilabel": ("binary_crossentropy", "binarycrossentropy", "focal", "binaryfocal", "sigmoidfocalcrossentropy"),
    "regression": ("mean_squared_error", "meansquarederror", "mse", "meanabsoluteerror", "mae", "huber", "huberloss",
                   "logcosh", "meanabsolutepercentageerror", "mape", "rmse", "rootmeansquarederror",
                   "meansquaredlogarithmicerror", "msle", "quantile", "pinball", "poisson"),
    "mask": ("sparse_categorical_crossentropy", "sparsecategoricalcrossentropy", "categoricalcrossentropy",
             "binarycrossentropy", "dice", "diceloss", "dicecoefloss", "bcedice", "focal", "jaccard", "iou",
             "tversky", "lovasz"),
    "image": ("mean_squared_error", "meansquarederror", "mse", "meanabsoluteerror", "mae", "ssim", "perceptual",
              "binarycrossentropy", "l1", "l2", "charbonnier", "adversarial"),
    "tags": ("sparse_categorical_crossentropy", "sparsecategoricalcrossentropy", "categoricalcrossentropy", "crf"),
    "text": ("sparse_categorical_crossentropy", "sparsecategoricalcrossentropy", "categoricalcrossentropy", "ctc",
             "ctcloss"),
    "reconstruction": ("mean_squared_error", "meansquarederror", "mse", "meanabsoluteerror", "mae", "huber"),
    "embedding": ("triplet_loss", "tripletloss", "triplet", "contrastive", "contrastiveloss", "binarycrossentropy",
                  "cosine", "cosinesimilarity", "arcface"),
}
_SPEECH_LOSS = "ctc_loss"
_LOSS_WORDS = {  # a plan's loss that names one of these words fits the kind whatever its exact spelling
    "mask": ("dice", "jaccard", "iou", "focal", "crossentropy", "tversky"),
    "regression": ("squared", "absolute", "huber", "error"),
    "image": ("squared", "absolute", "ssim", "perceptual", "l1", "l2", "adversarial", "reconstruction"),
    "embedding": ("triplet", "contrastive", "cosine", "margin"),
}
_CLASSIFIER_HEAD = re.compile(r"softmax|sigmoid", re.I)


def _loss_fits(loss: str | None, kind: str) -> bool:
    key = normalize_label(loss) or ""
    if not key:
        return False
    if key in _LOSSES.get(kind, ()):
        return True
    return any(word in key for word in _LOSS_WORDS.get(kind, ()))


def _units(spec: TaskSpec) -> int | None:
    output = spec.output
    if output.kind.value == "regression":
        return (output.targets.value or 1) * (output.horizon.value or 1)
    return output.classes.value


def head_layer(spec: TaskSpec) -> str | None:
    """The last layer that fits the output, in DLPlanData's call style; None where any ending may fit."""
    kind, classes = spec.output.kind.value, spec.output.classes.value
    channels = spec.input.channels.value or 3
    if kind == "binary":
        return "Dense(1, activation='sigmoid')"
    if kind == "multiclass" and classes:
        return f"Dense({classes}, activation='softmax')"
    if kind == "multilabel":
        return f"Dense({classes or 'num_labels'}, activation='sigmoid')"
    if kind == "regression":
        return f"Dense({_units(spec)}, activation='linear')"
    if kind == "mask":
        if classes and classes > 2:
            return f"Conv2D({classes}, (1, 1), padding='same', activation='softmax')"
        return "Conv2D(1, (1, 1), padding='same', activation='sigmoid')"
    if kind == "image":
        activation = "tanh" if spec.task.value == "image_generation" else "sigmoid"
        return f"Conv2D({channels}, (3, 3), padding='same', activation='{activation}')"
    if kind == "tags":
        return f"TimeDistributed(Dense({classes or 'num_tags'}, activation='softmax'))"
    return None


def _head_fits(last: str, spec: TaskSpec) -> bool:
    """Whether the plan's last layer already gives the output (units and activation), read leniently."""
    call = resolve_layer(last)
    kind, units = spec.output.kind.value, _units(spec)
    name = call.name if call else ""
    numbers = re.findall(r"\d+", call.arguments if call else last)
    first = int(numbers[0]) if numbers else None
    if kind in ("binary", "multiclass", "multilabel"):
        wanted = {"binary": "sigmoid", "multilabel": "sigmoid"}.get(kind, "softmax")
        if kind == "binary" and first == 2 and "softmax" in last.lower():
            return True  # two softmax units are a binary head too
        count_fits = first in (None, units if kind != "binary" else 1) or units is None
        return name == "Dense" and wanted in last.lower() and count_fits and (first is not None or units is None)
    if kind == "regression":
        return name == "Dense" and not _CLASSIFIER_HEAD.search(last) and first in (units, None)
    if kind in ("mask", "image"):
        return name.startswith(("Conv2D", "Conv3D")) or name == "Conv2DTranspose"
    if kind == "tags":
        return "TimeDistributed" in last or ("Dense" in last and "softmax" in last.lower()) or "CRF" in last
    return True


def fit_head(layers: list[str] | None, spec: TaskSpec) -> tuple[list[str] | None, str | None]:
    """The layers with a last layer that fits the output, and the repair line (None when nothing changed)."""
    head = head_layer(spec)
    if head is None or not layers:
        return layers, None
    last = layers[-1]
    if _head_fits(last, spec):
        return layers, None
    call = resolve_layer(last)
    if call is not None and call.name == "Dense" or _CLASSIFIER_HEAD.search(last):
        return [*layers[:-1], head], f"last layer {last!r} -> {head!r} ({_output_words(spec)})"
    return [*layers, head], f"added the last layer {head!r} ({_output_words(spec)})"


def _output_words(spec: TaskSpec) -> str:
    output = spec.output
    parts = [str(output.kind.value)]
    if output.classes.stated:
        parts.append(f"{output.classes.value} classes, read from {output.classes.source!r}")
    elif output.horizon.stated:
        parts.append(f"horizon {output.horizon.value}, read from {output.horizon.source!r}")
    return "output: " + ", ".join(parts)


_CLASSIFICATION_LOSS = re.compile(r"crossentropy|hinge|focal|kldivergence|bce", re.I)
_REGRESSION_LOSS = re.compile(r"squared|absolute|huber|mse|mae|logcosh|percentage|poisson|quantile|pinball|rmse",
                              re.I)


def kind_stated(spec: TaskSpec) -> bool:
    """Whether the words state the output kind (a class count, "binary", "multi-label"), not only its family."""
    source = spec.output.kind.source or ""
    return spec.output.kind.stated and not (source.startswith("the ") and source.endswith(" family"))


def _loss_contradicts(loss: str | None, kind: str, stated: bool) -> bool:
    key = normalize_label(loss) or ""
    classification, regression = bool(_CLASSIFICATION_LOSS.search(key)), bool(_REGRESSION_LOSS.search(key))
    if kind in ("binary", "multiclass", "multilabel", "tags"):
        if regression and not classification:
            return True
        if not stated or not classification:
            return False
        binary_loss = "binary" in key or key == "bce"
        return binary_loss != (kind in ("binary", "multilabel"))
    if kind == "regression":
        return classification and not regression
    return not _loss_fits(loss, kind) if stated else classification and kind == "image"


def fit_loss(loss: str | None, spec: TaskSpec) -> tuple[str | None, str | None]:
    """The plan's loss, or one that fits the output where the plan's contradicts it (a classification loss for a
    regression, binary cross-entropy for a stated 43-class output, ...). Losses the rules cannot judge stay."""
    kind = spec.output.kind.value or ""
    if spec.task.value == "speech_recognition":
        if "ctc" in (normalize_label(loss) or ""):
            return loss, None
        return _SPEECH_LOSS, f"loss {loss!r} -> {_SPEECH_LOSS!r} (speech recognition trains with CTC)"
    if kind not in _LOSSES or spec.task.value == "image_generation":
        return loss, None  # a GAN's loss is the adversarial one, whatever the plan names it
    if loss and not _loss_contradicts(loss, kind, kind_stated(spec)):
        return loss, None
    if not loss and not kind_stated(spec):
        return loss, None
    wanted = _LOSSES[kind][0]
    return wanted, f"loss {loss!r} -> {wanted!r} ({_output_words(spec)})"


# -- Input and Output written from the stated facts ------------------------------------------------------------------


def _size_words(spec: TaskSpec) -> str:
    height, width, channels = spec.input.height.value, spec.input.width.value, spec.input.channels.value
    if height and width:
        return f" of size {height}x{width} pixels" + (f" with {channels} channel{'s' * (channels != 1)}"
                                                       if channels else "")
    return {1: " in grayscale", 3: " in RGB"}.get(channels or 0, "")


def input_text(spec: TaskSpec) -> str:
    """The plan's Input written from the stated facts, in DLPlanData's plain style."""
    facts, kind = spec.input, spec.input.kind.value
    if kind in ("image", "image_text"):
        text = "Images" + _size_words(spec)
        return text + (" and their text" if kind == "image_text" else "")
    if kind == "volume":
        depth = f" with {facts.depth.value} slices" if facts.depth.stated else ""
        return "3D volumes" + _size_words(spec) + depth
    if kind == "video":
        return "Video clips as sequences of frames" + _size_words(spec)
    if kind == "text":
        length = f" padded to {facts.sequence_length.value} tokens" if facts.sequence_length.stated else ""
        return "Tokenized text sequences" + length
    if kind == "time_series":
        length = f" of {facts.sequence_length.value} time steps" if facts.sequence_length.stated else ""
        features = f" with {facts.features.value} features per step" if facts.features.stated else ""
        return "Windows of time series values" + length + features
    if kind == "audio":
        clip = f"{facts.clip_seconds.value:g}-second " if facts.clip_seconds.stated else ""
        rate = f" sampled at {facts.sample_rate.value} Hz" if facts.sample_rate.stated else ""
        return f"{clip}audio clips{rate} converted to spectrograms".capitalize()
    if kind == "noise":
        return "Random noise vectors from the latent space"
    if kind == "tabular":
        features = f" with {facts.features.value} features" if facts.features.stated else ""
        return "Tabular data" + features
    return "Input data"


def output_text(spec: TaskSpec) -> str:
    output, kind = spec.output, spec.output.kind.value
    names = f" ({', '.join(output.class_names.value)})" if output.class_names.stated and output.class_names.value else ""
    if kind == "binary":
        return f"Binary classification{names or ' (2 classes)'}"
    if kind == "multiclass":
        if not output.classes.stated:
            return f"Class probabilities{names}"
        return f"Classification into {output.classes.value} classes{names}"
    if kind == "multilabel":
        return "Multi-label predictions" + (f" for {output.classes.value} labels" if output.classes.stated else "")
    if kind == "regression":
        target = f" of {output.target_column.value}" if output.target_column.stated else ""
        if output.horizon.stated:
            return f"Forecast{target} for the next {output.horizon.value} time steps"
        return f"Predicted continuous values{target}"
    if kind == "mask":
        count = f" with {output.classes.value} classes" if output.classes.stated else ""
        return f"Segmentation masks{count}, one label per pixel"
    if kind == "image":
        return "Generated images" + _size_words(spec) if spec.task.value == "image_generation" else (
            "Output images" + _size_words(spec))
    if kind == "tags":
        return "A tag for each token" + (f" ({output.classes.value} tags)" if output.classes.stated else "")
    if kind == "boxes":
        return "Bounding boxes with class labels" + (f" for {output.classes.value} classes"
                                                      if output.classes.stated else "")
    if kind == "text":
        return {"translation": "Translated sentences in the target language", "image_captioning":
                "A caption for each image", "speech_recognition": "Transcribed text",
                "question_answering": "The answer span in the context"}.get(spec.task.value or "", "Generated text")
    if kind == "embedding":
        return "Embedding vectors compared by distance"
    if kind == "ranking":
        return "Recommended items ranked by predicted score"
    return "Predictions"


def _category(plan: Plan, spec: TaskSpec) -> tuple[str | None, str | None]:
    family = spec.family
    if family is None or (planned := family_of_category(plan.task_category)) is family:
        return plan.task_category, None
    words = f"the task, read from {spec.task.source!r}" if spec.task.source else "the task"
    return family.title, f"Task Category {plan.task_category!r} -> {family.title!r} ({words})"


def _fits_family(text: str | None, spec: TaskSpec, field: str) -> bool:
    """Whether a neighbour's Input/Output text can describe this task (a word of another input kind misleads)."""
    if not text:
        return False
    lowered = text.lower()
    kind = spec.input.kind.value if field == "input" else spec.output.kind.value
    foreign = {"image": ("audio", "text data", "tabular", "time series", "sentence"),
               "text": ("image", "audio", "pixel", "tabular"), "tabular": ("image", "audio", "pixel", "sentence"),
               "time_series": ("image", "pixel", "audio", "sentence"), "audio": ("image", "pixel", "tabular"),
               "noise": ("classif",), "binary": ("regression",), "multiclass": ("regression", "mask"),
               "regression": ("classes", "classification", "probabilit"), "mask": ("class probabilit",),
               "image": ("classes", "classification", "probabilit"), "text": ("classes", "classification")}
    return not any(word in lowered for word in foreign.get(kind or "", ()))


def fit_plan_to_task(plan: Plan, spec: TaskSpec, texts_from_family: bool = True) -> tuple[Plan, list[str]]:
    """The plan made consistent with the task, and what was changed (one line each).

    `texts_from_family`: the plan's Input and Output were chosen among plans of the task's family (the retrieval
    planner); otherwise they are rewritten from the facts whenever they describe another kind of data.
    """
    if spec.family is None:
        return plan, []
    repairs: list[str] = []
    category, repair = _category(plan, spec)
    changed: dict[str, Any] = {"task_category": category}
    repairs += [repair] if repair else []
    for name, writer in (("input", input_text), ("output", output_text)):
        text = getattr(plan, name)
        if not texts_from_family and not _fits_family(text, spec, name) or not text:
            changed[name] = writer(spec)
            repairs.append(f"{name.capitalize()} {_short(text)!r} -> {changed[name]!r} (written from the task)")
    for name, carry in (("input", _carry_input), ("output", _carry_output)):
        text, repair = carry(changed.get(name, getattr(plan, name)), spec)
        if repair:
            changed[name] = text
            repairs.append(repair)
    layers, repair = fit_head(plan.layers, spec)
    changed["layers"] = layers
    repairs += [repair] if repair else []
    loss, repair = fit_loss(plan.loss_function, spec)
    changed["loss_function"] = loss
    repairs += [repair] if repair else []
    return replace(plan, **changed), repairs


def _carry_input(text: str | None, spec: TaskSpec) -> tuple[str | None, str | None]:
    """The stated image size and channels in the Input, added where the text does not give them."""
    height, width, channels = spec.input.height, spec.input.width, spec.input.channels
    imagery = spec.input.kind.value in ("image", "volume", "video", "image_text") or spec.task.value == "image_generation"
    if not text or not imagery:
        return text, None
    parts, sources = [], []
    if height.stated and width.stated and not re.search(rf"(?<!\d){height.value}\s*[x×,]\s*{width.value}(?!\d)", text):
        parts.append(f"{height.value}x{width.value} pixels")
        sources.append(height.source)
    if channels.stated and (fixed := _with_channels(text, channels.value or 0)) != text:
        return f"{fixed}", f"Input: the stated {channels.value} channel{'s' * (channels.value != 1)} instead of the " \
                           f"neighbour's (read from {channels.source!r})"
    if channels.stated and (parts or not re.search(r"channel|gr[ae]y|rgb|colou?r|black", text, re.I)):
        parts.append(f"{channels.value} channel{'s' * (channels.value != 1)}")
        sources.append(channels.source)
    if not parts:
        return text, None
    added = ", ".join(parts)
    words = " and ".join(repr(source) for source in dict.fromkeys(sources))
    return f"{text.rstrip(' .')} ({added})", f"Input: added the stated {added} (read from {words})"


_OTHER_CHANNELS = {1: ((re.compile(r"\b3 (colou?r )?channels?( \(RGB\))?", re.I), "1 channel (grayscale)"),
                        (re.compile(r"\bRGB\b"), "grayscale")),
                   3: ((re.compile(r"\b(1|one|single) channel\b( \(gr[ae]yscale\))?", re.I), "3 channels (RGB)"),
                       (re.compile(r"\bgr[ae]y[- ]?scale\b", re.I), "RGB"))}


def _with_channels(text: str, channels: int) -> str:
    """A neighbour's Input with its channel count replaced by the stated one (3 -> 1 for "grayscale", ...)."""
    for pattern, replacement in _OTHER_CHANNELS.get(channels, ()):
        text = pattern.sub(replacement, text)
    return text


def _carry_output(text: str | None, spec: TaskSpec) -> tuple[str | None, str | None]:
    """The stated class count in the Output, added where the text gives another count or none."""
    classes = spec.output.classes
    if not text or not classes.stated or spec.output.kind.value not in ("binary", "multiclass", "multilabel", "mask",
                                                                        "tags", "boxes"):
        return text, None
    if re.search(rf"\b{classes.value}\b", text) or (classes.value == 2 and re.search(r"\bbinary\b", text, re.I)):
        return text, None
    if _other_count(text, classes.value or 0):  # "Binary classification (cats or dogs)" for a 3-class task
        return output_text(spec), (f"Output: the neighbour's {_short(text)!r} rewritten for the stated "
                                   f"{classes.value} classes (read from {classes.source!r})")
    return (f"{text.rstrip(' .')} ({classes.value} classes)",
            f"Output: added the stated {classes.value} classes (read from {classes.source!r})")


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_STATED_COUNT = re.compile(r"\b(\d+|" + "|".join(_COUNT_WORDS) + r")\s+(?:[\w-]+\s+)?(classes|categories|labels|"
                           r"types|kinds|species|breeds|groups)\b", re.I)


def _other_count(text: str, classes: int) -> bool:
    """Whether a neighbour's Output states a class count other than the task's ("binary", "10 classes")."""
    if classes != 2 and re.search(r"\b(binary|two-class)\b", text, re.I):
        return True
    return any(int(_COUNT_WORDS.get(match.group(1).lower(), match.group(1) if match.group(1).isdigit() else 0))
               not in (0, classes) for match in _STATED_COUNT.finditer(text))


def _short(text: str | None, limit: int = 50) -> str | None:
    return text if text is None or len(text) <= limit else text[:limit] + "..."

