"""Synthetic data for the stand-ins: data frames with guessed columns, arrays, .npz archives, images and real
folders of class sub-folders."""

from __future__ import annotations

import io
import os
import re

from dlcodegen.verify.child.state import DataGuess, Run

ROWS = 128           # rows of a synthetic data frame (time-series windows of up to ~100 steps still get samples)

_TEXT_COLUMN = re.compile(
    r"text|review|sentence|comment|tweet|content|message|title|description|question|answer|abstract|body|headline|"
    r"summary|caption|document|lyric|sms|email|post|query|utterance|phrase|premise|hypothesis|context|transcript|"
    r"word|token|translation|src|tgt|prompt|article|story|news|feedback|opinion|remark|english|french|german|"
    r"spanish|tamil|hindi|chinese|japanese|italian|portuguese|russian|arabic|turkish|korean|dutch|polish|urdu|"
    r"bengali|persian|vietnamese|indonesian|swahili|greek|hebrew|thai|marathi|telugu")
_FILE_COLUMN = re.compile(r"file|path|image|img|photo|picture|filename")
_DATE_COLUMN = re.compile(r"date|timestamp|datetime")
_STRING_COLUMN = re.compile(r"gender|sex|race|city|country|state|region|department|ethnicity|education|marital|"
                            r"occupation|color|colour|brand|name|zip|payer|code")
_LABEL_COLUMN = re.compile(r"label|target|class|category|sentiment|outcome|survived|diagnos|status|result|^is_|"
                           r"^has_|flag|fraud|churn|default|spam|toxic|emotion|genre|species|type|^y$|grade|"
                           r"response|rating|score|stroke|disease|attack|cancer")


def _column_values(guess: DataGuess, name: str, rows: int, rng):
    literals = guess.column_literals.get(name)
    if literals:  # mostly the values the code filters on, so that filters keep rows
        pool = literals + [literals[0]] * (len(literals) + 1) + (["other"] if isinstance(literals[0], str) else [-1])
        return [pool[i % len(pool)] for i in range(rows)]
    lowered = name.lower()
    if _TEXT_COLUMN.search(lowered) or name in guess.text_columns:
        words = ["good", "bad", "data", "model", "great", "poor", "fine", "test", "deep", "learning"]
        return [" ".join(rng.choice(words, size=6)) for _ in range(rows)]
    if _FILE_COLUMN.search(lowered):
        return [f"synthetic_{i}{guess.image_ext}" for i in range(rows)]
    if _DATE_COLUMN.search(lowered):
        return [f"2020-01-{1 + i % 28:02d}" for i in range(rows)]
    if re.search(r"(^|_| )id$", lowered):
        return list(range(rows))
    if _LABEL_COLUMN.search(lowered):
        return [i % 2 for i in range(rows)]
    if _STRING_COLUMN.search(lowered):
        return [("A", "B", "C")[i % 3] for i in range(rows)]
    return rng.normal(size=rows).astype("float32")


def synthetic_frame(guess: DataGuess, columns: list[str] | None = None):
    """A frame of ROWS rows: the given columns, else the guessed ones (label-like last; 4 generic features when
    fewer than 2 others were guessed), each filled with values that suit its name."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    if not columns:
        labels = [name for name in guess.columns if _LABEL_COLUMN.search(name.lower())]
        others = [name for name in guess.columns if name not in labels]
        generic = [f"feature_{i}" for i in range(4)] if len(others) < 2 else []
        columns = generic + others + labels
    return pd.DataFrame({name: _column_values(guess, name, ROWS, rng) for name in dict.fromkeys(columns)})


def synthetic_array(hint: str):
    """An array whose shape suits the name it is loaded under (labels, masks, images, else features)."""
    import numpy as np

    rng = np.random.default_rng(0)
    hint = hint.lower()
    if re.search(r"(^|[_\W])(y|labels?|targets?|classes)($|[_\W])", hint):
        return (np.arange(ROWS) % 2).astype("int64")
    if "mask" in hint:
        return (rng.random((ROWS, 32, 32, 1)) > 0.5).astype("float32")
    if re.search(r"(^|[_\W])(x|images?|imgs?|pics?|scans?|frames?|volumes?)($|[_\W])", hint):
        return rng.random((ROWS, 32, 32, 3)).astype("float32")
    return rng.normal(size=(ROWS, 16)).astype("float32")


class SyntheticNpz(dict):
    """Stand-in of an `np.load`ed .npz archive: any key gives a synthetic array."""

    def __missing__(self, key):
        value = self[key] = synthetic_array(str(key))
        return value

    files = property(lambda self: list(self.keys()) or ["x", "y"])

    def __enter__(self):
        return self

    def __exit__(self, *_exc_info):
        return False

    def close(self) -> None:
        pass


def synthetic_image_array(height: int = 64, width: int = 64, channels: int | None = 3):
    import numpy as np

    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)


def synthetic_pil(size=(64, 64), mode: str = "RGB"):
    from PIL import Image

    width, height = size
    channels = {"L": None, "RGBA": 4}.get(mode, 3)
    array = synthetic_image_array(height, width, channels)
    image = Image.fromarray(array, mode=None)
    return image.convert(mode) if image.mode != mode else image


def synthetic_image_folder(run: Run, kind: str = "images", classes=None) -> str:
    """A real folder of class sub-folders (`classes`, else class_0 and class_1) with four tiny files each (PNG
    images or text), made once per run and class list."""
    names = [str(name) for name in classes] if isinstance(classes, (list, tuple)) and classes else \
        ["class_0", "class_1"]
    suffix = "" if names == ["class_0", "class_1"] else f"-{abs(hash(tuple(names))) % 10**8}"
    root = os.path.join(run.synthetic_root, kind + suffix)
    if os.path.isdir(root):
        return root
    for label, name in enumerate(names[:100]):
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        for index in range(4):
            if kind == "images":
                synthetic_pil((32, 32)).save(os.path.join(folder, f"img_{index}.png"))
            else:
                with io.open(os.path.join(folder, f"doc_{index}.txt"), "w", encoding="utf-8") as handle:  # noqa: UP020
                    handle.write(f"synthetic document {index} of class {label}\n")
    return root
