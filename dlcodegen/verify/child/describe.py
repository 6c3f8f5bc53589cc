"""Errors as verify reports them: one line, ``ExceptionType: message (line N)``, N in the project's file, its path
shown by its display name; a failed allocation as the memory-limit line."""

from __future__ import annotations

import os

from dlcodegen.core import text as core_text
from dlcodegen.verify.child.state import Run
from dlcodegen.verify.protocol import EXCEPTION_MEMORY_HINTS, memory_limit_error


def one_line(run: Run, text, limit: int = 400) -> str:
    """`text` on one line of at most `limit` characters, without colour codes, the project's path shown by its
    display name."""
    shown = str(text).replace(run.filename, run.job.display_name or os.path.basename(run.filename))
    return core_text.one_line(shown, limit)


def project_line(run: Run, tb) -> int | None:
    """The line of the project's file deepest in the traceback `tb` (None when the project is not in it)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == run.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def is_memory_error(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    name = type(error).__name__
    return name == "ResourceExhaustedError" or any(hint in str(error).lower() for hint in EXCEPTION_MEMORY_HINTS)


def describe(run: Run, error: BaseException, line: int | None) -> str:
    if is_memory_error(error):
        return memory_limit_error(run.job.memory_mb)
    message = one_line(run, str(error))
    text = f"{type(error).__name__}: {message}" if message else type(error).__name__
    if line is not None:
        text += f" (line {line})"
    return text


def describe_raised(run: Run, error: BaseException) -> str:
    """`describe` at the project's line of the error's own traceback."""
    return describe(run, error, project_line(run, error.__traceback__))
