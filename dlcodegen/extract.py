"""Pull the code out of an LLM answer: the contents of its markdown fences, without the surrounding prose."""

from __future__ import annotations

import re

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.S)
_CODE_LANGUAGES = {"", "python", "py", "python3", "ipython", "py3"}


def extract_code(text: str, language: str = "python") -> str:
    """The code of an answer: all fenced blocks tagged `language` (or untagged), joined; the text if it has none.

    An unterminated last fence (a truncated answer) runs to the end of the text. Blocks tagged with another
    language (`bash`, `json`, ...) are skipped unless they are the only blocks.
    """
    if text is None:
        return ""
    blocks = [(tag.lower(), body) for _, tag, body in _FENCE.findall(text)]
    if not blocks:
        return text.strip("\n")
    wanted = _CODE_LANGUAGES if language == "python" else {"", language.lower()}
    chosen = [body for tag, body in blocks if tag in wanted] or [body for _, body in blocks]
    return "\n\n".join(body.strip("\n") for body in chosen)
