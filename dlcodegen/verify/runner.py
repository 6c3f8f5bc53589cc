"""The parent side of `dlcodegen verify`: write the job, start the sandboxed child with its limits, wait for it (or
kill it), and read its answer. The parent never imports TensorFlow; see `dlcodegen.verify` for the design."""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import dlcodegen
from dlcodegen.core.task import TaskSpec
from dlcodegen.verify.processes import kill_tree
from dlcodegen.verify.protocol import ChildReport, Job, deepest_level
from dlcodegen.verify.result import ChildExit, VerifyConfig, VerifyResult, outcome
from dlcodegen.verify.source import VerifyInputError, read_source

logger = logging.getLogger(__name__)

TF_MISSING = ('TensorFlow is not installed; install it with: pip install "dlcodegen[tensorflow]" '
              "(tensorflow-cpu, about 1.6 GB)")
FSIZE_MB = 256
CHILD_MODULE = "dlcodegen.verify.child"   # run as `python -m CHILD_MODULE JOB_DIR`
_PACKAGE_PARENT = str(Path(dlcodegen.__file__).resolve().parent.parent)


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
    logger.debug("no network namespace on this machine: the child's network is blocked by the socket layer only")
    return ()


def verify_file(path, config: VerifyConfig | None = None, task: TaskSpec | None = None) -> VerifyResult:
    """`verify_code` on a .py file (or the code cells of an .ipynb); bad input raises VerifyInputError."""
    return verify_code(read_source(path), config, filename=Path(path).name, task=task)


def verify_code(code: str, config: VerifyConfig | None = None, *, filename: str = "project.py",
                task: TaskSpec | None = None) -> VerifyResult:
    """Run `code` in a sandboxed child process and report the deepest level it reached: train_step, or with a
    task the task levels too (task_fit, learns)."""
    config = config or VerifyConfig()
    if not isinstance(code, str):
        raise VerifyInputError(f"code must be a string, not {type(code).__name__}")
    if not code.strip():
        raise VerifyInputError("the code is empty")
    started = time.monotonic()
    prefix = () if config.network else network_namespace_prefix()
    notes = [_network_note(config, prefix)]
    cpu_seconds = max(1, int(round(config.timeout)))
    logger.debug("verify %s: %d CPU s, %.0f wall s, %d MB, %s", filename, cpu_seconds, config.wall_seconds,
                 int(config.memory_mb), notes[0])
    with tempfile.TemporaryDirectory(prefix="dlcodegen-verify-") as job_dir:
        job = _write_job(job_dir, code, filename, config, cpu_seconds, task)
        ended = _run_child(job_dir, job, prefix, config)
        report = ChildReport.read(job_dir)
    result = outcome(report, ended, config, notes, time.monotonic() - started, deepest_level(task is not None))
    logger.info("verify %s: %s (%.1f s)", filename, result.summary, result.seconds)
    return result


def _network_note(config: VerifyConfig, prefix: tuple[str, ...]) -> str:
    if config.network:
        return "network: allowed"
    if prefix:
        return (f"network: blocked by an empty network namespace ({' '.join(['unshare', *prefix[1:]])}) and the "
                f"socket layer")
    return "network: blocked by the socket layer (no network namespace on this machine)"


def _write_job(job_dir: str, code: str, filename: str, config: VerifyConfig, cpu_seconds: int,
               task: TaskSpec | None = None) -> Job:
    """Write the code (under a safe name ending in .py) and the job file into the job's folder."""
    safe_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in Path(filename).name) or "project.py"
    if not safe_name.endswith(".py"):
        safe_name += ".py"
    code_path = os.path.join(job_dir, safe_name)
    Path(code_path).write_text(code, encoding="utf-8")
    job = Job(code_path=code_path, display_name=Path(filename).name or safe_name, memory_mb=int(config.memory_mb),
              cpu_seconds=cpu_seconds, fsize_mb=FSIZE_MB, network_blocked=not config.network,
              drop_sys_path=(_PACKAGE_PARENT,), task=task.to_dict() if task is not None else None)
    job.write(job_dir)
    return job


def _run_child(job_dir: str, job: Job, prefix: tuple[str, ...], config: VerifyConfig) -> ChildExit:
    """Start the child in its own session with its limits, and wait for it (at most the wall-clock limit)."""
    stderr_path = os.path.join(job_dir, "stderr.txt")
    command = [*prefix, sys.executable, "-m", CHILD_MODULE, job_dir]
    # preexec_fn is unsafe when the caller runs threads: the child then sets its limits itself (it always does).
    single_threaded = threading.active_count() == 1
    limits = _preexec(job.cpu_seconds, job.memory_mb * 1024 * 1024, job.fsize_mb * 1024 * 1024)
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            command, cwd=job_dir, env=_child_env(job_dir), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True, close_fds=True, preexec_fn=limits if single_threaded else None)
        status, cpu_used, timed_out = _wait(process, config.wall_seconds)
    if timed_out:
        logger.debug("verify: child %d killed at the wall-clock limit (%.0f s)", process.pid, config.wall_seconds)
    return ChildExit(status, cpu_used, timed_out, _tail(stderr_path))


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


def _wait(process: subprocess.Popen, wall_seconds: float) -> tuple[int, float, bool]:
    """Wait for the child (reaping it with its resource usage); kill its whole tree at the wall-clock limit."""
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
            kill_tree(process.pid)
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


def _tail(path: str, size: int = 4000) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
