"""Stand-ins of the standard library's file functions, and of Keras's downloads.

Reads of missing paths made from the project's own file get synthetic content: `open` for reading, `os.listdir`,
`os.walk` and `glob` (2 class folders and 4 image files, which then exist for `os.path.exists/isdir/isfile`).
Each stand-in is a module function taking the run first, installed with the run bound by `functools.partial`
(a patched library function cannot be handed arguments; partial adds no Python frame, so `Run.from_project` still
finds the caller two frames up).
"""

from __future__ import annotations

import builtins
import functools
import glob as glob_module
import io
import os
import re

from dlcodegen.verify.child.rebind import replace_everywhere
from dlcodegen.verify.child.state import Run
from dlcodegen.verify.child.synthetic import synthetic_frame

# The real functions, captured when the child starts (before any stand-in is installed).
ORIGINAL_OPEN = builtins.open
ORIGINAL_EXISTS = os.path.exists
ORIGINAL_ISDIR = os.path.isdir
ORIGINAL_ISFILE = os.path.isfile
ORIGINAL_LISTDIR = os.listdir
ORIGINAL_WALK = os.walk
ORIGINAL_GLOB = glob_module.glob
ORIGINAL_IGLOB = glob_module.iglob


def missing(path) -> bool:
    """Whether `path` names nothing on disk (False for what is not a path at all)."""
    try:
        text = os.fspath(path)
    except TypeError:
        return False
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return not ORIGINAL_EXISTS(text)


def is_phantom(path, kinds: set[str]) -> bool:
    try:
        return os.path.normpath(os.fspath(path)) in kinds
    except TypeError:
        return False


def reads_missing_file(run: Run, path) -> bool:
    """Whether a stand-in should serve `path`: a path that names nothing on disk, asked for by the project's own
    file (the caller of the stand-in that calls this, hence three frames up)."""
    return isinstance(path, (str, os.PathLike)) and missing(path) and run.from_project(depth=3)


def short(path) -> str:
    """A path cut to its last 70 characters, for the notes."""
    text = str(path)
    return text if len(text) <= 70 else "..." + text[-67:]


def install_file_standins(run: Run) -> None:
    builtins.open = functools.partial(open_standin, run)
    os.listdir = functools.partial(listdir_standin, run)
    os.walk = functools.partial(walk_standin, run)
    os.path.exists = functools.partial(exists_standin, run)
    os.path.isdir = functools.partial(isdir_standin, run)
    os.path.isfile = functools.partial(isfile_standin, run)
    glob_module.glob = functools.partial(glob_standin, run)
    glob_module.iglob = functools.partial(iglob_standin, run)


def _phantom_listing(run: Run, path: str) -> list[str]:
    path = os.path.normpath(path)
    run.phantom_dirs.add(path)
    names = ["class_0", "class_1"] + [f"img_{i}{run.guess.image_ext}" for i in range(4)]
    for name in names:
        full = os.path.join(path, name)
        (run.phantom_dirs if name.startswith("class_") else run.phantom_files).add(full)
    return names


def open_standin(run: Run, file, mode="r", *args, **kwargs):
    if not any(flag in str(mode) for flag in "wax+") and reads_missing_file(run, file):
        text = str(file)
        run.note(f"open({short(text)!r}) of a missing file -> synthetic content")
        if "b" in str(mode):
            return io.BytesIO(b"")
        stream = io.StringIO(_synthetic_text(run, text.lower()))
        stream.name = text
        return stream
    return ORIGINAL_OPEN(file, mode, *args, **kwargs)


def _synthetic_text(run: Run, lowered_path: str) -> str:
    if lowered_path.endswith(".json"):
        return "{}"
    if lowered_path.endswith(".csv"):
        try:
            return synthetic_frame(run.guess).to_csv(index=False)
        except Exception:
            return "feature_0,label\n0.5,1\n"
    # tab-separated "file<TAB>text" lines: caption and translation files are often read like that
    return "".join(f"img_{i}{run.guess.image_ext}\tsynthetic text line number {i}\n" for i in range(16))


def listdir_standin(run: Run, path="."):
    if missing(path) and run.from_project():
        run.note(f"os.listdir({short(path)!r}) of a missing folder -> synthetic listing (2 class folders, "
                 f"4 {run.guess.image_ext} files)")
        return _phantom_listing(run, os.fspath(path))
    return ORIGINAL_LISTDIR(path)


def walk_standin(run: Run, top, *args, **kwargs):
    if missing(top) and run.from_project():
        run.note(f"os.walk({short(top)!r}) of a missing folder -> synthetic tree")
        return _phantom_tree(run, os.fspath(top))
    return ORIGINAL_WALK(top, *args, **kwargs)


def _phantom_tree(run: Run, top: str):
    names = _phantom_listing(run, top)
    yield top, names[:2], names[2:]
    for folder in names[:2]:
        inner = os.path.join(top, folder)
        files = [name for name in _phantom_listing(run, inner) if not name.startswith("class_")]
        yield inner, [], files


def _glob_paths(run: Run, pattern: str) -> list[str]:
    """Four synthetic paths matching `pattern` when its folder does not exist (none when it does)."""
    base = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    folder = base if base.endswith(os.sep) else os.path.dirname(base)
    if not folder or ORIGINAL_EXISTS(folder):
        return []
    ext = os.path.splitext(pattern)[1]
    ext = ext if ext and not any(c in ext for c in "*?[") else run.guess.image_ext
    head = re.sub(r"\*\*/?", "", pattern)
    head = os.path.dirname(head)
    head = re.sub(r"[*?]|\[[^\]]*\]", "class_0", head)
    paths = [os.path.join(head, f"img_{i}{ext}") for i in range(4)]
    run.phantom_files.update(os.path.normpath(path) for path in paths)
    run.phantom_dirs.add(os.path.normpath(head))
    return paths


def _glob_fallback(run: Run, pathname, found: list) -> list:
    """What a glob that matched `found` answers: synthetic paths when it matched nothing in a missing folder.
    Called by the glob stand-ins only, so the project's frame is three frames up."""
    if not found and isinstance(pathname, str) and run.from_project(depth=3):
        standin = _glob_paths(run, pathname)
        if standin:
            run.note(f"glob({short(pathname)!r}) matched nothing -> {len(standin)} synthetic paths")
            return standin
    return found


def glob_standin(run: Run, pathname, *args, **kwargs):
    return _glob_fallback(run, pathname, ORIGINAL_GLOB(pathname, *args, **kwargs))


def iglob_standin(run: Run, pathname, *args, **kwargs):
    return iter(_glob_fallback(run, pathname, list(ORIGINAL_IGLOB(pathname, *args, **kwargs))))


def exists_standin(run: Run, path):
    return ORIGINAL_EXISTS(path) or is_phantom(path, run.phantom_dirs | run.phantom_files)


def isdir_standin(run: Run, path):
    return ORIGINAL_ISDIR(path) or is_phantom(path, run.phantom_dirs)


def isfile_standin(run: Run, path):
    return ORIGINAL_ISFILE(path) or is_phantom(path, run.phantom_files)


def patch_keras_get_file(run: Run) -> None:
    """`keras.utils.get_file` when the network is blocked: a phantom path instead of the download (the Keras
    stand-in of `Model.load_weights` skips loading it, so `weights="imagenet"` gives random weights)."""
    from keras.src.utils import file_utils

    original_get_file = file_utils.get_file

    def get_file(fname=None, origin=None, *args, **kwargs):
        try:
            return original_get_file(fname, origin, *args, **kwargs)
        except Exception:
            name = os.path.basename(str(fname or origin or "download")) or "download"
            path = os.path.normpath(os.path.join(run.synthetic_root, "downloads", name))
            run.phantom_files.add(path)
            run.note(f"keras get_file({short(origin or fname)!r}) not downloaded (network blocked)")
            return path

    replace_everywhere(run, original_get_file, get_file)
