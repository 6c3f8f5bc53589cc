"""The DLCodeGen paper's post-processing of code before CodeBLEU (Table II).

Steps, in order: take the code out of markdown fences; remove comments and docstrings; format with black at line
length 210 (code black cannot parse stays unformatted and is counted); join all lines onto one line; put spaces
around special characters, keeping string literals and numbers such as `0.001` whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dlcodegen.extract import extract_code

BLACK_LINE_LENGTH = 210
NORMALIZATIONS = ("none", "dlcodegen", "dlcodegen-split-strings", "dlcodegen-literal")

_STRING = r"""(?:[rRbBfFuU]{1,2})?(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')"""
_NUMBER = r"\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?"
_TOKENS = re.compile(rf"{_STRING}|{_NUMBER}|\w+|\S")
_TOKENS_SPLIT_STRINGS = re.compile(rf"{_NUMBER}|\w+|\S")
_FENCE_MARKER = re.compile(r"^\s*```")
_QUOTED = re.compile(r"\"(?:.*?)\"|'(?:.*?)'")  # the literal reading's simple non-greedy string finder


@dataclass(frozen=True)
class NormalizedCode:
    text: str
    black_formatted: bool


def remove_comments(code: str) -> str:
    """Comments and docstrings out (CodeXGLUE's tokenizer-based remover; a regex fallback for invalid Python)."""
    from codebleu.parser import remove_comments_and_docstrings

    try:
        return remove_comments_and_docstrings(code, "python")
    except Exception:  # noqa: BLE001 - tokenize rejects many generated snippets
        code = re.sub(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'', "", code)
        return re.sub(r"(?m)^[ \t]*#.*$", "", code)


def black_format(code: str) -> tuple[str, bool]:
    import black

    try:
        return black.format_str(code, mode=black.Mode(line_length=BLACK_LINE_LENGTH)), True
    except Exception:  # noqa: BLE001 - black raises several types for code it cannot parse
        return code, False


def space_specials(code: str, split_strings: bool = False) -> str:
    tokens = (_TOKENS_SPLIT_STRINGS if split_strings else _TOKENS).findall(code)
    return " ".join(tokens)


def normalize_dlcodegen(code: str, split_strings: bool = False) -> NormalizedCode:
    """Apply the paper's normalisation to one document."""
    text = remove_comments(extract_code(code or ""))
    text, formatted = black_format(text)
    one_line = " ".join(line.strip() for line in text.split("\n") if line.strip())
    return NormalizedCode(space_specials(one_line, split_strings), formatted)


def strip_lines_literally(text: str) -> str:
    """The literal reading's line pass: fence marker lines deleted in place (prose kept), a line starting with
    `\"\"\"` toggles a skipped block, and on every other line `#` and all after it go, even inside a string."""
    kept, skipping = [], False
    for line in text.split("\n"):
        if _FENCE_MARKER.match(line):
            continue
        if line.strip().startswith('"""'):
            skipping = not skipping
            continue
        if not skipping:
            kept.append(line.split("#", 1)[0])
    return "\n".join(kept)


def space_specials_literally(one_line: str) -> str:
    """Strings found by a non-greedy quote regex on the joined line, their spaces made underscores, kept whole;
    everything between them spaced like `space_specials`."""
    pieces, position = [], 0
    for match in _QUOTED.finditer(one_line):
        pieces.append(space_specials(one_line[position:match.start()], split_strings=True))
        pieces.append(match.group(0).replace(" ", "_"))
        position = match.end()
    pieces.append(space_specials(one_line[position:], split_strings=True))
    return " ".join(piece for piece in pieces if piece)


def normalize_literal(code: str) -> NormalizedCode:
    """The paper's post-processing applied to the raw answer as plain text (see the metric card)."""
    text, formatted = black_format(strip_lines_literally(code or ""))
    one_line = " ".join(line.strip() for line in text.split("\n") if line.strip())
    return NormalizedCode(space_specials_literally(one_line), formatted)


def normalize(code: str, mode: str) -> NormalizedCode:
    if mode == "none":
        return NormalizedCode(code or "", False)
    if mode == "dlcodegen":
        return normalize_dlcodegen(code)
    if mode == "dlcodegen-split-strings":
        return normalize_dlcodegen(code, split_strings=True)
    if mode == "dlcodegen-literal":
        return normalize_literal(code)
    raise ValueError(f"unknown normalize={mode!r}; choose one of {', '.join(NORMALIZATIONS)}")
