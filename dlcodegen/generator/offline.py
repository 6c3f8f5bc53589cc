"""The offline generator: one coherent Keras project per task family, from the `TaskSpec` and the plan, with no LLM.

Each family has its own template (`templates/families/<template>.py.j2`, all extending `project_base.py.j2`), in
one fixed readable shape: settings at the top, `load_data()` for the input kind, `build_model()` with the planned
layers where they fit the family's body and always a head and a loss that fit the output, `train()`,
`plot_history()`, `evaluate()`, `predict()` and `main()` under `if __name__ == "__main__":`. Data names (paths,
columns) come from the requirement and the attributes when they name them, from the retrieved sample only when it
is of the same family, else a clear placeholder. Nothing touches the network at import or build time.

The contract every project keeps: `build_model()` returns the Keras model that maps the task's input to its
output (for generative tasks the generator, for encoder-decoders the training model), compiled unless the project
trains with its own `train_step` (its docstring then says so).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from dlcodegen.core.errors import InputError
from dlcodegen.core.plan import Plan, normalize_label
from dlcodegen.core.task import FAMILIES, TaskSpec
from dlcodegen.planning.layers import APPLICATIONS, INPUT_LAYERS, LayerCall, resolve_layer

# The template each family is written with; a family missing here is not written yet (one line says so).
FAMILY_TEMPLATES = {
    "image_classification": "image_classification", "image_regression": "image_classification",
    "image_segmentation": "image_segmentation", "object_detection": "object_detection",
    "image_to_image": "image_to_image", "image_generation": "image_generation",
    "image_captioning": "image_captioning", "image_similarity": "image_similarity",
    "text_classification": "text_classification", "token_classification": "token_classification",
    "translation": "translation", "question_answering": "question_answering", "text_generation": "text_generation",
    "tabular_classification": "tabular", "tabular_regression": "tabular", "recommendation": "recommendation",
    "time_series_forecasting": "time_series_forecasting", "time_series_classification": "time_series_classification",
    "anomaly_detection": "anomaly_detection", "audio_classification": "audio_classification",
    "speech_recognition": "speech_recognition", "video_classification": "video_classification",
    "multimodal_classification": "multimodal_classification",
}

_OPTIMIZERS = {"adam": "Adam", "sgd": "SGD", "rmsprop": "RMSprop", "adamw": "AdamW", "adagrad": "Adagrad",
               "adadelta": "Adadelta", "nadam": "Nadam", "adamax": "Adamax", "ftrl": "Ftrl", "lion": "Lion"}
# Keras names of the losses a plan may give, by output kind; the first of each kind is the default.
_KIND_LOSSES = {
    "binary": ("binary_crossentropy", "binary_focal_crossentropy", "hinge"),
    "multiclass": ("categorical_crossentropy", "sparse_categorical_crossentropy", "categorical_focal_crossentropy",
                   "kl_divergence"),
    "multilabel": ("binary_crossentropy", "binary_focal_crossentropy"),
    "regression": ("mean_squared_error", "mean_absolute_error", "huber", "log_cosh",
                   "mean_squared_logarithmic_error", "mean_absolute_percentage_error", "poisson"),
    "mask": ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy", "dice"),
    "image": ("mean_squared_error", "mean_absolute_error", "binary_crossentropy", "huber"),
    "tags": ("sparse_categorical_crossentropy",),
    "text": ("sparse_categorical_crossentropy",),
    "reconstruction": ("mean_squared_error", "mean_absolute_error", "huber"),
    "ranking": ("mean_squared_error", "binary_crossentropy", "mean_absolute_error", "huber"),
}
_LOSS_KEYS = {re.sub(r"[^a-z]", "", name): name for names in _KIND_LOSSES.values() for name in names}
_LOSS_KEYS.update({"mse": "mean_squared_error", "mae": "mean_absolute_error", "huberloss": "huber",
                   "crossentropy": "categorical_crossentropy", "bce": "binary_crossentropy",
                   "kldivergence": "kl_divergence", "logcosh": "log_cosh", "diceloss": "dice",
                   "focal": "binary_focal_crossentropy", "focalloss": "binary_focal_crossentropy"})
_METRICS = {"accuracy": "accuracy", "auc": "AUC", "precision": "Precision", "recall": "Recall",
            "meanabsoluteerror": "mae", "mae": "mae", "meansquarederror": "mse", "mse": "mse",
            "rootmeansquarederror": "RootMeanSquaredError", "rmse": "RootMeanSquaredError",
            "meanabsolutepercentageerror": "mape", "binaryaccuracy": "binary_accuracy",
            "categoricalaccuracy": "categorical_accuracy", "sparsecategoricalaccuracy": "sparse_categorical_accuracy",
            "topkcategoricalaccuracy": "top_k_categorical_accuracy"}
_CLASSIFICATION_METRICS = {"accuracy", "AUC", "Precision", "Recall", "binary_accuracy", "categorical_accuracy",
                           "sparse_categorical_accuracy", "top_k_categorical_accuracy"}
_REGRESSION_METRICS = {"mae", "mse", "RootMeanSquaredError", "mape"}
_DEFAULT_METRICS = {"binary": ["accuracy", "AUC"], "multiclass": ["accuracy"], "multilabel": ["binary_accuracy", "AUC"],
                    "regression": ["mae"], "mask": ["accuracy"], "image": ["mae"], "tags": ["accuracy"],
                    "text": ["accuracy"], "reconstruction": ["mae"], "ranking": ["mae"], "boxes": [],
                    "embedding": []}

# Defaults for facts the task does not state, by family (said in the project's notes when used).
_IMAGE_SIZE = {"image_generation": (28, 28, 1), "image_to_image": (64, 64, 3), "image_segmentation": (128, 128, 3),
               "object_detection": (128, 128, 3), "image_captioning": (128, 128, 3), "image_similarity": (64, 64, 3),
               "video_classification": (64, 64, 3)}
_DEFAULT_IMAGE = (128, 128, 3)


def _stated(fact, default, notes: list[str] | None = None, name: str = ""):
    if fact.stated:
        return fact.value
    if notes is not None and name:
        notes.append(f"{name} not stated: {default} (the family's default)")
    return default


# ---- the planned layers that fit the family's body ------------------------------------------------------------

_RANK_KEEPING = {"Dropout", "BatchNormalization", "Activation", "LeakyReLU", "ReLU", "PReLU", "ELU", "GaussianNoise",
                 "GaussianDropout", "LayerNormalization", "GroupNormalization", "UnitNormalization", "AlphaDropout",
                 "ActivityRegularization", "Softmax"}
_NEEDS_RANK = {  # layer -> (rank it takes, rank it gives), ranks counting the batch dimension
    "Conv2D": (4, 4), "SeparableConv2D": (4, 4), "DepthwiseConv2D": (4, 4), "MaxPooling2D": (4, 4),
    "MaxPool2D": (4, 4), "AveragePooling2D": (4, 4), "ZeroPadding2D": (4, 4), "SpatialDropout2D": (4, 4),
    "GlobalAveragePooling2D": (4, 2), "GlobalAvgPool2D": (4, 2), "GlobalMaxPooling2D": (4, 2),
    "GlobalMaxPool2D": (4, 2), "Conv1D": (3, 3), "SeparableConv1D": (3, 3), "MaxPooling1D": (3, 3),
    "MaxPool1D": (3, 3), "AveragePooling1D": (3, 3), "SpatialDropout1D": (3, 3), "GlobalAveragePooling1D": (3, 2),
    "GlobalMaxPooling1D": (3, 2), "GlobalMaxPool1D": (3, 2), "GlobalAvgPool1D": (3, 2), "Dense": (0, 0),
    "Conv3D": (5, 5), "MaxPooling3D": (5, 5), "GlobalAveragePooling3D": (5, 2),
}
_RECURRENT = {"LSTM", "GRU", "SimpleRNN", "Bidirectional"}
_INPUT_SIDE = {"Embedding", "TextVectorization", "Rescaling", "Normalization"}  # the templates write these themselves
_CLOSING = {4: "GlobalAveragePooling2D", 3: "GlobalAveragePooling1D", 5: "GlobalAveragePooling3D"}


def _returns_sequences(call: LayerCall) -> LayerCall:
    if "return_sequences" in call.arguments:
        return call
    if call.name == "Bidirectional":
        inner = re.sub(r"\)\s*$", ", return_sequences=True)", call.arguments, count=1) \
            if call.arguments.rstrip().endswith(")") else call.arguments
        return LayerCall(call.name, inner.replace("(, ", "("), call.source)
    separator = ", " if call.arguments.strip() else ""
    return LayerCall(call.name, f"{call.arguments}{separator}return_sequences=True", call.source)


def _hidden_dense(call: LayerCall) -> LayerCall:
    """A planned hidden Dense layer gets a ReLU when the plan names no activation."""
    if "activation" in call.arguments:
        return call
    return LayerCall(call.name, f"{call.arguments}, activation='relu'", call.source)


def _is_head(call: LayerCall, last: bool) -> bool:
    return last and call.name == "Dense" and (bool(re.search(r"softmax|sigmoid|NUM_CLASSES", call.arguments))
                                               or re.match(r"\s*(1|2)\b", call.arguments) is not None)


def fit_body(layers: list[LayerCall], rank: int, end_rank: int | None = None) -> tuple[list[LayerCall], list[str]]:
    """The planned layers that fit a body taking tensors of `rank` (batch included) and ending at `end_rank`
    (None: wherever they end): layers of the wrong rank and the plan's own head (its last Dense) are left out,
    recurrent layers followed by more sequence layers return sequences, and a global pooling closes the body
    when it must end lower. Returns the layers and one note per change."""
    body: list[LayerCall] = []
    notes: list[str] = []
    skipped = INPUT_LAYERS | _INPUT_SIDE | APPLICATIONS
    candidates = [call for call in layers if call.name not in skipped]
    if candidates and _is_head(candidates[-1], True):
        notes.append(f"the plan's last layer {candidates[-1].source!r} is replaced by the task's head")
        candidates = candidates[:-1]
    current = rank
    for call in candidates:
        if call.name in _RANK_KEEPING:
            body.append(call)
            continue
        if call.name in _RECURRENT:
            previous = next((layer for layer in reversed(body) if layer.name not in _RANK_KEEPING), None)
            if current == 2 and previous is not None and previous.name in _RECURRENT:
                index = body.index(previous)  # a stacked recurrent layer: the one before returns sequences
                body[index] = _returns_sequences(previous)
                current = 3
            if current != 3:
                notes.append(f"plan layer {call.source!r} needs a sequence here and is left out")
                continue
            body.append(call)
            current = 3 if "return_sequences=True" in call.arguments else 2
            continue
        if call.name == "Flatten":
            if current > 2:
                body.append(call)
                current = 2
            continue
        takes = _NEEDS_RANK.get(call.name)
        if takes is None:
            notes.append(f"plan layer {call.source!r} does not fit this family's body and is left out")
            continue
        wanted, gives = takes
        if wanted == 0:  # Dense: a hidden layer of the head's vector (the body is pooled first)
            if end_rank == 2 and current > 2 and current in _CLOSING:
                body.append(LayerCall(_CLOSING[current], "", "(pools the body before the dense layers)"))
                current = 2
            body.append(_hidden_dense(call))
            continue
        if wanted != current:
            notes.append(f"plan layer {call.source!r} does not fit after the layers before it and is left out")
            continue
        body.append(call)
        current = gives
    if body and body[-1].name in _RECURRENT and end_rank == 3:
        body[-1] = _returns_sequences(body[-1])
        current = 3
    if end_rank is not None and current > end_rank:
        closing = _CLOSING.get(current)
        if closing and end_rank == 2:
            body.append(LayerCall(closing, "", "(closes the body)"))
    return body, notes


# ---- the rest of the project's settings ------------------------------------------------------------------------

def _loss(plan: Plan, output_kind: str, notes: list[str]) -> str:
    allowed = _KIND_LOSSES.get(output_kind)
    if not allowed:
        return ""
    planned = _LOSS_KEYS.get(re.sub(r"[^a-z]", "", (plan.loss_function or "").lower()))
    if planned in allowed:
        return planned
    if plan.loss_function:
        notes.append(f"the plan's loss {plan.loss_function!r} does not fit a {output_kind} output: {allowed[0]}")
    return allowed[0]


def _metrics(plan: Plan, output_kind: str, sparse: bool = False) -> list[str]:
    planned = [_METRICS[key] for key in (normalize_label(plan.evaluation_metric) or "").split(",") if key in _METRICS]
    fitting = _CLASSIFICATION_METRICS if output_kind in ("binary", "multiclass", "multilabel", "mask", "tags", "text") \
        else _REGRESSION_METRICS
    kept = [name for name in dict.fromkeys(planned) if name in fitting]
    if sparse:  # Keras 3's AUC, Precision and Recall need one-hot or 0/1 targets
        kept = [name for name in kept if name not in ("AUC", "Precision", "Recall")]
    return kept or list(_DEFAULT_METRICS.get(output_kind, []))


def _data_names(code: str) -> tuple[str | None, str | None, str | None]:
    """A sample's data location and its target and text columns, generalised (Kaggle paths -> `data/...`)."""
    literals = re.findall(r"""["']((?:/kaggle/input/|\.\./input/|\./|/)?[\w\-./ ]+?\.(?:csv|tsv|json|txt|parquet)|"""
                          r"""(?:/kaggle/input/|\.\./input/)[\w\-./ ]+)["']""", code)
    path = None
    if literals:
        parts = [part for part in re.sub(r"^(?:/kaggle/input/|\.\./input/|\./|/)", "", literals[0]).split("/") if part]
        path = "data/" + "/".join(parts[:1] + parts[-1:] if len(parts) > 1 else parts)
    targets = Counter(re.findall(r"""\by\w*\s*=\s*\w+\[\s*['"]([\w ]+)['"]\s*\]""", code))
    targets.update(re.findall(r"""\.drop\(\s*\[?\s*['"]([\w ]+)['"]""", code))
    texts = Counter(re.findall(r"""\bX\w*\s*=\s*\w+\[\s*['"]([\w ]+)['"]\s*\]""", code))
    return path, (targets.most_common(1)[0][0] if targets else None), (texts.most_common(1)[0][0] if texts else None)


_NAMED_FILE = re.compile(r"\b([\w\-./]+\.(?:csv|tsv|json|jsonl|txt|parquet|npz))\b")
_NAMED_COLUMNS = re.compile(r"\bcolumns?\s*(?:named|called)?\s*[`'\"]?(\w+)[`'\"]?(?:\s*(?:,|and)\s*[`'\"]?(\w+)"
                            r"[`'\"]?)?", re.I)
_TEXT_NAME = re.compile(r"text|review|sentence|comment|tweet|content|message|title|description|body|question", re.I)


def _stated_names(words: str) -> tuple[str | None, str | None]:
    """A data file and a text column the requirement or the attributes name."""
    path = _NAMED_FILE.search(words)
    text = None
    for match in _NAMED_COLUMNS.finditer(words):
        for name in match.groups():
            if name and _TEXT_NAME.search(name):
                text = name
    return (path.group(1) if path else None), text


@dataclass
class ProjectSpec:
    """Everything a family's template is written from, resolved once from the task, the plan and the sample."""

    requirement: str
    plan: Plan
    task: TaskSpec
    family: str             # a key of FAMILIES (or "anomaly_detection")
    template: str           # templates/families/<template>.py.j2
    output_kind: str
    # the input, stated or the family's default
    height: int = 128
    width: int = 128
    channels: int = 3
    sequence_length: int = 24   # time steps of a window, or tokens of a text
    features: int = 1           # values per time step, or tabular columns
    vocab_size: int = 20000
    sample_rate: int = 16000
    clip_seconds: float = 1.0
    # the output
    num_classes: int = 2
    class_names: list[str] = field(default_factory=list)
    targets: int = 1
    horizon: int = 1
    # the plan's choices, fitted to the task
    layers: list[LayerCall] = field(default_factory=list)
    backbone: str | None = None  # a keras.applications builder the plan names
    optimizer: str = "Adam"
    learning_rate: float = 0.001  # DEFAULT_LEARNING_RATE
    loss: str = ""
    metrics: list[str] = field(default_factory=list)
    batch_size: int = 32
    epochs: int = 10
    # data names
    data_path: str = "data"
    target_column: str = "label"
    text_column: str = "text"
    sample_key: str | None = None
    notes: list[str] = field(default_factory=list)

    def body(self, rank: int, end_rank: int | None = None) -> list[LayerCall]:
        """The planned layers that fit a body starting at `rank` (see `fit_body`); its notes join the project's."""
        layers, notes = fit_body(self.layers, rank, end_rank)
        self.notes.extend(note for note in notes if note not in self.notes)
        return layers

    @property
    def samples(self) -> int:
        return int(self.sample_rate * self.clip_seconds)

    @property
    def model_size(self) -> tuple[int, int]:
        """(height, width) the network works at: the stated size, scaled down to MAX_MODEL_SIDE on its long side
        (a 1024x1024 image through a CNN needs gigabytes per batch on a CPU)."""
        scale = min(1.0, MAX_MODEL_SIDE / max(self.height, self.width))
        return max(32, round(self.height * scale)), max(32, round(self.width * scale))


def _family(spec: TaskSpec) -> str:
    return spec.task.value or "image_classification"


def _output_kind(spec: TaskSpec, family: str) -> str:
    kind = spec.output.kind.value or (FAMILIES[family].output if family in FAMILIES else "multiclass")
    classes = spec.output.classes.value
    if kind == "multiclass" and classes == 2:
        return "binary"
    return kind


def _input_facts(spec: TaskSpec, family: str, notes: list[str]) -> dict:
    facts = spec.input
    height, width, channels = _IMAGE_SIZE.get(family, _DEFAULT_IMAGE)
    image_input = FAMILIES[family].input in ("image", "noise", "image_text", "video") if family in FAMILIES else False
    found = {"height": _stated(facts.height, height, notes if image_input else None, "image height"),
             "width": _stated(facts.width, facts.height.value or width),
             "channels": _stated(facts.channels, channels, notes if image_input else None, "channels")}
    if family in ("time_series_forecasting", "time_series_classification", "anomaly_detection"):
        found["sequence_length"] = _stated(facts.sequence_length, 24 if family == "time_series_forecasting" else 128,
                                           notes, "window length")
        found["features"] = _stated(facts.features, 1, notes, "values per time step")
    elif family == "video_classification":
        found["sequence_length"] = _stated(facts.sequence_length, 16, notes, "frames per clip")
    elif family in ("tabular_classification", "tabular_regression", "recommendation"):
        found["features"] = _stated(facts.features, 16 if family != "recommendation" else 1,
                                    notes if family != "recommendation" else None, "number of features")
    elif family in ("text_classification", "token_classification", "translation", "question_answering",
                    "text_generation", "image_captioning", "multimodal_classification"):
        found["sequence_length"] = _stated(facts.sequence_length, 200 if family == "text_classification" else 64)
        if family == "multimodal_classification":
            found["height"] = _stated(facts.height, 64)
            found["width"] = _stated(facts.width, facts.height.value or 64)
        found["vocab_size"] = _stated(facts.vocabulary, 20000)
    found["sample_rate"] = _stated(facts.sample_rate, 16000)
    found["clip_seconds"] = _stated(facts.clip_seconds, 1.0)
    return found


def _output_facts(spec: TaskSpec, kind: str, family: str, notes: list[str]) -> dict:
    output = spec.output
    default_classes = {"binary": 2, "mask": 2, "tags": 9, "boxes": 3}.get(kind, 10)
    classes = output.classes.value
    if classes is None:
        classes = default_classes
        if kind in ("multiclass", "multilabel", "mask", "tags", "boxes"):
            notes.append(f"number of classes not stated: {classes} (set NUM_CLASSES to your data's)")
    names = [str(name) for name in output.class_names.value] if output.class_names.stated else []
    return {"num_classes": int(classes), "class_names": names, "targets": int(output.targets.value or 1),
            "horizon": int(output.horizon.value or 1)}


def _plan_layers(plan: Plan, notes: list[str]) -> tuple[list[LayerCall], str | None]:
    resolved = [(text, resolve_layer(text)) for text in plan.layers or []]
    notes += [f"plan layer {text!r} has no Keras equivalent here: left out" for text, call in resolved if call is None]
    calls = [call for _, call in resolved if call is not None]
    backbone = next((call.name for call in calls if call.name in APPLICATIONS), None)
    return calls, backbone


def _data_location(requirement: str, attributes: str, sample, same_family: bool, family: str,
                   task: TaskSpec) -> dict:
    path, text = _stated_names(f"{requirement}\n{attributes}")
    names: dict = {}
    if task.output.target_column.stated:
        names["target_column"] = task.output.target_column.value
    if path:
        names["data_path"] = path if "/" in path else f"data/{path}"
    if text:
        names["text_column"] = text
    if sample is not None and same_family:
        sample_path, sample_target, sample_text = _data_names(sample.code)
        names.setdefault("data_path", sample_path)
        if sample_target:
            names.setdefault("target_column", sample_target)
        if sample_text:
            names.setdefault("text_column", sample_text)
    names = {key: value for key, value in names.items() if value}
    names.setdefault("data_path", _PLACEHOLDER_PATHS.get(FAMILIES[family].input if family in FAMILIES else "",
                                                         "data/train.csv"))
    return names


DEFAULT_LEARNING_RATE = 0.001
MIN_SCRATCH_LEARNING_RATE = 1e-4
MAX_MODEL_SIDE = 256  # pixels on the long side of the image a model works at (larger stated images are resized)
_PLACEHOLDER_PATHS = {"image": "data/images", "noise": "data/images", "image_text": "data/images",
                      "audio": "data/audio", "text": "data/train.csv", "tabular": "data/train.csv",
                      "time_series": "data/series.csv", "volume": "data/volumes"}


def _learning_rate(plan: Plan, notes: list[str]) -> float:
    """The plan's learning rate, unless it is a fine-tuning rate for pretrained weights (below
    MIN_SCRATCH_LEARNING_RATE): offline models train from scratch, where such a rate barely moves the weights."""
    rate = plan.learning_rate
    if not rate or not 0 < rate < 1:
        return DEFAULT_LEARNING_RATE
    if rate < MIN_SCRATCH_LEARNING_RATE:
        notes.append(f"the plan's learning rate {rate:g} suits fine-tuning pretrained weights; the model trains from "
                     f"scratch here, so {DEFAULT_LEARNING_RATE:g}")
        return DEFAULT_LEARNING_RATE
    return float(rate)


def project_spec(requirement: str, plan: Plan, sample=None, task: TaskSpec | None = None,
                 attributes: str = "") -> ProjectSpec:
    """The resolved spec; the task is read from the requirement when not given."""
    if task is None:
        from dlcodegen.planning.task_reader import read_task

        task = read_task(requirement, attributes)
    notes: list[str] = []
    family = _family(task)
    template = FAMILY_TEMPLATES.get(family)
    if template is None:
        raise not_written(family)
    kind = _output_kind(task, family)
    layers, backbone = _plan_layers(plan, notes)
    same_family = sample is not None and _sample_family(sample) == family
    loss = "" if family == "speech_recognition" else _loss(plan, kind, notes)  # CTC: the template's own loss
    return ProjectSpec(
        requirement=requirement, plan=plan, task=task, family=family, template=template, output_kind=kind,
        **_input_facts(task, family, notes), **_output_facts(task, kind, family, notes), layers=layers,
        backbone=backbone, optimizer=_OPTIMIZERS.get(normalize_label(plan.optimizer) or "", "Adam"),
        learning_rate=_learning_rate(plan, notes),
        loss=loss, metrics=_metrics(plan, kind, loss.startswith("sparse")) if loss else [],
        batch_size=int(plan.batch_size) if plan.batch_size and 1 <= plan.batch_size <= 4096 else 32,
        epochs=int(plan.epochs) if plan.epochs and 1 <= plan.epochs <= 1000 else 10,
        **_data_location(requirement, attributes, sample, same_family, family, task),
        sample_key=sample.key if same_family else None, notes=notes)


def not_written(family: str) -> InputError:
    """The one line for a family the offline generator does not write (yet)."""
    title = FAMILIES[family].title if family in FAMILIES else family
    return InputError(f"the offline generator does not write {title} projects yet: configure an LLM (--model) to "
                      f"generate this one")


def _sample_family(sample) -> str | None:
    from dlcodegen.generator.retrieve import sample_family

    return sample_family(sample)


def render_project(spec: ProjectSpec) -> str:
    """The family's template rendered. Docstrings keep their quotes on lines of their own: the paper's scorer
    (`normalize="dlcodegen"`) toggles a skipped block at every line that starts with triple quotes, so a one-line
    docstring would hide the code after it from CodeBLEU."""
    import jinja2

    environment = jinja2.Environment(loader=jinja2.PackageLoader("dlcodegen.generator", "templates"),
                                     undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                     keep_trailing_newline=True)
    try:
        template = environment.get_template(f"families/{spec.template}.py.j2")
    except jinja2.TemplateNotFound:
        raise not_written(spec.family) from None
    return template.render(spec=spec, plan=spec.plan)
