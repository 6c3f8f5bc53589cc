"""Which stand-ins go with which library, installed once each: for the libraries loaded so far, and again after
every import made from the project's own file (the import stand-in)."""

from __future__ import annotations

import builtins
import functools
import importlib.util
import sys

from dlcodegen.verify.child.describe import one_line
from dlcodegen.verify.child.keras import patch_keras
from dlcodegen.verify.child.plotting import patch_pyplot
from dlcodegen.verify.child.readers import patch_cv2, patch_numpy, patch_pandas, patch_pil
from dlcodegen.verify.child.rebind import rebind_new_modules
from dlcodegen.verify.child.state import Run

ORIGINAL_IMPORT = builtins.__import__
_LIBRARY_PATCHES = (("pandas", patch_pandas), ("numpy", patch_numpy), ("PIL.Image", patch_pil),
                    ("cv2", patch_cv2), ("matplotlib.pyplot", patch_pyplot))


def keras_installed() -> bool:
    return importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is not None


def patch_libraries(run: Run, keras: bool = False) -> None:
    """Install the stand-ins of every library imported so far (each once); `keras`: import Keras first."""
    for name, patch in _LIBRARY_PATCHES:
        if name not in run.patched and name in sys.modules:
            run.patched.add(name)
            try:
                patch(run, sys.modules[name])
            except Exception as error:  # a stand-in must never break the project's import
                run.note(f"could not install the {name} stand-ins: {one_line(run, error, 120)}")
    if "keras" not in run.patched and (keras or "keras" in sys.modules or "tensorflow" in sys.modules):
        run.patched.add("keras")
        try:
            patch_keras(run)
        except Exception as error:
            if keras:
                raise
            run.note(f"could not install the Keras stand-ins (fit is not intercepted): {one_line(run, error, 160)}")
        patch_libraries(run)  # keras imports numpy (and maybe PIL)


def import_standin(run: Run, name, globals=None, locals=None, fromlist=(), level=0):
    """`__import__`: after an import from the project's file, the stand-ins of what it loaded."""
    module = ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
    if globals is not None and globals.get("__file__") == run.filename:
        patch_libraries(run)
        rebind_new_modules(run)
    return module


def install_import_standin(run: Run) -> None:
    """Replace `__import__` with the run bound by `functools.partial` (the import machinery passes no state)."""
    builtins.__import__ = functools.partial(import_standin, run)
