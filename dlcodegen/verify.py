"""`dlcodegen verify`: run a generated deep-learning project in a sandboxed child process and report how deep it got.

Levels, in order, each needing the one before:

``parse``
    the file compiles (markdown fences and notebook ``!``/``%`` lines are removed first when it does not as is).
``imports``
    its top-level ``import`` statements run (a missing module fails here, named in the error).
``model_built``
    a Keras model is built: ``Model.compile`` returned (or ``fit`` was called on a built model), or, for a project
    in this package's shape, ``build_model()`` returned a Keras model.
``train_step``
    one training step (``train_on_batch``) ran on a synthetic batch of 2 rows shaped like the model.

The result names the deepest level passed, the level that failed and its error as one line
(``ExceptionType: message (line N)``, N in the file as it ran).

Two ways of running the project
-------------------------------
*This package's shape* (a top-level ``build_model()`` that takes no argument and an ``if __name__ == "__main__":``
guard, as the offline generator writes them): the module is executed under the name ``project`` (so ``main()``
does not run and ``load_data()`` is never called), ``build_model()`` is called, and one ``train_on_batch`` runs on
a synthetic batch.

*Any other code* (an LLM's answer, the paper's generations: whole notebooks that read Kaggle paths, ``!pip``,
plot...) is executed top to bottom as ``__main__``, with stand-ins that only serve calls made from the project's
own file (libraries keep the real functions):

- reads of missing paths: ``open`` for reading (empty binary; ``{}`` for .json; a synthetic CSV for .csv; a few
  text lines otherwise), ``os.listdir``/``os.walk``/``glob`` (2 class folders + 4 image files, which then exist for
  ``os.path.exists/isdir/isfile``), ``pandas.read_csv/read_table/read_excel/read_json/read_parquet/...`` (a 64-row
  frame whose columns are guessed from the string subscripts and column keywords in the code: text-, file-,
  date-, label- and category-like names get matching values, the rest are floats), ``numpy.load`` (an array or an
  .npz mapping guessed from the name), ``PIL.Image.open``, ``cv2.imread``, ``keras.utils.load_img`` (random images),
  ``image_dataset_from_directory``/``text_dataset_from_directory``/``ImageDataGenerator.flow_from_directory``/
  ``flow_from_dataframe`` (the real function over a real synthetic folder of 2 classes x 4 files),
  ``keras.datasets.*.load_data`` (random arrays of the real shapes, no download), ``keras.utils.get_file`` when the
  network is blocked (a phantom path; ``Model.load_weights`` of it is skipped, so ``weights="imagenet"`` gives
  random weights);
- plotting: ``MPLBACKEND=Agg``; ``plt.show``/``plt.pause`` are no-ops; ``display``/``get_ipython`` exist;
- training: the first ``Model.fit`` (or ``train_on_batch``) called by the project runs ONE ``train_on_batch`` on a
  synthetic batch shaped like the model's inputs and outputs and then stops the project (a private
  ``BaseException`` the project's ``except Exception`` cannot swallow); a custom loop stops after its first
  ``optimizer.apply_gradients``. When the project ends without training but compiled a model, the step runs on
  the last compiled model.

Synthetic batch: inputs shaped like ``model.inputs`` (batch 2, free dimensions 32): ints below the smallest
``Embedding.input_dim`` for int inputs or when the model has an Embedding (2-D inputs), strings for string inputs,
floats in [0, 1) otherwise; targets shaped like the model's outputs on that batch and matched to the compiled
loss: sparse categorical -> int labels in range, categorical/KLD -> one-hot, binary/dice/focal/IoU/hinge -> 0/1,
anything else -> floats. A model whose input shape is unknown (subclassed, never called) is stepped on the first
2 rows of the data handed to ``fit``.

Sandbox
-------
The parent never imports TensorFlow. The child is ``python -m dlcodegen.verify_child JOB_DIR`` in a fresh
temporary working directory, in its own session (the whole process group is killed at the end), with
``RLIMIT_CPU`` = timeout (CPU seconds, all threads), ``RLIMIT_AS`` = ``memory_mb``, ``RLIMIT_FSIZE`` = 256 MB and no
core files (set by ``preexec_fn`` and again by the child itself, which is what counts when the caller runs threads
and ``preexec_fn`` is unsafe), stdin closed, stdout discarded, stderr to a file read only to diagnose crashes,
``TF_CPP_MIN_LOG_LEVEL=3``, ``CUDA_VISIBLE_DEVICES=""``, 2 threads (TF/OMP/BLAS), ``MALLOC_ARENA_MAX=2``,
``KERAS_BACKEND=tensorflow``, a private ``KERAS_HOME`` and the Hugging Face libraries offline. The answer comes
back as JSON in a file (rewritten after each level passed), never through stdout. A wall-clock limit of
``2 x timeout + 5 s`` covers sleeping or blocked code; at either limit the level being attempted fails with
``timed out after S s``. A ``MemoryError``, TensorFlow's allocation failure or a death by signal (an allocation
failure under ``RLIMIT_AS`` often ends in SIGSEGV/SIGABRT inside native code) reads
``stopped: exceeded the memory limit of N MB``.

Network (unless ``network=True``): the socket layer refuses ``connect``/``connect_ex``/``sendto`` on IP sockets,
``create_connection`` and name resolution (``ConnectionRefusedError: network access is blocked in verify``), and
when the machine allows it (tested once per process: ``unshare -rn``, else ``unshare -n``) the child also runs in
an empty network namespace. The notes say which.

Memory: ``RLIMIT_AS`` limits *virtual* memory (what the child reserves, not what it touches), measured here with
TensorFlow 2.21 / Keras 3.15 and ``MALLOC_ARENA_MAX=2`` (each result's notes give the child's peak): importing
TensorFlow reserves about 1.2 GB; a small CNN's train step peaks at about 1.5 GB virtual (0.7 GB resident), a
frozen VGG16 at 224x224 at 1.8 GB, a ResNet50 fine-tuned at 224x224 at 3.1 GB (2.2 GB resident). The paper's
generations often put a Dense layer on a large Flatten (100M+ weights, x3 with Adam): those peak at 5-7 GB. The
default, 8192 MB, lets them train; 4096 MB is enough for small and mid-sized models (``--memory`` sets it).

Limits (honestly: a heuristic harness)
--------------------------------------
The filesystem is not isolated (a temporary working directory and ``RLIMIT_FSIZE`` only): verify code you would
run anyway. Stand-ins only replace the calls listed above, made directly from the project's file; data read in
other ways (``tf.io.read_file``, ``h5py``, ``nibabel``, ``tensorflow_datasets``, Hugging Face hubs) fails as it
would without the data, and a stand-in frame's columns are guesses, so data-wrangling code often fails on them
before a model is built: such a failure says where the pipeline broke against placeholder data, not that the
project is wrong. ``train_step`` proves the model trains on data of its own shape, not that the project's data
pipeline feeds it. Only Keras models count (PyTorch code stops at ``model_built``). Libraries imported only inside
functions get the stand-ins on import from the project's file. ``exec`` of the whole module happens once: code
after the first ``fit`` never runs.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

LEVELS = ("parse", "imports", "model_built", "train_step")
TF_MISSING = ('TensorFlow is not installed; install it with: pip install "dlcodegen[tensorflow]" '
              "(tensorflow-cpu, about 1.6 GB)")
MAX_FILE_BYTES = 2 * 1024 * 1024
FSIZE_MB = 256
WALL_FACTOR, WALL_MARGIN = 2.0, 5.0
_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)


class VerifyInputError(ValueError):
    """The file to verify cannot be used (missing, empty, binary, not UTF-8, too large): one clear line."""


@dataclass
class VerifyConfig:
    timeout: float = 120.0    # seconds of CPU time (RLIMIT_CPU); the wall-clock limit is 2 x timeout + 5 s
    memory_mb: int = 8192     # RLIMIT_AS of the child (virtual memory: TF alone reserves ~1.2 GB; see above)
    network: bool = False     # True: let the project reach the network

    def __post_init__(self) -> None:
        if not self.timeout or self.timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {self.timeout!r}")
        if int(self.memory_mb) < 64:
            raise ValueError(f"memory_mb must be at least 64, not {self.memory_mb!r}")

    @property
    def wall_seconds(self) -> float:
        return WALL_FACTOR * self.timeout + WALL_MARGIN


@dataclass
class VerifyResult:
    level: str | None            # deepest level passed (None: not even parse)
    failed: str | None           # the level that failed (None when train_step passed)
    error: str | None            # one line: ExceptionType: message (line N)
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.level == "train_step"

    @property
    def summary(self) -> str:
        """One line: the deepest level reached and, unless it passed, the level that failed and why."""
        return f"reached {self.level or 'nothing'}" + ("" if self.passed else f"; failed at {self.failed}: {self.error}")

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def tensorflow_available() -> bool:
    """Whether TensorFlow can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("tensorflow") is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=1)
def network_namespace_prefix() -> tuple[str, ...]:
    """The command prefix that runs a program without network (an empty network namespace), or () when this
    machine does not allow one. Tested once per process."""
    unshare = shutil.which("unshare")
    if not unshare or not sys.platform.startswith("linux"):
        return ()
    for prefix in ((unshare, "-rn"), (unshare, "-n")):
        try:
            probe = subprocess.run([*prefix, sys.executable, "-c", "import socket"], stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return prefix
    return ()


def verify_file(path, config: VerifyConfig | None = None) -> VerifyResult:
    """`verify_code` on a .py file (or the code cells of an .ipynb); bad input raises VerifyInputError."""
    return verify_code(read_source(path), config, filename=Path(path).name)


def read_source(path) -> str:
    """The text of a file to verify, or VerifyInputError with one clear line."""
    file = Path(path)
    if not file.exists():
        raise VerifyInputError(f"{file}: no such file")
    if file.is_dir():
        raise VerifyInputError(f"{file}: is a folder, not a Python file")
    size = file.stat().st_size
    if size > MAX_FILE_BYTES:
        raise VerifyInputError(f"{file}: too large to verify ({size / 1024 / 1024:.1f} MB > "
                               f"{MAX_FILE_BYTES // 1024 // 1024} MB)")
    data = file.read_bytes()
    if b"\x00" in data:
        raise VerifyInputError(f"{file}: is a binary file (it contains NUL bytes), not Python source")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise VerifyInputError(f"{file}: is not UTF-8 text (byte {error.start})") from None
    if file.suffix.lower() == ".ipynb":
        text = _notebook_code(text, file)
    if not text.strip():
        raise VerifyInputError(f"{file}: is empty")
    return text


def _notebook_code(text: str, file: Path) -> str:
    try:
        cells = json.loads(text)["cells"]
    except (ValueError, KeyError, TypeError):
        raise VerifyInputError(f"{file}: is not a Jupyter notebook (no JSON `cells`)") from None
    sources = []
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return "\n\n".join(sources)


def _preexec(cpu_seconds: int, memory_bytes: int, fsize_bytes: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_bytes, fsize_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    return apply


def _child_env(job_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TF_USE_LEGACY_KERAS", None)
    threads = "2"
    env.update({
        "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow",
        "TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads, "OMP_NUM_THREADS": threads,
        "OPENBLAS_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "MALLOC_ARENA_MAX": "2",
        "MPLBACKEND": "Agg", "KERAS_HOME": os.path.join(job_dir, ".keras"), "PYTHONDONTWRITEBYTECODE": "1",
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONHASHSEED": "0",
        "PYTHONPATH": os.pathsep.join([_PACKAGE_PARENT, *filter(None, [env.get("PYTHONPATH")])]),
    })
    return env


def verify_code(code: str, config: VerifyConfig | None = None, *, filename: str = "project.py") -> VerifyResult:
    """Run `code` in a sandboxed child process and report the deepest level it reached."""
    config = config or VerifyConfig()
    if not isinstance(code, str):
        raise VerifyInputError(f"code must be a string, not {type(code).__name__}")
    if not code.strip():
        raise VerifyInputError("the code is empty")
    started = time.monotonic()
    notes: list[str] = []
    prefix: tuple[str, ...] = ()
    if config.network:
        notes.append("network: allowed")
    else:
        prefix = network_namespace_prefix()
        notes.append(f"network: blocked by an empty network namespace ({' '.join(['unshare', *prefix[1:]])}) and "
                     f"the socket layer" if prefix else "network: blocked by the socket layer (no network namespace "
                     "on this machine)")
    cpu_seconds = max(1, int(round(config.timeout)))
    with tempfile.TemporaryDirectory(prefix="dlcodegen-verify-") as job_dir:
        safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(filename).name) or "project.py"
        if not safe_name.endswith(".py"):
            safe_name += ".py"
        code_path = os.path.join(job_dir, safe_name)
        Path(code_path).write_text(code, encoding="utf-8")
        job = {"code_path": code_path, "filename": code_path, "display_name": Path(filename).name or safe_name,
               "memory_mb": int(config.memory_mb),
               "cpu_seconds": cpu_seconds, "fsize_mb": FSIZE_MB, "network_blocked": not config.network,
               "drop_sys_path": [_PACKAGE_PARENT]}
        Path(job_dir, "job.json").write_text(json.dumps(job), encoding="utf-8")
        stderr_path = os.path.join(job_dir, "stderr.txt")
        command = [*prefix, sys.executable, "-m", "dlcodegen.verify_child", job_dir]
        single_threaded = threading.active_count() == 1
        with open(stderr_path, "wb") as stderr:
            process = subprocess.Popen(
                command, cwd=job_dir, env=_child_env(job_dir), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True, close_fds=True,
                preexec_fn=_preexec(cpu_seconds, int(config.memory_mb) * 1024 * 1024, FSIZE_MB * 1024 * 1024)
                if single_threaded else None)
            status, cpu_used, timed_out = _wait(process, config.wall_seconds)
        report = _read_json(os.path.join(job_dir, "result.json"))
        stderr_tail = _tail(stderr_path)
    seconds = time.monotonic() - started
    return _result(report, status, cpu_used, timed_out, config, stderr_tail, notes, seconds)


def _wait(process: subprocess.Popen, wall_seconds: float) -> tuple[int, float, bool]:
    """Wait for the child (reaping it with its resource usage); kill its whole group at the wall-clock limit."""
    deadline = time.monotonic() + wall_seconds
    timed_out = False
    status, usage = 0, None
    delay = 0.02
    while True:
        try:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = process.pid, 0
        if pid:
            break
        if time.monotonic() >= deadline:
            timed_out = True
            _kill_group(process.pid)
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)
    _kill_group(process.pid)  # whatever the project left running in its session
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu_used = (usage.ru_utime + usage.ru_stime) if usage else 0.0
    return process.returncode, cpu_used, timed_out


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def _tail(path: str, size: int = 4000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


_MEMORY_HINTS = ("bad_alloc", "resourceexhausted", "resource exhausted", "out of memory", "cannot allocate memory",
                 "failed to allocate", "unable to allocate", "memoryerror")


def _result(report: dict, status: int, cpu_used: float, timed_out: bool, config: VerifyConfig, stderr_tail: str,
            notes: list[str], seconds: float) -> VerifyResult:
    level = report.get("level")
    level = level if level in LEVELS else None
    notes = notes + [str(note) for note in report.get("notes", [])]
    memory_line = f"stopped: exceeded the memory limit of {int(config.memory_mb)} MB"
    if report.get("done"):  # the child finished its answer (whatever happened to it afterwards)
        return VerifyResult(level, report.get("failed"), report.get("error"), seconds, notes)
    attempting = report.get("attempting") or (LEVELS[LEVELS.index(level) + 1] if level and level != LEVELS[-1]
                                               else LEVELS[0])
    killed_by = -status if status < 0 else None
    if timed_out or killed_by == signal.SIGXCPU or (killed_by == signal.SIGKILL and cpu_used >= config.timeout):
        error = f"timed out after {config.timeout:g} s"
        notes.append("stopped at the wall-clock limit" if timed_out else "stopped at the CPU-time limit")
    elif killed_by is not None or any(hint in stderr_tail.lower() for hint in _MEMORY_HINTS):
        error = memory_line
        if killed_by is not None:
            notes.append(f"the child was killed by {signal.Signals(killed_by).name}")
    else:
        last = [line for line in stderr_tail.strip().splitlines() if line.strip()][-1:] or [""]
        error = (f"the project ended the interpreter before verify finished (exit status {status})"
                 + (f": {last[0].strip()[:200]}" if last[0] else ""))
    return VerifyResult(level, attempting, error, seconds, notes)
