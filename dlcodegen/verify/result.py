"""The limits of one verification (`VerifyConfig`), its answer (`VerifyResult`), and how the parent reads the answer
out of the child's report and the way the child ended."""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field

from dlcodegen.core.errors import InputError
from dlcodegen.verify.protocol import LEVELS, STDERR_MEMORY_HINTS, ChildReport, memory_limit_error

WALL_FACTOR, WALL_MARGIN = 2.0, 5.0


@dataclass
class VerifyConfig:
    timeout: float = 120.0    # seconds of CPU time (RLIMIT_CPU); the wall-clock limit is 2 x timeout + 5 s
    memory_mb: int = 8192     # RLIMIT_AS of the child (virtual memory: TF alone reserves ~1.2 GB; see the package)
    network: bool = False     # True: let the project reach the network

    def __post_init__(self) -> None:
        if not self.timeout or self.timeout <= 0:
            raise InputError(f"timeout must be a positive number of seconds, not {self.timeout!r}")
        if int(self.memory_mb) < 64:
            raise InputError(f"memory_mb must be at least 64, not {self.memory_mb!r}")

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
    deepest: str = "train_step"  # the deepest level requested: learns when a task was given

    @property
    def passed(self) -> bool:
        return self.level == self.deepest

    def reached(self, level: str) -> bool:
        """Whether the project passed `level` (the levels are in order)."""
        return self.level is not None and LEVELS.index(self.level) >= LEVELS.index(level)

    @property
    def summary(self) -> str:
        """One line: the deepest level reached and, unless it passed, the level that failed and why."""
        failure = "" if self.passed else f"; failed at {self.failed}: {self.error}"
        return f"reached {self.level or 'nothing'}{failure}"

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class ChildExit:
    """How the child process ended, as the parent saw it."""

    status: int          # exit code; minus the signal number when a signal killed it
    cpu_seconds: float   # user + system CPU time of the child
    timed_out: bool      # killed at the wall-clock limit
    stderr_tail: str     # the end of its stderr (native code's last words)


def outcome(report: ChildReport, ended: ChildExit, config: VerifyConfig, notes: list[str],
            seconds: float, deepest: str = "train_step") -> VerifyResult:
    """The result: the child's own answer when it finished one, else the level it was attempting and why it
    stopped (a limit, the memory, or the project ending the interpreter)."""
    notes = notes + report.notes
    if report.done:
        return VerifyResult(report.level, report.failed, report.error, seconds, notes, deepest)
    level = report.level
    attempting = report.attempting or (LEVELS[LEVELS.index(level) + 1] if level and level != deepest
                                       else LEVELS[0])
    killed_by = -ended.status if ended.status < 0 else None
    if ended.timed_out or killed_by == signal.SIGXCPU or (killed_by == signal.SIGKILL
                                                          and ended.cpu_seconds >= config.timeout):
        error = f"timed out after {config.timeout:g} s"
        notes.append("stopped at the wall-clock limit" if ended.timed_out else "stopped at the CPU-time limit")
    elif killed_by is not None or any(hint in ended.stderr_tail.lower() for hint in STDERR_MEMORY_HINTS):
        error = memory_limit_error(config.memory_mb)
        if killed_by is not None:
            notes.append(f"the child was killed by {signal.Signals(killed_by).name}")
    else:
        last = [line for line in ended.stderr_tail.strip().splitlines() if line.strip()][-1:] or [""]
        error = (f"the project ended the interpreter before verify finished (exit status {ended.status})"
                 + (f": {last[0].strip()[:200]}" if last[0] else ""))
    return VerifyResult(level, attempting, error, seconds, notes, deepest)
