"""The child process of `dlcodegen verify`: runs one project under stand-ins and writes how deep it got.

Started by `dlcodegen.verify` as ``python -m dlcodegen.verify_child JOB_DIR`` in a fresh temporary working
directory, never imported by the parent. ``JOB_DIR/job.json`` holds the job (the code's path, the display file
name, the limits, whether the network is blocked); the child writes its progress and its final answer to
``JOB_DIR/result.json`` (atomically, after every level it passes), so that the parent knows which level was being
attempted even when it has to kill the child. Nothing is read from stdout: the project's prints go to a bounded
in-memory tail and are dropped.

See `dlcodegen.verify` for the design, the levels and the limits of these heuristics.
"""

from __future__ import annotations

import ast
import builtins
import collections
import glob as _glob_module
import io
import json
import os
import re
import resource
import signal
import socket
import sys
import traceback

LEVELS = ("parse", "imports", "model_built", "train_step")
BATCH = 2            # rows of the synthetic training batch
FREE_DIM = 32        # stand-in size of a None (free) dimension of an input other than the batch one
ROWS = 128           # rows of a synthetic data frame (time-series windows of up to ~100 steps still get samples)
NETWORK_BLOCKED = "network access is blocked in verify"
_KERAS_HINT = re.compile(r"\b(keras|tensorflow)\b")
_MEMORY_HINTS = ("bad_alloc", "oom when allocating", "could not create a memory object", "cannot allocate memory",
                 "out of memory", "failed to allocate", "unable to allocate")


class _StopAfterTrainStep(BaseException):
    """Raised through the project's code once the synthetic training step succeeded (a BaseException, so that the
    project's own `except Exception` blocks cannot swallow it)."""


class _TrainStepFailed(BaseException):
    """Raised through the project's code when the synthetic training step failed; carries the real error."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


class _Tail(io.TextIOBase):
    """A write-only text stream that keeps the last `limit` characters (the project's prints)."""

    def __init__(self, limit: int = 20_000):
        self._parts: collections.deque[str] = collections.deque()
        self._size = 0
        self._limit = limit

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        self._parts.append(text)
        self._size += len(text)
        while self._size > self._limit and len(self._parts) > 1:
            self._size -= len(self._parts.popleft())
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def getvalue(self) -> str:
        return "".join(self._parts)


class Run:
    """State of one verification: the levels reached, the notes, the stand-ins' bookkeeping."""

    def __init__(self, job: dict, job_dir: str):
        self.job = job
        self.result_path = os.path.join(job_dir, "result.json")
        self.filename = job["filename"]          # the code object's file name: frames of the project carry it
        self.memory_mb = job["memory_mb"]
        self.passed: str | None = None
        self.notes: list[str] = []
        self.phantom_dirs: set[str] = set()
        self.phantom_files: set[str] = set()
        self.last_model = None
        self.train_done = False
        self.train_failure: _TrainStepFailed | None = None
        self.code = ""
        self.tree: ast.Module | None = None
        self.columns: list[str] = []
        self.text_columns: set[str] = set()
        self.column_literals: dict[str, list] = {}
        self.image_ext = ".png"
        self.synthetic_root = os.path.join(os.getcwd(), "_verify_synthetic")
        self.originals: dict[str, object] = {}
        self.patched: set[str] = set()

    # -- bookkeeping -------------------------------------------------------------------------------------------
    @property
    def attempting(self) -> str | None:
        index = LEVELS.index(self.passed) + 1 if self.passed else 0
        return LEVELS[index] if index < len(LEVELS) else None

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < 40:
            self.notes.append(text)

    def reach(self, level: str) -> None:
        if self.passed is None or LEVELS.index(level) > LEVELS.index(self.passed):
            self.passed = level
            self.write()

    def write(self, failed: str | None = None, error: str | None = None, done: bool = False) -> None:
        payload = {"level": self.passed, "attempting": self.attempting, "failed": failed, "error": error,
                   "notes": self.notes, "done": done}
        temporary = self.result_path + ".tmp"
        with _ORIGINAL_OPEN(temporary, "w", encoding="utf-8") as handle:
            json.dump(payload, handle)
        os.replace(temporary, self.result_path)

    def from_project(self, depth: int = 2) -> bool:
        """Whether the caller `depth` frames up is the project's own code (stand-ins only serve the project)."""
        try:
            return sys._getframe(depth).f_code.co_filename == self.filename
        except ValueError:
            return False

    def model_built(self, model) -> None:
        self.last_model = model
        self.reach("model_built")


RUN: Run  # set by main()


# ---------------------------------------------------------------------------------------------------------------
# Error formatting
# ---------------------------------------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(text: str, limit: int = 400) -> str:
    text = _ANSI.sub("", str(text))
    try:
        text = text.replace(RUN.filename, RUN.job.get("display_name", os.path.basename(RUN.filename)))
    except NameError:
        pass
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _project_line(tb) -> int | None:
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == RUN.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _is_memory_error(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    name = type(error).__name__
    return name == "ResourceExhaustedError" or any(hint in str(error).lower() for hint in _MEMORY_HINTS[:4])


def _describe(error: BaseException, line: int | None) -> str:
    if _is_memory_error(error):
        return f"stopped: exceeded the memory limit of {RUN.memory_mb} MB"
    message = _one_line(str(error))
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if line is not None:
        text += f" (line {line})"
    return text


# ---------------------------------------------------------------------------------------------------------------
# Sandbox: limits, output, network
# ---------------------------------------------------------------------------------------------------------------

def _apply_limits(job: dict) -> None:
    """Set the limits again from inside (the parent skips preexec_fn when it runs threads); never raises them."""
    wanted = {resource.RLIMIT_CPU: (int(job["cpu_seconds"]), int(job["cpu_seconds"]) + 5),
              resource.RLIMIT_AS: (job["memory_mb"] * 1024 * 1024,) * 2,
              resource.RLIMIT_FSIZE: (job["fsize_mb"] * 1024 * 1024,) * 2,
              resource.RLIMIT_CORE: (0, 0)}
    for kind, (soft, hard) in wanted.items():
        try:
            cur_soft, cur_hard = resource.getrlimit(kind)
            if cur_hard != resource.RLIM_INFINITY:
                hard = min(hard, cur_hard)
            if cur_soft != resource.RLIM_INFINITY:
                soft = min(soft, cur_soft)
            resource.setrlimit(kind, (min(soft, hard), hard))
        except (ValueError, OSError):
            pass
    # A write past RLIMIT_FSIZE raises OSError(EFBIG) instead of killing the child with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def _block_network() -> None:
    def refuse(*_args, **_kwargs):
        raise ConnectionRefusedError(NETWORK_BLOCKED)

    local_names = {None, "", "localhost", "127.0.0.1", "::1"}
    original_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, bytes):
            host = host.decode("ascii", "replace")
        if host in local_names:
            return original_getaddrinfo(host, *args, **kwargs)
        raise ConnectionRefusedError(NETWORK_BLOCKED)

    def guard(method):
        def guarded(self, *args, **kwargs):
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise ConnectionRefusedError(NETWORK_BLOCKED)
            return method(self, *args, **kwargs)
        return guarded

    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, guard(getattr(socket.socket, name)))
    socket.create_connection = refuse
    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = refuse
    socket.gethostbyname_ex = refuse


# ---------------------------------------------------------------------------------------------------------------
# Source preparation (parse level)
# ---------------------------------------------------------------------------------------------------------------

_MAGIC = re.compile(r"^([ \t]*)([!%].*)$")


def _strip_magics(code: str) -> tuple[str, int]:
    lines, count = [], 0
    for line in code.split("\n"):
        match = _MAGIC.match(line)
        if match:
            lines.append(f"{match.group(1)}pass")
            count += 1
        else:
            lines.append(line)
    return "\n".join(lines), count


def prepare_source(code: str) -> tuple[str, ast.Module]:
    """The code as it will run, parsed; fences and notebook magics are removed only when it does not parse as is."""
    try:
        return code, ast.parse(code, RUN.filename)
    except SyntaxError as first_error:
        candidate = code
        if re.search(r"^[ \t]*(```|~~~)", code, re.M):
            from dlcodegen.extract import extract_code

            candidate = extract_code(code)
            RUN.note("markdown fences removed (line numbers refer to the code inside them)")
        candidate, stripped = _strip_magics(candidate)
        if stripped:
            RUN.note(f"{stripped} notebook shell/magic line(s) (! or %) replaced by `pass`")
        if candidate == code:
            raise first_error
        return candidate, ast.parse(candidate, RUN.filename)


# ---------------------------------------------------------------------------------------------------------------
# Synthetic data
# ---------------------------------------------------------------------------------------------------------------

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
_COLUMN_CALLS = {"drop", "pop", "groupby", "value_counts", "sort_values", "rename", "fillna", "dropna", "astype",
                 "get_dummies", "set_index", "pivot_table", "melt", "explode", "nunique", "unique", "map", "apply"}
_COLUMN_KEYWORDS = {"columns", "x_col", "y_col", "usecols", "names", "subset", "by", "on", "id_vars",
                    "value_vars", "index", "values", "labels", "stratify"}
_COLUMN_VARIABLES = re.compile(r"col|feat|target|label|categor|numer|drop|text", re.I)
_IMAGE_EXTENSIONS = re.compile(r"\.(png|jpe?g|bmp|tiff?|gif|webp|dcm|nii(?:\.gz)?)\b", re.I)


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return [value for element in node.elts for value in _strings(element)]
    if isinstance(node, ast.Dict):
        return [value for key in node.keys if key is not None for value in _strings(key)]
    return []


def _plausible_column(name: str) -> bool:
    return (0 < len(name) <= 60 and name.isprintable() and not any(c in name for c in "/\\%{}\n")
            and not re.search(r"\.\w{2,4}$", name) and not name.startswith(("http", ".")))


def _compared_literals(tree: ast.Module) -> dict[str, list]:
    """Column -> the constants the code compares it with (`df["city"] == "Paris"`, `.isin([...])`), so that a
    filtered synthetic frame is not empty."""
    literals: dict[str, list] = collections.defaultdict(list)

    def column_of(node) -> str | None:
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and \
                isinstance(node.slice.value, str):
            return node.slice.value
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            return node.attr
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and len(node.comparators) == 1:
            column = column_of(node.left)
            other = node.comparators[0]
            if column and isinstance(other, ast.Constant) and isinstance(other.value, (str, int, float)) and \
                    not isinstance(other.value, bool):
                literals[column].append(other.value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "isin"
              and node.args and isinstance(node.args[0], (ast.List, ast.Tuple, ast.Set))):
            column = column_of(node.func.value)
            values = [e.value for e in node.args[0].elts if isinstance(e, ast.Constant)]
            if column and values:
                literals[column].extend(values)
    return {column: list(dict.fromkeys(values)) for column, values in literals.items()}


def scan_code(tree: ast.Module, code: str) -> None:
    """Guess the column names the code reads from its data frames, and the image file extension it expects."""
    found: list[tuple[int, int, str]] = []

    def add(node: ast.AST, values: list[str]) -> None:
        found.extend((getattr(node, "lineno", 0), getattr(node, "col_offset", 0), value) for value in values)

    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            add(node, _strings(node.slice))
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in _COLUMN_KEYWORDS:
                    add(node, _strings(keyword.value))
            if isinstance(node.func, ast.Attribute) and node.func.attr in _COLUMN_CALLS:
                for argument in node.args[:1]:
                    add(node, _strings(argument))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and _COLUMN_VARIABLES.search(t.id)
                                                  for t in node.targets):
            add(node, _strings(node.value))
    found = [value for _, _, value in sorted(found, key=lambda item: (item[0], item[1]))]
    columns = list(dict.fromkeys(name for name in found if _plausible_column(name)))
    RUN.columns = columns[:80]
    RUN.column_literals = _compared_literals(tree)
    RUN.text_columns = {node.value.slice.value for node in ast.walk(tree)
                        if isinstance(node, ast.Attribute) and node.attr in ("str", "lower", "split")
                        and isinstance(node.value, ast.Subscript) and isinstance(node.value.slice, ast.Constant)
                        and isinstance(node.value.slice.value, str)}
    extensions = collections.Counter(match.group(0).lower() for match in _IMAGE_EXTENSIONS.finditer(code))
    if extensions:
        RUN.image_ext = extensions.most_common(1)[0][0]


def _column_values(name: str, rows: int, rng):
    literals = RUN.column_literals.get(name)
    if literals:  # mostly the values the code filters on, so that filters keep rows
        pool = literals + [literals[0]] * (len(literals) + 1) + (["other"] if isinstance(literals[0], str) else [-1])
        return [pool[i % len(pool)] for i in range(rows)]
    lowered = name.lower()
    if _TEXT_COLUMN.search(lowered) or name in RUN.text_columns:
        words = ["good", "bad", "data", "model", "great", "poor", "fine", "test", "deep", "learning"]
        return [" ".join(rng.choice(words, size=6)) for _ in range(rows)]
    if _FILE_COLUMN.search(lowered):
        return [f"synthetic_{i}{RUN.image_ext}" for i in range(rows)]
    if _DATE_COLUMN.search(lowered):
        return [f"2020-01-{1 + i % 28:02d}" for i in range(rows)]
    if re.search(r"(^|_| )id$", lowered):
        return list(range(rows))
    if _LABEL_COLUMN.search(lowered):
        return [i % 2 for i in range(rows)]
    if _STRING_COLUMN.search(lowered):
        return [("A", "B", "C")[i % 3] for i in range(rows)]
    return rng.normal(size=rows).astype("float32")


def synthetic_frame(columns: list[str] | None = None):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    if not columns:
        guessed = [name for name in RUN.columns]
        labels = [name for name in guessed if _LABEL_COLUMN.search(name.lower())]
        others = [name for name in guessed if name not in labels]
        generic = [f"feature_{i}" for i in range(4)] if len(others) < 2 else []
        columns = generic + others + labels
    return pd.DataFrame({name: _column_values(name, ROWS, rng) for name in dict.fromkeys(columns)})


def _synthetic_array(hint: str):
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
        value = self[key] = _synthetic_array(str(key))
        return value

    files = property(lambda self: list(self.keys()) or ["x", "y"])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def close(self) -> None:
        pass


def _synthetic_image_array(height: int = 64, width: int = 64, channels: int | None = 3):
    import numpy as np

    shape = (height, width) if channels is None else (height, width, channels)
    return np.random.default_rng(0).integers(0, 256, size=shape, dtype=np.uint8)


def _synthetic_pil(size=(64, 64), mode: str = "RGB"):
    from PIL import Image

    width, height = size
    channels = {"L": None, "RGBA": 4}.get(mode, 3)
    array = _synthetic_image_array(height, width, channels)
    image = Image.fromarray(array, mode=None)
    return image.convert(mode) if image.mode != mode else image


def synthetic_image_folder(kind: str = "images", classes=None) -> str:
    """A real folder of class sub-folders (`classes`, else class_0 and class_1) with four tiny files each (PNG
    images or text), made once per run and class list."""
    names = [str(name) for name in classes] if isinstance(classes, (list, tuple)) and classes else \
        ["class_0", "class_1"]
    suffix = "" if names == ["class_0", "class_1"] else f"-{abs(hash(tuple(names))) % 10**8}"
    root = os.path.join(RUN.synthetic_root, kind + suffix)
    if os.path.isdir(root):
        return root
    for label, name in enumerate(names[:100]):
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        for index in range(4):
            if kind == "images":
                _synthetic_pil((32, 32)).save(os.path.join(folder, f"img_{index}.png"))
            else:
                with _ORIGINAL_OPEN(os.path.join(folder, f"doc_{index}.txt"), "w", encoding="utf-8") as handle:
                    handle.write(f"synthetic document {index} of class {label}\n")
    return root


def _missing(path) -> bool:
    try:
        text = os.fspath(path)
    except TypeError:
        return False
    if isinstance(text, bytes):
        text = text.decode(errors="replace")
    return not _ORIGINAL_EXISTS(text)


def _short(path) -> str:
    text = str(path)
    return text if len(text) <= 70 else "..." + text[-67:]


# ---------------------------------------------------------------------------------------------------------------
# Stand-ins of the standard library (installed before the project runs)
# ---------------------------------------------------------------------------------------------------------------

_ORIGINAL_OPEN = builtins.open
_ORIGINAL_EXISTS = os.path.exists
_ORIGINAL_ISDIR = os.path.isdir
_ORIGINAL_ISFILE = os.path.isfile
_ORIGINAL_LISTDIR = os.listdir
_ORIGINAL_WALK = os.walk
_ORIGINAL_GLOB = _glob_module.glob
_ORIGINAL_IGLOB = _glob_module.iglob
_ORIGINAL_IMPORT = builtins.__import__


def _phantom_listing(path: str) -> list[str]:
    path = os.path.normpath(path)
    RUN.phantom_dirs.add(path)
    names = ["class_0", "class_1"] + [f"img_{i}{RUN.image_ext}" for i in range(4)]
    for name in names:
        full = os.path.join(path, name)
        (RUN.phantom_dirs if name.startswith("class_") else RUN.phantom_files).add(full)
    return names


def _open(file, mode="r", *args, **kwargs):
    if (isinstance(file, (str, os.PathLike)) and not any(flag in str(mode) for flag in "wax+")
            and _missing(file) and RUN.from_project()):
        text = str(file)
        RUN.note(f"open({_short(text)!r}) of a missing file -> synthetic content")
        if "b" in str(mode):
            return io.BytesIO(b"")
        lowered = text.lower()
        if lowered.endswith(".json"):
            content = "{}"
        elif lowered.endswith(".csv"):
            try:
                content = synthetic_frame().to_csv(index=False)
            except Exception:
                content = "feature_0,label\n0.5,1\n"
        else:  # tab-separated "file<TAB>text" lines: caption and translation files are often read like that
            content = "".join(f"img_{i}{RUN.image_ext}\tsynthetic text line number {i}\n" for i in range(16))
        stream = io.StringIO(content)
        stream.name = text
        return stream
    return _ORIGINAL_OPEN(file, mode, *args, **kwargs)


def _listdir(path="."):
    if _missing(path) and RUN.from_project():
        RUN.note(f"os.listdir({_short(path)!r}) of a missing folder -> synthetic listing (2 class folders, "
                 f"4 {RUN.image_ext} files)")
        return _phantom_listing(os.fspath(path))
    return _ORIGINAL_LISTDIR(path)


def _walk(top, *args, **kwargs):
    if _missing(top) and RUN.from_project():
        RUN.note(f"os.walk({_short(top)!r}) of a missing folder -> synthetic tree")
        top = os.fspath(top)

        def tree():
            names = _phantom_listing(top)
            yield top, names[:2], names[2:]
            for folder in names[:2]:
                inner = os.path.join(top, folder)
                files = [name for name in _phantom_listing(inner) if not name.startswith("class_")]
                yield inner, [], files
        return tree()
    return _ORIGINAL_WALK(top, *args, **kwargs)


def _glob_standin(pattern: str) -> list[str]:
    base = re.split(r"[*?\[]", pattern, maxsplit=1)[0]
    folder = base if base.endswith(os.sep) else os.path.dirname(base)
    if not folder or _ORIGINAL_EXISTS(folder):
        return []
    ext = os.path.splitext(pattern)[1]
    ext = ext if ext and not any(c in ext for c in "*?[") else RUN.image_ext
    head = re.sub(r"\*\*/?", "", pattern)
    head = os.path.dirname(head)
    head = re.sub(r"[*?]|\[[^\]]*\]", "class_0", head)
    paths = [os.path.join(head, f"img_{i}{ext}") for i in range(4)]
    RUN.phantom_files.update(os.path.normpath(path) for path in paths)
    RUN.phantom_dirs.add(os.path.normpath(head))
    return paths


def _glob(pathname, *args, **kwargs):
    found = _ORIGINAL_GLOB(pathname, *args, **kwargs)
    if not found and isinstance(pathname, str) and RUN.from_project():
        standin = _glob_standin(pathname)
        if standin:
            RUN.note(f"glob({_short(pathname)!r}) matched nothing -> {len(standin)} synthetic paths")
            return standin
    return found


def _iglob(pathname, *args, **kwargs):
    found = list(_ORIGINAL_IGLOB(pathname, *args, **kwargs))
    if not found and isinstance(pathname, str) and RUN.from_project():
        standin = _glob_standin(pathname)
        if standin:
            RUN.note(f"glob({_short(pathname)!r}) matched nothing -> {len(standin)} synthetic paths")
            return iter(standin)
    return iter(found)


def _phantom(path, kinds) -> bool:
    try:
        return os.path.normpath(os.fspath(path)) in kinds
    except TypeError:
        return False


def _exists(path):
    return _ORIGINAL_EXISTS(path) or _phantom(path, RUN.phantom_dirs | RUN.phantom_files)


def _isdir(path):
    return _ORIGINAL_ISDIR(path) or _phantom(path, RUN.phantom_dirs)


def _isfile(path):
    return _ORIGINAL_ISFILE(path) or _phantom(path, RUN.phantom_files)


def _import(name, globals=None, locals=None, fromlist=(), level=0):
    module = _ORIGINAL_IMPORT(name, globals, locals, fromlist, level)
    if globals is not None and globals.get("__file__") == RUN.filename:
        patch_libraries()
        rebind_new_modules()
    return module


def _display(*_args, **_kwargs):
    return None


class _FakeIPython:
    def __getattr__(self, _name):
        return _display


def install_stdlib_standins() -> None:
    builtins.open = _open
    os.listdir = _listdir
    os.walk = _walk
    os.path.exists = _exists
    os.path.isdir = _isdir
    os.path.isfile = _isfile
    _glob_module.glob = _glob
    _glob_module.iglob = _iglob
    builtins.__import__ = _import


# ---------------------------------------------------------------------------------------------------------------
# Stand-ins of third-party libraries (installed when the library is imported)
# ---------------------------------------------------------------------------------------------------------------

def _wrap_reader(module, name: str, label: str) -> None:
    original = getattr(module, name, None)
    if original is None:
        return

    def reader(path_or_buffer=None, *args, **kwargs):
        if (isinstance(path_or_buffer, (str, os.PathLike)) and RUN.from_project()
                and (str(path_or_buffer).startswith(("http://", "https://")) or _missing(path_or_buffer))):
            try:
                columns = kwargs.get("names") or kwargs.get("usecols")
                frame = synthetic_frame([str(c) for c in columns] if isinstance(columns, (list, tuple)) else None)
            except Exception:
                return original(path_or_buffer, *args, **kwargs)
            RUN.note(f"{label}.{name}({_short(path_or_buffer)!r}) -> synthetic frame ({len(frame)} rows, columns: "
                     f"{_one_line(', '.join(map(str, frame.columns)), 160)})")
            return frame
        return original(path_or_buffer, *args, **kwargs)

    reader.__wrapped__ = original
    setattr(module, name, reader)


def _patch_pandas(pandas) -> None:
    for name in ("read_csv", "read_table", "read_excel", "read_json", "read_parquet", "read_feather", "read_pickle"):
        _wrap_reader(pandas, name, "pandas")


def _patch_numpy(numpy) -> None:
    original = numpy.load

    def load(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and _missing(file) and RUN.from_project():
            text = str(file)
            RUN.note(f"numpy.load({_short(text)!r}) of a missing file -> synthetic array")
            if text.lower().endswith(".npz"):
                return SyntheticNpz()
            return _synthetic_array(os.path.basename(text))
        return original(file, *args, **kwargs)

    numpy.load = load


def _patch_pil(image_module) -> None:
    original = image_module.open

    def open_image(fp, *args, **kwargs):
        if isinstance(fp, (str, os.PathLike)) and _missing(fp) and RUN.from_project():
            RUN.note(f"PIL.Image.open of missing files -> synthetic 64x64 RGB images (e.g. {_short(fp)!r})")
            return _synthetic_pil()
        return original(fp, *args, **kwargs)

    image_module.open = open_image


def _patch_cv2(cv2) -> None:
    original = getattr(cv2, "imread", None)
    if original is None:
        return

    def imread(filename, flags=1, *args, **kwargs):
        if isinstance(filename, (str, os.PathLike)) and _missing(filename) and RUN.from_project():
            RUN.note(f"cv2.imread of missing files -> synthetic 64x64 images (e.g. {_short(filename)!r})")
            return _synthetic_image_array(channels=None if flags == 0 else 3)
        return original(filename, flags, *args, **kwargs)

    cv2.imread = imread


def _patch_pyplot(pyplot) -> None:
    pyplot.show = _display
    pyplot.pause = _display
    RUN.note("matplotlib: Agg backend, plt.show()/plt.pause() are no-ops")


_API_PREFIXES = ("keras", "tensorflow.keras", "tf_keras")
_REPLACEMENTS: dict[int, tuple[object, object]] = {}   # id(original function) -> (original, stand-in)
_SCANNED: set[str] = set()


def _replace_everywhere(original, replacement) -> None:
    """Rebind every module attribute that is `original` (the public API re-exports functions under many names,
    and `tensorflow.keras.*` modules appear lazily: `rebind_new_modules` catches those on later imports)."""
    _REPLACEMENTS[id(original)] = (original, replacement)
    _SCANNED.clear()
    rebind_new_modules()


def rebind_new_modules() -> None:
    if not _REPLACEMENTS:
        return
    for module_name, module in list(sys.modules.items()):
        if module_name in _SCANNED or not module_name.startswith(_API_PREFIXES):
            continue
        _SCANNED.add(module_name)
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for attribute, value in list(namespace.items()):
            entry = _REPLACEMENTS.get(id(value))
            if entry is not None and entry[0] is value:
                try:
                    setattr(module, attribute, entry[1])
                except (AttributeError, TypeError):
                    pass


def _synthetic_keras_dataset(name: str):
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
        RUN.note(f"keras.datasets.{name}.load_data() -> synthetic arrays of the same shapes "
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


def _patch_keras() -> None:
    import keras  # noqa: F401  (the whole public API, tf.keras's included, is loaded by this)
    from keras.src.models.model import Model

    originals = RUN.originals
    originals.update(fit=Model.fit, compile=Model.compile, train_on_batch=Model.train_on_batch,
                     load_weights=Model.load_weights)

    def compile(self, *args, **kwargs):
        result = originals["compile"](self, *args, **kwargs)
        RUN.model_built(self)
        return result

    def fit(self, *args, **kwargs):
        _intercepted_training(self, "fit", args, kwargs)

    def train_on_batch(self, *args, **kwargs):
        if not RUN.from_project():
            return originals["train_on_batch"](self, *args, **kwargs)
        _intercepted_training(self, "train_on_batch", args, kwargs)

    def load_weights(self, filepath, *args, **kwargs):
        if _phantom(filepath, RUN.phantom_files):
            RUN.note("weights that could not be downloaded were not loaded (random initial weights)")
            return None
        return originals["load_weights"](self, filepath, *args, **kwargs)

    Model.compile, Model.fit, Model.train_on_batch, Model.load_weights = compile, fit, train_on_batch, load_weights

    from keras.src.optimizers.base_optimizer import BaseOptimizer

    original_apply = BaseOptimizer.apply_gradients

    def apply_gradients(self, *args, **kwargs):
        result = original_apply(self, *args, **kwargs)
        if RUN.from_project() and not RUN.train_done:
            RUN.train_done = True
            RUN.note("custom training loop: stopped after its first optimizer.apply_gradients()")
            raise _StopAfterTrainStep()
        return result

    BaseOptimizer.apply_gradients = apply_gradients

    if RUN.job["network_blocked"]:
        from keras.src.utils import file_utils

        original_get_file = file_utils.get_file

        def get_file(fname=None, origin=None, *args, **kwargs):
            try:
                return original_get_file(fname, origin, *args, **kwargs)
            except Exception:
                name = os.path.basename(str(fname or origin or "download")) or "download"
                path = os.path.normpath(os.path.join(RUN.synthetic_root, "downloads", name))
                RUN.phantom_files.add(path)
                RUN.note(f"keras get_file({_short(origin or fname)!r}) not downloaded (network blocked)")
                return path

        _replace_everywhere(original_get_file, get_file)

    import importlib

    for dataset in ("mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
                    "california_housing"):
        try:
            module = importlib.import_module(f"keras.src.datasets.{dataset}")
        except ImportError:
            continue
        _replace_everywhere(module.load_data, _synthetic_keras_dataset(dataset))

    from keras.src.utils import image_dataset_utils, image_utils

    original_image_ds = image_dataset_utils.image_dataset_from_directory

    def image_dataset_from_directory(directory, *args, **kwargs):
        if _missing(directory) and RUN.from_project():
            RUN.note(f"image_dataset_from_directory({_short(directory)!r}) -> a synthetic folder of 2 classes x 4 "
                     f"images")
            directory = synthetic_image_folder("images", kwargs.get("class_names"))
            if kwargs.get("validation_split"):
                kwargs["validation_split"] = 0.25
        return original_image_ds(directory, *args, **kwargs)

    _replace_everywhere(original_image_ds, image_dataset_from_directory)

    try:
        from keras.src.utils import text_dataset_utils

        original_text_ds = text_dataset_utils.text_dataset_from_directory

        def text_dataset_from_directory(directory, *args, **kwargs):
            if _missing(directory) and RUN.from_project():
                RUN.note(f"text_dataset_from_directory({_short(directory)!r}) -> a synthetic folder of 2 classes x "
                         f"4 texts")
                directory = synthetic_image_folder("texts", kwargs.get("class_names"))
                if kwargs.get("validation_split"):
                    kwargs["validation_split"] = 0.25
            return original_text_ds(directory, *args, **kwargs)

        _replace_everywhere(original_text_ds, text_dataset_from_directory)
    except ImportError:
        pass

    original_load_img = image_utils.load_img

    def load_img(path, *args, **kwargs):
        if isinstance(path, (str, os.PathLike)) and _missing(path) and RUN.from_project():
            RUN.note(f"keras load_img of missing files -> synthetic images (e.g. {_short(path)!r})")
            size = kwargs.get("target_size") or (args[2] if len(args) > 2 else None) or (64, 64)
            mode = kwargs.get("color_mode") or (args[1] if len(args) > 1 else "rgb")
            height, width = size
            return _synthetic_pil((width, height), {"grayscale": "L", "rgba": "RGBA"}.get(mode, "RGB"))
        return original_load_img(path, *args, **kwargs)

    _replace_everywhere(original_load_img, load_img)

    try:
        from keras.src.legacy.preprocessing.image import ImageDataGenerator
    except ImportError:
        return
    original_flow_dir = ImageDataGenerator.flow_from_directory
    original_flow_df = ImageDataGenerator.flow_from_dataframe

    def flow_from_directory(self, directory, *args, **kwargs):
        if _missing(directory) and RUN.from_project():
            classes = kwargs.get("classes")
            RUN.note(f"flow_from_directory({_short(directory)!r}) -> a synthetic folder of "
                     f"{len(classes) if classes else 2} classes x 4 images")
            directory = synthetic_image_folder("images", classes)
        return original_flow_dir(self, directory, *args, **kwargs)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class", *args, **kwargs):
        if RUN.from_project():
            try:
                files = [os.path.join(directory or "", str(name)) for name in dataframe[x_col][:8]]
            except Exception:
                files = []
            if not files or all(_missing(name) for name in files):
                import pandas as pd

                folder = os.path.join(synthetic_image_folder("images"), "class_0")
                names = sorted(_ORIGINAL_LISTDIR(folder))
                mode = kwargs.get("class_mode", "categorical")
                frame = {x_col: names}
                if mode in ("categorical", "binary", "sparse"):
                    targets = [("class_0", "class_1")[i % 2] for i in range(len(names))]
                else:
                    targets = [float(i % 2) for i in range(len(names))]
                for column in ([y_col] if isinstance(y_col, str) else list(y_col or [])):
                    frame[column] = targets
                RUN.note("flow_from_dataframe over missing image files -> a synthetic frame of 4 images")
                dataframe, directory = pd.DataFrame(frame), folder
        return original_flow_df(self, dataframe, directory, x_col, y_col, *args, **kwargs)

    ImageDataGenerator.flow_from_directory = flow_from_directory
    ImageDataGenerator.flow_from_dataframe = flow_from_dataframe


_LIBRARY_PATCHES = (("pandas", _patch_pandas), ("numpy", _patch_numpy), ("PIL.Image", _patch_pil),
                    ("cv2", _patch_cv2), ("matplotlib.pyplot", _patch_pyplot))


def patch_libraries(keras: bool = False) -> None:
    """Install the stand-ins of every library imported so far (each once); `keras`: import Keras first."""
    for name, patch in _LIBRARY_PATCHES:
        if name not in RUN.patched and name in sys.modules:
            RUN.patched.add(name)
            try:
                patch(sys.modules[name])
            except Exception as error:  # a stand-in must never break the project's import
                RUN.note(f"could not install the {name} stand-ins: {_one_line(error, 120)}")
    if "keras" not in RUN.patched and (keras or "keras" in sys.modules or "tensorflow" in sys.modules):
        RUN.patched.add("keras")
        try:
            _patch_keras()
        except Exception as error:
            if keras:
                raise
            RUN.note(f"could not install the Keras stand-ins (fit is not intercepted): {_one_line(error, 160)}")
        patch_libraries()  # keras imports numpy (and maybe PIL)


# ---------------------------------------------------------------------------------------------------------------
# The synthetic training step
# ---------------------------------------------------------------------------------------------------------------

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


def _target_for(output_shape, loss, rng):
    import numpy as np

    shape = tuple(BATCH if i == 0 else (FREE_DIM if dim is None else int(dim)) for i, dim in enumerate(output_shape))
    name = _loss_name(loss)
    classes = shape[-1] if len(shape) > 1 else 1
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

    shape = tuple(BATCH if i == 0 else (FREE_DIM if dim is None else int(dim)) for i, dim in enumerate(tensor.shape))
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


def synthetic_batch(model):
    """(x, y, description) of a batch of BATCH rows shaped like the model's inputs and its outputs, the targets
    matched to the compiled loss; raises when the model's input shape is unknown."""
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
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
    outputs = model(x, training=False)
    loss = getattr(model, "loss", None)
    flat_outputs = keras.tree.flatten(outputs)
    names = getattr(model, "output_names", None)
    names = list(names) if isinstance(names, (list, tuple)) else []
    targets: list[tuple[object, str]] = []
    for index, output in enumerate(flat_outputs):
        if isinstance(loss, dict):
            this_loss = loss.get(names[index] if index < len(names) else None)
        elif isinstance(loss, (list, tuple)):
            this_loss = loss[index] if index < len(loss) else None
        else:
            this_loss = loss
        targets.append(_target_for(tuple(output.shape), this_loss, rng))
    if loss is None:
        y = None
    elif isinstance(loss, dict) and len(names) == len(targets):
        y = {name: value for name, (value, _) in zip(names, targets)}
    else:
        y = keras.tree.pack_sequence_as(outputs, [value for value, _ in targets])
    description = f"x {_describe_batch(described)}; y " + (_describe_batch(targets) if y is not None else "none")
    return x, y, description


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


def synthetic_train_step(model, fit_args=(), fit_kwargs=None) -> None:
    """One train_on_batch on a synthetic batch shaped like the model (the data given to fit when the model's
    shape is unknown)."""
    train_on_batch = RUN.originals.get("train_on_batch") or type(model).train_on_batch
    try:
        x, y, description = synthetic_batch(model)
        source = "synthetic batch"
    except RuntimeError:
        if not fit_args and not fit_kwargs:
            raise
        x, y = _first_batch(fit_args, fit_kwargs or {})
        description, source = "the first rows of the data given to fit()", "fit data"
    train_on_batch(model, x, y)
    RUN.note(f"train step: one train_on_batch on a {source} ({description})")


def _intercepted_training(model, how: str, args, kwargs) -> None:
    """Model.fit / train_on_batch called by the project: one synthetic step, then stop the project."""
    if getattr(model, "built", False) or getattr(model, "optimizer", None) is not None:
        RUN.model_built(model)
    RUN.note(f"{how}(...) intercepted: the project stops after one training step")
    try:
        synthetic_train_step(model, args, kwargs)
    except Exception as error:
        failure = _TrainStepFailed(error)
        RUN.train_failure = failure  # reported even if the project swallows it with a bare `except:`
        raise failure from None
    RUN.train_done = True
    raise _StopAfterTrainStep()


# ---------------------------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------------------------

def _package_shaped(tree: ast.Module) -> bool:
    """A project in this package's shape: a top-level `build_model()` callable without arguments and a
    `if __name__ == "__main__":` guard."""
    has_builder = any(isinstance(node, ast.FunctionDef) and node.name == "build_model"
                      and len(node.args.args) == len(node.args.defaults) and not node.args.posonlyargs
                      and all(default is not None for default in node.args.kw_defaults)
                      for node in tree.body)
    has_guard = any(isinstance(node, ast.If) and "__name__" in ast.unparse(node.test)
                    and "__main__" in ast.unparse(node.test) for node in tree.body)
    return has_builder and has_guard


_BUILDER_NAME = re.compile(r"^(build|create|get|make|define)_?\w*model\w*$", re.I)


def _call_model_builder(tree: ast.Module, namespace: dict) -> None:
    """The project ran to its end without building a model (its main call commented out, say): call its first
    top-level model-building function that needs no argument, if any."""
    for node in tree.body:
        if (isinstance(node, ast.FunctionDef) and _BUILDER_NAME.match(node.name)
                and len(node.args.args) == len(node.args.defaults) and not node.args.posonlyargs
                and all(default is not None for default in node.args.kw_defaults)
                and callable(namespace.get(node.name))):
            RUN.note(f"the project ran to its end without building a model: called its {node.name}()")
            model = namespace[node.name]()
            if _is_keras_model(model):
                RUN.model_built(model)
            return


def _run_imports(tree: ast.Module, namespace: dict) -> None:
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module(body=[node], type_ignores=[]), RUN.filename, "exec"), namespace)


def _is_keras_model(value) -> bool:
    try:
        from keras.src.models.model import Model
    except ImportError:
        return False
    return isinstance(value, Model)


def run(code: str) -> tuple[str | None, str | None]:
    """Go through the levels; returns (failed level, error) or (None, None) when the train step passed."""
    # parse
    try:
        code, tree = prepare_source(code)
        program = compile(tree, RUN.filename, "exec")
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        return "parse", f"{type(error).__name__}: {_one_line(error.msg)}{where}"
    except (ValueError, RecursionError) as error:
        return "parse", f"{type(error).__name__}: {_one_line(error)}"
    RUN.code, RUN.tree = code, tree
    RUN.reach("parse")
    scan_code(tree, code)

    package = _package_shaped(tree)
    namespace = {"__name__": "project" if package else "__main__", "__file__": RUN.filename,
                 "__builtins__": builtins, "display": _display, "get_ipython": _FakeIPython}

    # imports
    try:
        _run_imports(tree, namespace)
    except BaseException as error:  # noqa: BLE001  (SystemExit too: the project must not end the harness)
        return "imports", _describe(error, _project_line(error.__traceback__))
    RUN.reach("imports")
    try:
        patch_libraries(keras=bool(_KERAS_HINT.search(code)) and _keras_installed())
    except Exception as error:
        return "model_built", f"harness: could not prepare Keras: {_describe(error, None)}"

    # model_built and train_step
    try:
        if package:
            RUN.note("project in dlcodegen's shape: module imported (main() not run), build_model() called, "
                     "load_data() not run")
            exec(program, namespace)
            model = namespace["build_model"]()
            if not _is_keras_model(model):
                raise TypeError(f"build_model() returned {type(model).__name__}, not a Keras model")
            RUN.model_built(model)
            synthetic_train_step(model)
            RUN.train_done = True
        else:
            try:
                exec(program, namespace)
            except SystemExit as stop:
                if stop.code not in (None, 0):
                    raise
                RUN.note("the project called sys.exit(0)")
            if RUN.train_failure is not None and not RUN.train_done:
                raise RUN.train_failure
            if not RUN.train_done and RUN.last_model is None:
                _call_model_builder(tree, namespace)
            if not RUN.train_done:
                if RUN.last_model is None:
                    raise RuntimeError("the project ran to its end without compiling a Keras model")
                RUN.note("the project ran to its end without calling fit(): train step on its last compiled model")
                synthetic_train_step(RUN.last_model)
                RUN.train_done = True
    except _StopAfterTrainStep:
        pass
    except _TrainStepFailed as failure:
        return RUN.attempting, _describe(failure.error, _project_line(failure.__traceback__))
    except BaseException as error:  # noqa: BLE001
        return RUN.attempting, _describe(error, _project_line(error.__traceback__))
    RUN.reach("train_step")
    return None, None


def _peak_memory() -> str | None:
    """The child's peak virtual memory (what RLIMIT_AS limits) and peak resident memory, from /proc."""
    try:
        with _ORIGINAL_OPEN("/proc/self/status", encoding="ascii") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
        virtual, resident = (int(fields[key].split()[0]) // 1024 for key in ("VmPeak", "VmHWM"))
    except (OSError, KeyError, ValueError):
        return None
    return f"peak memory: {virtual} MB virtual (the limit applies to this), {resident} MB resident"


def _keras_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("keras") is not None and importlib.util.find_spec("tensorflow") is not None


def main(argv: list[str] | None = None) -> int:
    global RUN
    argv = sys.argv[1:] if argv is None else argv
    job_dir = argv[0]
    with open(os.path.join(job_dir, "job.json"), encoding="utf-8") as handle:
        job = json.load(handle)
    _apply_limits(job)
    RUN = Run(job, job_dir)
    RUN.write()
    # The harness's own folder is on sys.path only to import this module: the project must not see it.
    for entry in job.get("drop_sys_path", []):
        while entry in sys.path:
            sys.path.remove(entry)
    if job["network_blocked"]:
        _block_network()
    tail = _Tail()
    sys.stdout = sys.stderr = tail
    with _ORIGINAL_OPEN(job["code_path"], encoding="utf-8") as handle:
        code = handle.read()
    install_stdlib_standins()
    try:
        failed, error = run(code)
    except BaseException as crash:  # noqa: BLE001  (a harness bug: still one line, at the level attempted)
        failed = RUN.attempting
        error = f"harness error: {type(crash).__name__}: {_one_line(crash)}"
        RUN.note(_one_line("".join(traceback.format_exception(crash))[-600:], 600))
    peak = _peak_memory()
    if peak:
        RUN.notes.append(peak)
    RUN.write(failed=failed, error=error, done=True)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    sys.stdout.flush()
    # Skip interpreter teardown (TensorFlow's can take seconds, and the project's atexit hooks are not ours).
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
