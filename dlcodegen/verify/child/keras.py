"""Stand-ins of Keras: training is intercepted after one synthetic step, compiled models are recorded, and Keras's
data loaders (datasets, folders, images, downloads) get synthetic data when the project's data is missing.

The stand-ins that replace methods (`Model.fit`, `ImageDataGenerator.flow_from_directory`, ...) are closures over the
run: a patched method must stay a plain function to bind `self`, so the run cannot be bound as an argument.
"""

from __future__ import annotations

import importlib
import os

from dlcodegen.verify.child.files import (ORIGINAL_LISTDIR, is_phantom, missing, patch_keras_get_file,
                                          reads_missing_file, short)
from dlcodegen.verify.child.rebind import replace_everywhere
from dlcodegen.verify.child.state import Run, StopAfterTrainStep
from dlcodegen.verify.child.synthetic import synthetic_image_folder, synthetic_pil
from dlcodegen.verify.child.training import intercepted_training

_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
             "california_housing")


def patch_keras(run: Run) -> None:
    import keras  # (the whole public API, tf.keras's included, is loaded by this)

    keras.utils.set_random_seed(0)  # the same weights, batches and verdict on every run of the same project
    _patch_model(run)
    _patch_optimizer(run)
    if run.job.network_blocked:
        patch_keras_get_file(run)
    _patch_datasets(run)
    _patch_directory_datasets(run)
    _patch_load_img(run)
    _patch_image_data_generator(run)


def _patch_model(run: Run) -> None:
    """compile records the model; fit and train_on_batch from the project run the synthetic step and stop it;
    load_weights skips the weights that could not be downloaded."""
    from keras.src.models.model import Model

    original_compile, original_load_weights = Model.compile, Model.load_weights
    original_train_on_batch = run.original_train_on_batch = Model.train_on_batch

    def compile(self, *args, **kwargs):
        result = original_compile(self, *args, **kwargs)
        run.model_built(self)
        return result

    def fit(self, *args, **kwargs):
        intercepted_training(run, self, "fit", args, kwargs)

    def train_on_batch(self, *args, **kwargs):
        if not run.from_project():
            return original_train_on_batch(self, *args, **kwargs)
        intercepted_training(run, self, "train_on_batch", args, kwargs)

    def load_weights(self, filepath, *args, **kwargs):
        if is_phantom(filepath, run.phantom_files):
            run.note("weights that could not be downloaded were not loaded (random initial weights)")
            return None
        return original_load_weights(self, filepath, *args, **kwargs)

    Model.compile, Model.fit, Model.train_on_batch, Model.load_weights = compile, fit, train_on_batch, load_weights


def _patch_optimizer(run: Run) -> None:
    """A custom training loop stops after its first `optimizer.apply_gradients`."""
    from keras.src.optimizers.base_optimizer import BaseOptimizer

    original_apply = BaseOptimizer.apply_gradients

    def apply_gradients(self, *args, **kwargs):
        result = original_apply(self, *args, **kwargs)
        if run.from_project() and not run.train_done:
            run.train_done = True
            run.note("custom training loop: stopped after its first optimizer.apply_gradients()")
            raise StopAfterTrainStep()
        return result

    BaseOptimizer.apply_gradients = apply_gradients


def _synthetic_dataset(run: Run, name: str):
    """`keras.datasets.<name>.load_data`: random arrays of the real shapes (128 train / 32 test rows)."""
    import numpy as np

    rng = np.random.default_rng(0)
    train, test = 128, 32

    def images(count, shape, classes, label_shape=()):
        x = rng.integers(0, 256, size=(count, *shape), dtype=np.uint8)
        y = rng.integers(0, classes, size=(count, *label_shape)).astype(np.uint8 if classes <= 255 else np.int64)
        return x, y

    def sequences(count, classes, num_words):
        x = np.empty(count, dtype=object)
        for i in range(count):
            x[i] = [1] + list(rng.integers(2, max(num_words, 3), size=int(rng.integers(20, 80))))
        return x, rng.integers(0, classes, size=count).astype(np.int64)

    def load_data(*args, **kwargs):
        run.note(f"keras.datasets.{name}.load_data() -> synthetic arrays of the same shapes "
                 f"({train} train / {test} test rows; no download)")
        if name in ("mnist", "fashion_mnist"):
            return images(train, (28, 28), 10), images(test, (28, 28), 10)
        if name == "cifar10":
            return images(train, (32, 32, 3), 10, (1,)), images(test, (32, 32, 3), 10, (1,))
        if name == "cifar100":
            classes = 20 if kwargs.get("label_mode", args[0] if args else "fine") == "coarse" else 100
            return images(train, (32, 32, 3), classes, (1,)), images(test, (32, 32, 3), classes, (1,))
        if name in ("imdb", "reuters"):
            num_words = kwargs.get("num_words") or 1000
            classes = 2 if name == "imdb" else 46
            return sequences(train, classes, num_words), sequences(test, classes, num_words)
        features = 13 if name == "boston_housing" else 8
        return ((rng.normal(size=(train, features)), rng.normal(size=train)),
                (rng.normal(size=(test, features)), rng.normal(size=test)))

    return load_data


def _patch_datasets(run: Run) -> None:
    for dataset in _DATASETS:
        try:
            module = importlib.import_module(f"keras.src.datasets.{dataset}")
        except ImportError:
            continue
        replace_everywhere(run, module.load_data, _synthetic_dataset(run, dataset))


def _from_synthetic_directory(run: Run, original, name: str, kind: str):
    """`image_dataset_from_directory` / `text_dataset_from_directory` over a synthetic folder of `kind` ("images"
    or "texts") when the folder is missing."""
    def from_directory(directory, *args, **kwargs):
        if missing(directory) and run.from_project():
            run.note(f"{name}({short(directory)!r}) -> a synthetic folder of 2 classes x 4 {kind}")
            directory = synthetic_image_folder(run, kind, kwargs.get("class_names"))
            if kwargs.get("validation_split"):
                kwargs["validation_split"] = 0.25
        return original(directory, *args, **kwargs)

    return from_directory


def _patch_directory_datasets(run: Run) -> None:
    from keras.src.utils import image_dataset_utils

    original_image_ds = image_dataset_utils.image_dataset_from_directory
    replace_everywhere(run, original_image_ds, _from_synthetic_directory(run, original_image_ds,
                                                                         "image_dataset_from_directory", "images"))
    try:
        from keras.src.utils import text_dataset_utils
    except ImportError:
        return
    original_text_ds = text_dataset_utils.text_dataset_from_directory
    replace_everywhere(run, original_text_ds, _from_synthetic_directory(run, original_text_ds,
                                                                        "text_dataset_from_directory", "texts"))


def _patch_load_img(run: Run) -> None:
    from keras.src.utils import image_utils

    original_load_img = image_utils.load_img

    def load_img(path, *args, **kwargs):
        if reads_missing_file(run, path):
            run.note(f"keras load_img of missing files -> synthetic images (e.g. {short(path)!r})")
            size = kwargs.get("target_size") or (args[2] if len(args) > 2 else None) or (64, 64)
            mode = kwargs.get("color_mode") or (args[1] if len(args) > 1 else "rgb")
            height, width = size
            return synthetic_pil((width, height), {"grayscale": "L", "rgba": "RGBA"}.get(mode, "RGB"))
        return original_load_img(path, *args, **kwargs)

    replace_everywhere(run, original_load_img, load_img)


def _patch_image_data_generator(run: Run) -> None:
    try:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator
    except ImportError:
        return
    original_flow_dir = ImageDataGenerator.flow_from_directory
    original_flow_df = ImageDataGenerator.flow_from_dataframe

    def flow_from_directory(self, directory, *args, **kwargs):
        if missing(directory) and run.from_project():
            classes = kwargs.get("classes")
            run.note(f"flow_from_directory({short(directory)!r}) -> a synthetic folder of "
                     f"{len(classes) if classes else 2} classes x 4 images")
            directory = synthetic_image_folder(run, "images", classes)
        return original_flow_dir(self, directory, *args, **kwargs)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class", *args, **kwargs):
        if run.from_project():
            try:
                files = [os.path.join(directory or "", str(name)) for name in dataframe[x_col][:8]]
            except Exception:
                files = []
            if not files or all(missing(name) for name in files):
                dataframe, directory = _synthetic_flow_frame(run, x_col, y_col, kwargs.get("class_mode",
                                                                                           "categorical"))
                run.note("flow_from_dataframe over missing image files -> a synthetic frame of 4 images")
        return original_flow_df(self, dataframe, directory, x_col, y_col, *args, **kwargs)

    ImageDataGenerator.flow_from_directory = flow_from_directory
    ImageDataGenerator.flow_from_dataframe = flow_from_dataframe


def _synthetic_flow_frame(run: Run, x_col, y_col, class_mode):
    """(frame, folder) for flow_from_dataframe: the 4 images of a synthetic class folder, with targets that suit
    the class mode."""
    import pandas as pd

    folder = os.path.join(synthetic_image_folder(run, "images"), "class_0")
    names = sorted(ORIGINAL_LISTDIR(folder))
    frame = {x_col: names}
    if class_mode in ("categorical", "binary", "sparse"):
        targets = [("class_0", "class_1")[i % 2] for i in range(len(names))]
    else:
        targets = [float(i % 2) for i in range(len(names))]
    for column in ([y_col] if isinstance(y_col, str) else list(y_col or [])):
        frame[column] = targets
    return pd.DataFrame(frame), folder
