"""Messages shown to people: one line of an error, and secrets taken out of any text before it is shown or kept."""

from __future__ import annotations

import os
import re

API_KEY_ENV = "OPENAI_API_KEY"  # the one place the LLM key comes from (never a flag, a file or the cache)
SECRET_MIN_CHARS = 4  # shorter values would blank out ordinary text
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def one_line(text: object, limit: int | None = None) -> str:
    """`text` on one line (whitespace and terminal colours collapsed), cut to `limit` characters with "..."."""
    line = " ".join(_ANSI.sub("", str(text)).split())
    return line if limit is None or len(line) <= limit else line[: limit - 3] + "..."


def error_line(error: BaseException, limit: int | None = None) -> str:
    """`ExceptionType: the first line of its message`."""
    lines = str(error).strip().splitlines()
    return one_line(f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": "), limit)


def redact(text: str, *secrets: str | None) -> str:
    """`text` with the LLM key (`$OPENAI_API_KEY`, when set) and each of `secrets` (a Hub token...) replaced by
    `***`. Values shorter than SECRET_MIN_CHARS are left alone."""
    for secret in (os.environ.get(API_KEY_ENV), *secrets):
        if secret and len(secret) >= SECRET_MIN_CHARS:
            text = text.replace(secret, "***")
    return text
