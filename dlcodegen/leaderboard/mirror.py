"""The optional Hub copy of the store: a `huggingface_hub.CommitScheduler` pushing the folder to a dataset repo.

Created only when both a token and a repo id are configured: the scheduler contacts the Hub when it is constructed
and cannot exist offline. The token is passed straight to the scheduler and never logged or shown.
"""

from __future__ import annotations

import logging
import os

logger = logging.getLogger(__name__)

REPO_ENV = "DLCODEGEN_LEADERBOARD_REPO"
TOKEN_ENV = "HF_TOKEN"
EVERY_MINUTES = 5


def start_mirror(directory, repo_id: str | None = None, token: str | None = None):
    """A running CommitScheduler for `directory`, or None when no token or no repo id is configured."""
    repo_id = repo_id or os.environ.get(REPO_ENV) or None
    token = token or os.environ.get(TOKEN_ENV) or None
    if not (repo_id and token):
        logger.debug("no Hub mirror: %s", "no repo id" if not repo_id else "no token")
        return None
    from huggingface_hub import CommitScheduler

    logger.info("mirroring %s to the Hub dataset %s every %d minutes", directory, repo_id, EVERY_MINUTES)
    return CommitScheduler(repo_id=repo_id, repo_type="dataset", folder_path=directory, every=EVERY_MINUTES,
                           token=token, allow_patterns=["entries.jsonl", "submissions/*.jsonl"])


def restore_from_hub(directory, repo_id: str, scheduler) -> bool:
    """Fill a fresh local store from the Hub copy (under the scheduler's lock), so that a restarted Space never
    pushes a newly seeded board over the entries already mirrored. False when the local store already exists."""
    from pathlib import Path

    from huggingface_hub import snapshot_download

    from dlcodegen.leaderboard.store import ENTRIES_FILE, SUBMISSIONS_DIR

    if (Path(directory) / ENTRIES_FILE).exists():
        return False
    logger.info("restoring the board in %s from the Hub dataset %s", directory, repo_id)
    with scheduler.lock:
        snapshot_download(repo_id, repo_type="dataset", local_dir=directory,
                          allow_patterns=[ENTRIES_FILE, f"{SUBMISSIONS_DIR}/*.jsonl"])
    return True
