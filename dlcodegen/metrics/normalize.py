'''The DLCodeGen paper's post-processing of code before CodeBLEU (Table II), and the alternatives we compared.

The paper's artifact describes the post-processing in one sentence: comments and `"""` blocks removed, markdown
fences removed, the code formatted with black (line length 210), joined onto one line, and spaces put around
special characters (strings and floats kept intact). `normalize="dlcodegen"` (the default) reads it literally,
as a script working on the raw answer as plain text would, applied to predictions and references alike:

1. **Fence lines deleted in place**: every line whose stripped text starts with three backticks goes; the prose
   around the code stays.
2. **Comments removed line by line**: a line whose stripped text starts with `"""` toggles a skipped block (the
   line itself is dropped); on every other line `#` and everything after it is removed, even inside a string.
3. **black** at line length 210; text black cannot parse (prose, notebook magics, a string cut by step 2) is kept
   as it is and counted as unformatted.
4. **One line**: lines stripped, empty lines dropped, the rest joined with single spaces.
5. **Spaces around special characters**: string literals are found on the joined line by a simple non-greedy
   quote regex and kept as one token each, their inner spaces replaced by underscores; everything between them is
   split into numbers (`0.001`, `1e-4` whole), identifiers and single special characters, joined with spaces.

`dlcodegen-principled` is a cleaner reading of the same sentence: the fenced code extracted
(`dlcodegen.extract.extract_code`), comments removed with CodeXGLUE's tokenizer-based remover, black at 210, one
line, string literals kept whole by a Python-aware string pattern (their spaces kept).
`dlcodegen-principled-split-strings` is the same with string literals not protected. The metric card
(evaluate_metrics/codebleu/README.md) gives the measured effect of every step on Table II.
'''

from __future__ import annotations

import re
from dataclasses import dataclass

from dlcodegen.extract import extract_code

BLACK_LINE_LENGTH = 210
DEFAULT_NORMALIZATION = "dlcodegen"
NORMALIZATIONS = ("none", DEFAULT_NORMALIZATION, "dlcodegen-principled", "dlcodegen-principled-split-strings")

_STRING = r"""(?:[rRbBfFuU]{1,2})?(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')"""
_NUMBER = r"\d+\.\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|\d+(?:[eE][+-]?\d+)?"
_TOKENS = re.compile(rf"{_STRING}|{_NUMBER}|\w+|\S")
_TOKENS_SPLIT_STRINGS = re.compile(rf"{_NUMBER}|\w+|\S")
_FENCE_MARKER = re.compile(r"^\s*```")
_QUOTED = re.compile(r"\"(?:.*?)\"|'(?:.*?)'")  # the default's simple non-greedy string finder


@dataclass(frozen=True)
class NormalizedCode:
    text: str
    black_formatted: bool


# ---------------------------------------------------------------------------------------------------------------
# The steps of the default (`dlcodegen`)


def delete_fence_lines(text: str) -> str:
    """Step 1: the lines that open or close a markdown fence deleted in place; everything else (prose too) kept."""
    return "\n".join(line for line in text.split("\n") if not _FENCE_MARKER.match(line))


def strip_comments_by_line(text: str) -> str:
    """Step 2: a line starting with `\"\"\"` toggles a skipped block; on other lines `#` and all after it go, even
    inside a string."""
    kept, skipping = [], False
    for line in text.split("\n"):
        if line.strip().startswith('"""'):
            skipping = not skipping
            continue
        if not skipping:
            kept.append(line.split("#", 1)[0])
    return "\n".join(kept)


def black_format(code: str) -> tuple[str, bool]:
    """Step 3: black at line length 210; `(code, False)` unchanged when black cannot parse it."""
    import black

    try:
        return black.format_str(code, mode=black.Mode(line_length=BLACK_LINE_LENGTH)), True
    except Exception:  # noqa: BLE001 - black raises several types for code it cannot parse
        return code, False


def join_lines(text: str) -> str:
    """Step 4: lines stripped, empty ones dropped, the rest joined with single spaces."""
    return " ".join(line.strip() for line in text.split("\n") if line.strip())


def space_specials(code: str, split_strings: bool = False) -> str:
    """Numbers, identifiers and single special characters (and, unless `split_strings`, Python string literals
    kept whole) joined with single spaces."""
    tokens = (_TOKENS_SPLIT_STRINGS if split_strings else _TOKENS).findall(code)
    return " ".join(tokens)


def space_specials_underscoring_strings(one_line: str, underscore: bool = True) -> str:
    """Step 5: strings found by a non-greedy quote regex, kept whole with their spaces made underscores
    (`underscore=False`: spaces kept); everything between them spaced like `space_specials`."""
    pieces, position = [], 0
    for match in _QUOTED.finditer(one_line):
        pieces.append(space_specials(one_line[position:match.start()], split_strings=True))
        pieces.append(match.group(0).replace(" ", "_") if underscore else match.group(0))
        position = match.end()
    pieces.append(space_specials(one_line[position:], split_strings=True))
    return " ".join(piece for piece in pieces if piece)


def normalize_dlcodegen(code: str) -> NormalizedCode:
    """The default: the paper's post-processing applied to the raw answer as plain text (steps 1-5)."""
    text, formatted = black_format(strip_comments_by_line(delete_fence_lines(code or "")))
    return NormalizedCode(space_specials_underscoring_strings(join_lines(text)), formatted)


# ---------------------------------------------------------------------------------------------------------------
# The principled reading (`dlcodegen-principled`, `dlcodegen-principled-split-strings`)


def remove_comments(code: str) -> str:
    """Comments and docstrings out (CodeXGLUE's tokenizer-based remover; a regex fallback for invalid Python)."""
    from codebleu.parser import remove_comments_and_docstrings

    try:
        return remove_comments_and_docstrings(code, "python")
    except Exception:  # noqa: BLE001 - tokenize rejects many generated snippets
        code = re.sub(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'', "", code)
        return re.sub(r"(?m)^[ \t]*#.*$", "", code)


def normalize_principled(code: str, split_strings: bool = False) -> NormalizedCode:
    """Fenced code extracted, CodeXGLUE's comment remover, black, one line, strings kept whole (or split)."""
    text, formatted = black_format(remove_comments(extract_code(code or "")))
    return NormalizedCode(space_specials(join_lines(text), split_strings), formatted)


def normalize(code: str, mode: str = DEFAULT_NORMALIZATION) -> NormalizedCode:
    """`code` after normalisation `mode`, one of NORMALIZATIONS."""
    if mode == "none":
        return NormalizedCode(code or "", False)
    if mode == "dlcodegen":
        return normalize_dlcodegen(code)
    if mode == "dlcodegen-principled":
        return normalize_principled(code)
    if mode == "dlcodegen-principled-split-strings":
        return normalize_principled(code, split_strings=True)
    raise ValueError(f"unknown normalize={mode!r}; choose one of {', '.join(NORMALIZATIONS)}")
