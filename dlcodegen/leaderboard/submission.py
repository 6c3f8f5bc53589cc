"""Submission validation: a JSON Lines file of `{"id": int, "code": str}` (what `dlcodegen bench` writes) covering
every DLCodeEval id exactly once, plus who submitted it. Each problem is one clear line; nothing is executed.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from dlcodegen.core.errors import InputError, MissingError
from dlcodegen.files import JsonLinesError, iter_jsonl
from dlcodegen.predictions import ids_text


class SubmissionError(InputError):
    """The submission is not accepted; the message is one line naming the problem."""


class MissingSubmissionError(SubmissionError, MissingError):
    """The submitted file is not there."""


@dataclass(frozen=True)
class SubmissionLimits:
    max_file_bytes: int = 4_000_000  # 46 items of the longest reference (~26 kB) fit 3x over
    max_item_bytes: int = 200_000
    max_name_chars: int = 60  # method and backbone
    max_contact_chars: int = 100
    max_link_chars: int = 300


@dataclass(frozen=True)
class SubmissionMeta:
    method: str
    backbone: str
    contact: str = ""
    link: str = ""


@dataclass(frozen=True)
class Submission:
    meta: SubmissionMeta
    codes: dict[int, str]  # id -> code, every expected id
    content_hash: str


_NAME = re.compile(r"^[\w .+\-/()\[\]:@#&,']+$")
_LINK = re.compile(r"^https?://[^\s<>\"'`\\]+$")
_OPTIONAL_ROW_KEYS = {"plan", "task", "verify", "verify_before_repair"}  # what `bench` adds; not used for scoring


def content_hash(codes: dict[int, str]) -> str:
    """sha256 of the codes in id order: the same generations under another name are the same submission."""
    digest = hashlib.sha256()
    for item_id in sorted(codes):
        digest.update(json.dumps([item_id, codes[item_id]], ensure_ascii=False).encode("utf-8") + b"\n")
    return digest.hexdigest()


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for char in text)


def _check_name(label: str, value, limit: int, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise SubmissionError(f"{label} must be text")
    if not text:
        if required:
            raise SubmissionError(f"{label} is required")
        return ""
    if len(text) > limit:
        raise SubmissionError(f"{label} is too long ({len(text)} characters; at most {limit})")
    if _has_control(text):
        raise SubmissionError(f"{label} contains control or invisible characters")
    return text


def check_meta(method, backbone, contact="", link="", limits: SubmissionLimits = SubmissionLimits()) -> SubmissionMeta:
    method = _check_name("method", method, limits.max_name_chars, required=True)
    backbone = _check_name("backbone", backbone, limits.max_name_chars, required=True)
    for label, value in (("method", method), ("backbone", backbone)):
        if not _NAME.match(value):
            raise SubmissionError(f"{label} may use letters, digits, spaces and . + - / ( ) [ ] : @ # & , ' only")
    contact = _check_name("contact", contact, limits.max_contact_chars, required=False)
    if re.search(r"[<>`]", contact):
        raise SubmissionError("contact may not contain < > or `")
    link = _check_name("link", link, limits.max_link_chars, required=False)
    if link and not _LINK.match(link):
        raise SubmissionError("link must be an http:// or https:// URL without spaces or quotes")
    return SubmissionMeta(method, backbone, contact, link)


def check_file_size(size: int, limits: SubmissionLimits) -> None:
    if size > limits.max_file_bytes:
        raise SubmissionError(f"the file is too large ({size:,} bytes; at most {limits.max_file_bytes:,})")


def _text(data: bytes, limits: SubmissionLimits) -> str:
    if not data.strip():
        raise SubmissionError("the file is empty: expected JSON Lines of {\"id\": int, \"code\": str}")
    check_file_size(len(data), limits)
    if b"\x00" in data:
        raise SubmissionError("the file is binary (it contains NUL bytes): expected UTF-8 JSON Lines text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"the file is not UTF-8 text (invalid byte at offset {error.start})") from None


def _row(row, number: int, limits: SubmissionLimits) -> tuple[int, str]:
    if not isinstance(row, dict) or "id" not in row or "code" not in row:
        raise SubmissionError(f'line {number}: each line must be an object with "id" and "code"')
    unknown = set(row) - {"id", "code"} - _OPTIONAL_ROW_KEYS
    if unknown:
        raise SubmissionError(f"line {number}: unexpected key(s) {', '.join(sorted(map(repr, unknown)))}; "
                              'rows hold "id" and "code"')
    item_id, code = row["id"], row["code"]
    if isinstance(item_id, bool) or not isinstance(item_id, int):
        raise SubmissionError(f"line {number}: id must be an integer, got {json.dumps(item_id)[:40]}")
    if not isinstance(code, str):
        raise SubmissionError(f"line {number}: code must be a string (item {item_id})")
    if "\x00" in code:
        raise SubmissionError(f"line {number}: the code of item {item_id} contains NUL characters")
    size = len(code.encode("utf-8", "surrogatepass"))
    if size > limits.max_item_bytes:
        raise SubmissionError(f"line {number}: the code of item {item_id} is too large ({size:,} bytes; at most "
                              f"{limits.max_item_bytes:,})")
    try:
        code.encode("utf-8")
    except UnicodeEncodeError:
        raise SubmissionError(f"line {number}: the code of item {item_id} holds unpaired surrogates "
                              "(not UTF-8 text)") from None
    return item_id, code


def parse_codes(data: bytes, expected_ids: Iterable[int],
                limits: SubmissionLimits = SubmissionLimits()) -> dict[int, str]:
    """`{id: code}` for exactly the expected ids, or `SubmissionError` for the first problem."""
    expected = sorted(set(expected_ids))
    codes: dict[int, str] = {}
    first_line: dict[int, int] = {}
    try:
        for number, row in iter_jsonl(_text(data, limits)):
            item_id, code = _row(row, number, limits)
            if item_id in codes:
                raise SubmissionError(f"line {number}: duplicate id {item_id} (first on line {first_line[item_id]})")
            if item_id not in expected:
                raise SubmissionError(f"line {number}: unknown id {item_id}; DLCodeEval ids are "
                                      f"{expected[0]}..{expected[-1]}")
            codes[item_id], first_line[item_id] = code, number
    except JsonLinesError as error:
        raise SubmissionError(str(error)) from None
    missing = sorted(set(expected) - set(codes))
    if missing:
        raise SubmissionError(f"{len(missing)} DLCodeEval id(s) missing: {ids_text(missing)} (every id "
                              f"{expected[0]}..{expected[-1]} exactly once)")
    if not any(code.strip() for code in codes.values()):
        raise SubmissionError("every item's code is empty")
    return codes


def read_submission(data: bytes, meta: SubmissionMeta, expected_ids: Iterable[int],
                    limits: SubmissionLimits = SubmissionLimits()) -> Submission:
    codes = parse_codes(data, expected_ids, limits)
    return Submission(meta, codes, content_hash(codes))


def escape_markdown(text: str) -> str:
    """`text` shown literally in Markdown (and so in HTML): every markup character escaped, no autolinks."""
    import html

    # ":" and "." are escaped too so that renderers that autolink bare URLs (GFM) see no "https://" or "www.".
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~>:])", r"\\\1", html.escape(text, quote=False))
