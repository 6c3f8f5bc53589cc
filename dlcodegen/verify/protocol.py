"""What the parent and the child of `dlcodegen verify` agree on: the levels, the job and report files, the memory
hints and the memory-limit message. Imported by both sides, so it imports only the standard library.

The parent writes ``JOB_DIR/job.json`` (a `Job`) before it starts the child; the child rewrites
``JOB_DIR/result.json`` (a `ChildReport`) atomically after every level it passes, so that the parent knows which
level was being attempted even when it has to kill the child.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import asdict, dataclass, field

LEVELS = ("parse", "imports", "model_built", "train_step", "task_fit", "learns")
TASK_LEVELS = ("task_fit", "learns")  # run only when the job carries a task


def deepest_level(with_task: bool) -> str:
    return LEVELS[-1] if with_task else "train_step"
JOB_FILE = "job.json"
REPORT_FILE = "result.json"

# Two lists because they are matched against two different texts, and each list has been tuned to its own:
# the child matches EXCEPTION_MEMORY_HINTS against the message of an exception the project raised (besides
# MemoryError and TensorFlow's ResourceExhaustedError, which it recognises by type): allocation failures that
# native code reports as other exception types. The parent matches STDERR_MEMORY_HINTS against the end of the
# stderr of a child that died before it finished its answer (std::bad_alloc, TensorFlow's and the allocator's own
# messages, a MemoryError printed by the interpreter): there the exception types only appear as text.
EXCEPTION_MEMORY_HINTS = ("bad_alloc", "oom when allocating", "could not create a memory object",
                          "cannot allocate memory")
STDERR_MEMORY_HINTS = ("bad_alloc", "resourceexhausted", "resource exhausted", "out of memory",
                       "cannot allocate memory", "failed to allocate", "unable to allocate", "memoryerror")


def memory_limit_error(memory_mb: int) -> str:
    """The one-line error of a project stopped by the memory limit (reported by the child or by the parent)."""
    return f"stopped: exceeded the memory limit of {int(memory_mb)} MB"


@dataclass(frozen=True)
class Job:
    """One verification, as the parent hands it to the child."""

    code_path: str                  # the project's file; also the file name its code object (and frames) carry
    display_name: str               # the name errors show instead of `code_path`
    memory_mb: int                  # RLIMIT_AS
    cpu_seconds: int                # RLIMIT_CPU
    fsize_mb: int                   # RLIMIT_FSIZE
    network_blocked: bool
    drop_sys_path: tuple[str, ...] = ()  # on sys.path only to import the child: the project must not see them
    task: dict | None = None        # TaskSpec.to_dict(): the task levels run when it is given

    def write(self, job_dir: str) -> None:
        with open(os.path.join(job_dir, JOB_FILE), "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)

    @classmethod
    def read(cls, job_dir: str) -> Job:
        with open(os.path.join(job_dir, JOB_FILE), encoding="utf-8") as handle:
            fields = json.load(handle)
        return cls(**{**fields, "drop_sys_path": tuple(fields.get("drop_sys_path", ()))})


@dataclass
class ChildReport:
    """The child's progress and, once `done`, its answer."""

    level: str | None = None        # deepest level passed
    attempting: str | None = None   # the level being attempted when this was written
    failed: str | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    done: bool = False              # the child finished its answer (whatever happened to it afterwards)

    def write(self, job_dir: str) -> None:
        """Replace the report atomically. `io.open` is the real `open` even after the child's stand-ins replaced
        `builtins.open`."""
        path = os.path.join(job_dir, REPORT_FILE)
        with io.open(path + ".tmp", "w", encoding="utf-8") as handle:  # noqa: UP020  (see above)
            json.dump(asdict(self), handle)
        os.replace(path + ".tmp", path)

    @classmethod
    def read(cls, job_dir: str) -> ChildReport:
        """The last report the child wrote; an empty one when it wrote none (or it cannot be read)."""
        try:
            with open(os.path.join(job_dir, REPORT_FILE), encoding="utf-8") as handle:
                fields = json.load(handle)
        except (OSError, ValueError):
            return cls()
        if not isinstance(fields, dict):
            return cls()
        level = fields.get("level")
        return cls(level=level if level in LEVELS else None, attempting=fields.get("attempting"),
                   failed=fields.get("failed"), error=fields.get("error"),
                   notes=[str(note) for note in fields.get("notes", [])], done=bool(fields.get("done")))
