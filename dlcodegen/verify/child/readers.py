"""Stand-ins of the data readers of pandas, NumPy, PIL and OpenCV: a missing file read from the project's own file
gives synthetic data (a frame with guessed columns, an array or .npz archive named by its file, an image)."""

from __future__ import annotations

import os

from dlcodegen.verify.child.describe import one_line
from dlcodegen.verify.child.files import missing, reads_missing_file, short
from dlcodegen.verify.child.state import Run
from dlcodegen.verify.child.synthetic import (SyntheticNpz, synthetic_array, synthetic_frame, synthetic_image_array,
                                              synthetic_pil)

_PANDAS_READERS = ("read_csv", "read_table", "read_excel", "read_json", "read_parquet", "read_feather", "read_pickle")


def _wrap_reader(run: Run, module, name: str, label: str) -> None:
    original = getattr(module, name, None)
    if original is None:
        return

    def reader(path_or_buffer=None, *args, **kwargs):
        if (isinstance(path_or_buffer, (str, os.PathLike)) and run.from_project()
                and (str(path_or_buffer).startswith(("http://", "https://")) or missing(path_or_buffer))):
            try:
                columns = kwargs.get("names") or kwargs.get("usecols")
                frame = synthetic_frame(run.guess,
                                        [str(c) for c in columns] if isinstance(columns, (list, tuple)) else None)
            except Exception:
                return original(path_or_buffer, *args, **kwargs)
            run.note(f"{label}.{name}({short(path_or_buffer)!r}) -> synthetic frame ({len(frame)} rows, columns: "
                     f"{one_line(run, ', '.join(map(str, frame.columns)), 160)})")
            return frame
        return original(path_or_buffer, *args, **kwargs)

    reader.__wrapped__ = original  # what inspect.signature and the like read
    setattr(module, name, reader)


def patch_pandas(run: Run, pandas) -> None:
    for name in _PANDAS_READERS:
        _wrap_reader(run, pandas, name, "pandas")


def patch_numpy(run: Run, numpy) -> None:
    original = numpy.load

    def load(file, *args, **kwargs):
        if reads_missing_file(run, file):
            text = str(file)
            run.note(f"numpy.load({short(text)!r}) of a missing file -> synthetic array")
            if text.lower().endswith(".npz"):
                return SyntheticNpz()
            return synthetic_array(os.path.basename(text))
        return original(file, *args, **kwargs)

    numpy.load = load


def patch_pil(run: Run, image_module) -> None:
    original = image_module.open

    def open_image(fp, *args, **kwargs):
        if reads_missing_file(run, fp):
            run.note(f"PIL.Image.open of missing files -> synthetic 64x64 RGB images (e.g. {short(fp)!r})")
            return synthetic_pil()
        return original(fp, *args, **kwargs)

    image_module.open = open_image


def patch_cv2(run: Run, cv2) -> None:
    original = getattr(cv2, "imread", None)
    if original is None:
        return

    def imread(filename, flags=1, *args, **kwargs):
        if reads_missing_file(run, filename):
            run.note(f"cv2.imread of missing files -> synthetic 64x64 images (e.g. {short(filename)!r})")
            return synthetic_image_array(channels=None if flags == 0 else 3)
        return original(filename, flags, *args, **kwargs)

    cv2.imread = imread
