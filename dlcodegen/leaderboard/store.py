"""The append-only leaderboard store: a local folder, safe under concurrent submissions from several processes.

Layout of the folder (`$DLCODEGEN_LEADERBOARD_DIR`, default `$XDG_DATA_HOME/dlcodegen/leaderboard`):

- `entries.jsonl`: one JSON line per entry, only ever appended; each line carries a checksum of its own content
  and the version of the scorer that scored it. Rescoring with a newer scorer appends a newer line for the same
  hash; the latest line of a hash is the one on the board (`current`).
- `submissions/<hash>.jsonl`: the submitted rows of each entry (`{"id", "code"}`), written atomically before its
  entry line, so an entry never points at a missing or partial file.
- `.lock`: the inter-process lock (`filelock`) every writer holds while it checks for duplicates and appends.

A line is appended with one `write` on an `O_APPEND` descriptor and `fsync`ed before the lock is released. A line
cut short by a crash (no final newline) is ignored by readers and trimmed by the next writer under the lock.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlcodegen.core.errors import InputError, ServiceError
from dlcodegen.files import JsonLinesError, iter_jsonl, jsonl_text, read_jsonl, user_data_dir, write_atomic

logger = logging.getLogger(__name__)

LEADERBOARD_DIR_ENV = "DLCODEGEN_LEADERBOARD_DIR"
ENTRIES_FILE = "entries.jsonl"
SUBMISSIONS_DIR = "submissions"
LOCK_FILE = ".lock"
LOCK_TIMEOUT = 120.0  # seconds a writer waits for another before giving up with a clear error
SOURCES = ("paper", "baseline", "submission")


class StoreError(ServiceError):
    """The store cannot be used now: locked too long by another writer, or not writable (the message says why)."""


class CorruptStoreError(StoreError, InputError):
    """A complete line of `entries.jsonl` cannot be read (edited by hand, or damaged): the store needs repair."""


def default_dir(path: str | os.PathLike | None = None) -> Path:
    """`path`, else `$DLCODEGEN_LEADERBOARD_DIR`, else `$XDG_DATA_HOME/dlcodegen/leaderboard`."""
    return user_data_dir(path, LEADERBOARD_DIR_ENV, "leaderboard")


@dataclass
class Entry:
    hash: str  # content hash of the codes (see submission.content_hash)
    method: str
    backbone: str
    date: str  # ISO 8601, UTC
    source: str  # paper | baseline | submission
    scores: dict  # see scoring.Scorer.score; "verify_rate" and "paper_codebleu" where known
    contact: str = ""
    link: str = ""
    items: int = 0
    notes: list[str] = field(default_factory=list)
    scorer: str = ""  # scoring.SCORER_VERSION that computed `scores`; "" on lines written before versions existed

    def record(self) -> dict:
        data = asdict(self)
        return {**data, "checksum": _checksum(data)}

    @classmethod
    def from_record(cls, record: dict) -> "Entry":
        data = {key: value for key, value in record.items() if key != "checksum"}
        return cls(**data)


def _checksum(data: dict) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _codes_text(codes: dict[int, str]) -> str:
    # ASCII-escaped JSON: no character inside a line can be mistaken for a line break by any reader.
    return jsonl_text(({"id": item_id, "code": codes[item_id]} for item_id in sorted(codes)), ensure_ascii=True)


class LeaderboardStore:
    """Reads and appends entries. `write_lock` (e.g. a CommitScheduler's lock) is held around every write too."""

    def __init__(self, directory: str | os.PathLike | None = None, write_lock=None):
        self.directory = default_dir(directory)
        self.entries_path = self.directory / ENTRIES_FILE
        self.submissions_dir = self.directory / SUBMISSIONS_DIR
        self._write_lock = write_lock

    def _file_lock(self):
        from filelock import FileLock

        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.directory / LOCK_FILE), timeout=LOCK_TIMEOUT)

    def entries(self) -> list[Entry]:
        """Every complete entry line, oldest first (a torn last line is skipped)."""
        try:
            data = self.entries_path.read_bytes()
        except FileNotFoundError:
            return []
        entries, number = [], 0
        try:
            for number, record in iter_jsonl(data[:data.rfind(b"\n") + 1].decode("utf-8")):
                if not isinstance(record, dict):
                    raise TypeError("not an object")
                entries.append(Entry.from_record(record))
        except (JsonLinesError, UnicodeDecodeError) as error:
            raise CorruptStoreError(f"{self.entries_path}: {error}; the store needs repair") from None
        except TypeError as error:
            raise CorruptStoreError(f"{self.entries_path}: line {number} is not an entry ({error}); the store needs "
                                    "repair") from None
        return entries

    def current(self) -> list[Entry]:
        """One entry per submission, in the order they were first added: the latest line of each hash."""
        latest: dict[str, Entry] = {}
        for entry in self.entries():
            latest[entry.hash] = entry  # a dict keeps the first insertion's position when a key is reassigned
        return list(latest.values())

    def find(self, content_hash: str) -> Entry | None:
        """The latest line for `content_hash`, or None."""
        return next((entry for entry in reversed(self.entries()) if entry.hash == content_hash), None)

    def codes(self, content_hash: str) -> dict[int, str]:
        return {row["id"]: row["code"] for _, row in read_jsonl(self.submissions_dir / f"{content_hash}.jsonl")}

    def append(self, entry: Entry, codes: dict[int, str]) -> tuple[Entry, bool]:
        """Add `entry` (and its codes) unless an entry with its hash exists: (the entry on the board, added?)."""
        with self._locked():
            existing = self.find(entry.hash)
            if existing is not None:
                return existing, False
            write_atomic(self.submissions_dir / f"{entry.hash}.jsonl", _codes_text(codes))
            self._append_line(entry)
            logger.info("added %s (%s) as %s", entry.method, entry.backbone, entry.hash[:12])
            return entry, True

    def supersede(self, entry: Entry) -> bool:
        """Append `entry` as the newer line of a submission on the board, when its scorer differs from the latest
        line's (so two processes rescoring at once add one line, not two); True if appended."""
        with self._locked():
            existing = self.find(entry.hash)
            if existing is None:
                raise KeyError(f"no entry with hash {entry.hash[:12]} to supersede")
            if existing.scorer == entry.scorer:
                return False
            self._append_line(entry)
            logger.info("superseded %s: scorer %r -> %r", entry.hash[:12], existing.scorer, entry.scorer)
            return True

    @contextmanager
    def _locked(self):
        from filelock import Timeout

        try:
            with self._file_lock(), (self._write_lock or nullcontext()):
                logger.debug("holding the lock of %s", self.directory)
                yield
        except Timeout:
            raise StoreError(f"the leaderboard store {self.directory} stayed locked for {LOCK_TIMEOUT:.0f} s; "
                             "try again") from None
        except OSError as error:
            raise StoreError(f"cannot write the leaderboard store {self.directory}: {error.strerror}") from None

    def _append_line(self, entry: Entry) -> None:
        self._trim_torn_tail()
        handle = os.open(self.entries_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(handle, jsonl_text([entry.record()], ensure_ascii=True).encode("utf-8"))
            os.fsync(handle)
        finally:
            os.close(handle)

    def _trim_torn_tail(self) -> None:
        """Drop a last line a crashed writer left without its newline (only ever called under the lock)."""
        try:
            data = self.entries_path.read_bytes()
        except FileNotFoundError:
            return
        if data and not data.endswith(b"\n"):
            logger.info("%s: trimming a last line a crashed writer left without its newline", self.entries_path)
            with open(self.entries_path, "r+b") as handle:
                handle.truncate(data.rfind(b"\n") + 1)

    def check_integrity(self) -> list[str]:
        """Problems found (empty when sound): unreadable lines, bad checksums, a hash scored twice by the same scorer,
        submission files missing or not matching their hash."""
        from dlcodegen.leaderboard.submission import content_hash

        problems: list[str] = []
        seen: set[tuple[str, str]] = set()
        try:
            data = self.entries_path.read_bytes()
        except FileNotFoundError:
            return problems
        if data and not data.endswith(b"\n"):
            problems.append("the last line of entries.jsonl is incomplete")
        for number, line in enumerate(data.decode("utf-8", "replace").split("\n")[:-1], start=1):
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TypeError("not an object")
                entry = Entry.from_record(record)
            except (ValueError, TypeError) as error:
                problems.append(f"line {number}: unreadable ({error})")
                continue
            # over the line as written: lines from before a field existed stay valid
            if record.get("checksum") != _checksum({key: value for key, value in record.items() if key != "checksum"}):
                problems.append(f"line {number}: checksum mismatch")
            if (entry.hash, entry.scorer) in seen:
                problems.append(f"line {number}: duplicate hash {entry.hash[:12]}")
            seen.add((entry.hash, entry.scorer))
            try:
                if content_hash(self.codes(entry.hash)) != entry.hash:
                    problems.append(f"line {number}: submission file does not match hash {entry.hash[:12]}")
            except (OSError, ValueError, KeyError):
                problems.append(f"line {number}: submission file for {entry.hash[:12]} missing or unreadable")
        return problems
