"""The state of the one verification a child process runs, passed explicitly to everything that reads or changes it:
the level reached, the notes, what the stand-ins made up (phantom paths, guessed columns) and the training outcome."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

from dlcodegen.verify.protocol import LEVELS, ChildReport, Job, deepest_level

MAX_NOTES = 40


class StopAfterTrainStep(BaseException):
    """Raised through the project's code once the synthetic training step succeeded (a BaseException, so that the
    project's own `except Exception` blocks cannot swallow it)."""


class TrainStepFailed(BaseException):
    """Raised through the project's code when the synthetic training step failed; carries the real error."""

    def __init__(self, error: BaseException):
        super().__init__(str(error))
        self.error = error


@dataclass
class DataGuess:
    """What the project's code says about the data it expects (read from its syntax tree by `guess.scan_code`)."""

    columns: list[str] = field(default_factory=list)                 # column names, in the order the code uses
    text_columns: set[str] = field(default_factory=set)              # columns used with .str / .lower / .split
    column_literals: dict[str, list] = field(default_factory=dict)   # column -> constants it is compared with
    image_ext: str = ".png"                                          # the image file extension the code expects


@dataclass
class Run:
    """One verification: the job, the levels reached, the notes and the stand-ins' bookkeeping."""

    job: Job
    job_dir: str
    synthetic_root: str                   # where synthetic folders are made (under the child's working directory)
    passed: str | None = None             # deepest level passed
    notes: list[str] = field(default_factory=list)
    guess: DataGuess = field(default_factory=DataGuess)
    phantom_dirs: set[str] = field(default_factory=set)    # missing paths a stand-in listed as folders
    phantom_files: set[str] = field(default_factory=set)   # ... and as files
    last_model: object = None             # the last Keras model compiled (or built) by the project
    train_done: bool = False
    train_failure: TrainStepFailed | None = None  # kept even if the project swallows it with a bare `except:`
    original_train_on_batch: object = None  # Model.train_on_batch before the Keras stand-ins replaced it
    patched: set[str] = field(default_factory=set)          # libraries whose stand-ins are installed
    replacements: dict[int, tuple[object, object]] = field(default_factory=dict)  # id(original) -> (orig, stand-in)
    scanned_modules: set[str] = field(default_factory=set)  # modules already rebound to the replacements

    @property
    def filename(self) -> str:
        """The file name the project's code object carries: its frames are recognised by it."""
        return self.job.code_path

    @property
    def deepest(self) -> str:
        return deepest_level(self.job.task is not None)

    @property
    def attempting(self) -> str | None:
        index = LEVELS.index(self.passed) + 1 if self.passed else 0
        return LEVELS[index] if index <= LEVELS.index(self.deepest) else None

    def note(self, text: str) -> None:
        if text not in self.notes and len(self.notes) < MAX_NOTES:
            self.notes.append(text)

    def reach(self, level: str) -> None:
        if self.passed is None or LEVELS.index(level) > LEVELS.index(self.passed):
            self.passed = level
            self.write()

    def write(self, failed: str | None = None, error: str | None = None, done: bool = False) -> None:
        ChildReport(level=self.passed, attempting=self.attempting, failed=failed, error=error, notes=self.notes,
                    done=done).write(self.job_dir)

    def from_project(self, depth: int = 2) -> bool:
        """Whether the caller `depth` frames up is the project's own code (stand-ins only serve the project): 2 is
        the caller of the stand-in that asks."""
        try:
            return sys._getframe(depth).f_code.co_filename == self.filename
        except ValueError:
            return False

    def model_built(self, model) -> None:
        self.last_model = model
        self.reach("model_built")


def new_run(job: Job, job_dir: str) -> Run:
    return Run(job=job, job_dir=job_dir, synthetic_root=os.path.join(os.getcwd(), "_verify_synthetic"))
