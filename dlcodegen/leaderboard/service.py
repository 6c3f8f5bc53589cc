"""The one entry point the CLI and the Space call: open the board, seed it, submit, show.

A submission is validated before anything else (`validate_file`), so an invalid file is refused at once even on a
store that still has to be seeded; then the caller seeds if needed (`ensure_seeded`) and `add`s it. `submit_file`
does both steps."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from dlcodegen.leaderboard.board import DEFAULT_SORT, board_rows
from dlcodegen.leaderboard.execution import Executions, execution_enabled, seed_rates
from dlcodegen.leaderboard.scoring import SCORER_VERSION, Scorer, ScoringConfig
from dlcodegen.leaderboard.store import Entry, LeaderboardStore
from dlcodegen.leaderboard.submission import (MissingSubmissionError, Submission, SubmissionLimits, check_file_size,
                                              check_meta, content_hash, read_submission)

logger = logging.getLogger(__name__)
SEEDING_NOTICE = ("seeding a fresh leaderboard in {directory}: scoring the paper's 10 generation sets and 3 baselines "
                  "(first use only, about 2 minutes)")


@dataclass
class LeaderboardConfig:
    directory: str | Path | None = None  # None: $DLCODEGEN_LEADERBOARD_DIR, else the default folder
    data_path: str | Path | None = None  # built datasets (DLCodeEval, the pool, the paper's generations)
    limits: SubmissionLimits = field(default_factory=SubmissionLimits)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    execute: bool = field(default_factory=execution_enabled)  # new entries get an execution request (worker)


@dataclass(frozen=True)
class SubmitResult:
    entry: Entry
    added: bool  # False: the same content was already on the board

    @property
    def message(self) -> str:
        scores = self.entry.scores
        if not self.added:
            return (f"already on the board: the same generations were submitted as {self.entry.method} "
                    f"({self.entry.backbone}) on {self.entry.date[:10]}; nothing added")
        return (f"added {self.entry.method} ({self.entry.backbone}): CodeBLEU {scores['codebleu']:.2f}, "
                f"length-calibrated {scores['calibrated_codebleu']:+.2f}, mean lines {scores['mean_lines']:.0f} "
                f"(references {scores['reference_mean_lines']:.0f}); hash {self.entry.hash[:12]}")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Leaderboard:
    def __init__(self, config: LeaderboardConfig | None = None, write_lock=None, scorer: Scorer | None = None):
        self.config = config or LeaderboardConfig()
        self.store = LeaderboardStore(self.config.directory, write_lock=write_lock)
        self._scorer, self._scorer_lock = scorer, threading.Lock()
        self._ids: list[int] | None = scorer.ids if scorer else None

    @property
    def ids(self) -> list[int]:
        """DLCodeEval's ids: what a submission must cover (read without building the scorer)."""
        if self._ids is None:
            from dlcodegen.data import load_local

            self._ids = list(load_local("dlcodeeval", split="test", path=self.config.data_path)["id"])
        return self._ids

    @property
    def scorer(self) -> Scorer:
        """Built on first use: DLCodeEval's references prepared once, then every submission reuses them."""
        with self._scorer_lock:
            if self._scorer is None:
                self._scorer = Scorer.from_data(self.config.data_path, self.config.scoring)
            return self._scorer

    @property
    def executions(self) -> Executions:
        return Executions(self.store)

    def rows(self, sort: str = DEFAULT_SORT) -> list[dict]:
        return board_rows(self.store.current(), self.executions.status(), seed_rates(), sort)

    def stale(self) -> list[Entry]:
        """Entries on the board scored by another scorer version than this one (see `rescore`)."""
        return [entry for entry in self.store.current() if entry.scorer != SCORER_VERSION]

    def rescore(self, progress: bool = True) -> int:
        """Score the stored code of every stale entry again and append the result as its newer line (method,
        backbone, date, contact and the seed rows' verify rate and paper CodeBLEU kept); returns entries rescored."""
        from tqdm.auto import tqdm

        rescored = 0
        for entry in tqdm(self.stale(), desc="rescoring", disable=not progress):
            scores = {**entry.scores, **self.scorer.score(self.store.codes(entry.hash))}
            note = f"rescored {_now()[:10]} by scorer {SCORER_VERSION} (was {entry.scorer or 'unversioned'})"
            newer = replace(entry, scores=scores, scorer=SCORER_VERSION, notes=[*entry.notes, note])
            rescored += self.store.supersede(newer)
        logger.info("rescored %d entries with scorer %s", rescored, SCORER_VERSION)
        return rescored

    def validate(self, data: bytes, method, backbone, contact="", link="") -> Submission:
        """The submission read and checked; `SubmissionError` (one line) if invalid. Touches neither the store nor
        the scorer, so it answers at once even on a store that is not seeded yet."""
        meta = check_meta(method, backbone, contact, link, self.config.limits)
        return read_submission(data, meta, self.ids, self.config.limits)

    def validate_file(self, path: str | Path, method, backbone, contact="", link="") -> Submission:
        path = Path(path)
        if not path.is_file():
            raise MissingSubmissionError(f"{path}: no such file")
        check_file_size(path.stat().st_size, self.config.limits)  # before reading a file of any size
        return self.validate(path.read_bytes(), method, backbone, contact, link)

    def add(self, submission: Submission) -> SubmitResult:
        """Score and append a validated submission (nothing added when the same content is on the board)."""
        existing = self.store.find(submission.content_hash)
        if existing is not None:
            return SubmitResult(existing, False)
        meta = submission.meta
        entry = Entry(submission.content_hash, meta.method, meta.backbone, _now(), "submission",
                      self.scorer.score(submission.codes), meta.contact, meta.link, len(submission.codes),
                      scorer=SCORER_VERSION)
        result = SubmitResult(*self.store.append(entry, submission.codes))
        if result.added and self.config.execute:
            self.executions.request(entry.hash)  # verified by `dlcodegen leaderboard worker`, never here
        return result

    def submit(self, data: bytes, method, backbone, contact="", link="") -> SubmitResult:
        """Validate, score and append; `SubmissionError` (one line) for invalid input, the store untouched."""
        return self.add(self.validate(data, method, backbone, contact, link))

    def submit_file(self, path: str | Path, method, backbone, contact="", link="") -> SubmitResult:
        return self.add(self.validate_file(path, method, backbone, contact, link))

    @property
    def seeded(self) -> bool:
        """Whether the store has been seeded (it has an entries file: seeding writes it first)."""
        return self.store.entries_path.exists()

    def ensure_seeded(self, on_notice: Callable[[str], None] | None = None, progress: bool = True) -> int:
        """Seed a fresh store (see `seed`), telling `on_notice` first in one line (it takes about 2 minutes);
        entries added, 0 when the store was seeded already. The one check front ends call."""
        if self.seeded:
            return 0
        if on_notice is not None:
            on_notice(SEEDING_NOTICE.format(directory=self.store.directory))
        return self.seed(progress)

    def seed(self, progress: bool = True) -> int:
        """On a fresh store, add the paper's generation sets and the no-LLM baselines; returns entries added."""
        from tqdm.auto import tqdm

        from dlcodegen.leaderboard.seed import baseline_sets, measured_verify_rates, paper_sets

        if self.seeded:
            return 0
        verify_rates = measured_verify_rates()
        sets = paper_sets(self.config.data_path) + baseline_sets(self.scorer.pool, self.config.data_path, progress)
        added = 0
        for seed_set in tqdm(sets, desc="scoring the seed rows", disable=not progress):
            scores = self.scorer.score(seed_set.codes)
            scores["verify_rate"] = verify_rates.get(f"{seed_set.backbone}/{seed_set.method}")
            scores["paper_codebleu"] = seed_set.paper_codebleu
            entry = Entry(content_hash(seed_set.codes), seed_set.method, seed_set.backbone, _now(), seed_set.source,
                          scores, items=len(seed_set.codes), notes=[seed_set.note], scorer=SCORER_VERSION)
            added += self.store.append(entry, seed_set.codes)[1]
        logger.info("seeded %d entries in %s", added, self.store.directory)
        return added
