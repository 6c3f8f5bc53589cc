"""The file to verify: its checks (one clear line for each way it cannot be used) and its text.

Notebooks are read by the package's one notebook reader (`dlcodegen.analysis.source.notebook_code`), in its verbatim
layout: the line numbers that verify reports are those of the code cells joined as written.
"""

from __future__ import annotations

from pathlib import Path

from dlcodegen.core.errors import InputError

MAX_FILE_BYTES = 2 * 1024 * 1024


class VerifyInputError(InputError):
    """The file or code to verify cannot be used (missing, empty, binary, not UTF-8, too large): one clear line."""


def read_source(path) -> str:
    """The text of a file to verify (the code cells of an .ipynb), or VerifyInputError with one clear line."""
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
        # Imported here: every verify child imports this package, and the analysis package is not small.
        from dlcodegen.analysis.source import notebook_code

        try:
            text = notebook_code(text, verbatim=True)
        except InputError as error:
            raise VerifyInputError(f"{file}: is {error}") from None
    if not text.strip():
        raise VerifyInputError(f"{file}: is empty")
    return text
