"""Test helpers for leaderboard stores."""

from __future__ import annotations

import json

from dlcodegen.leaderboard.store import Entry, LeaderboardStore, _checksum


def write_unversioned_line(store: LeaderboardStore, entry: Entry, codes: dict[int, str]) -> None:
    """Append `entry` as a store written before scorer versions existed holds it: no `scorer` field in its line."""
    store.append(entry, codes)  # the submission file and the line, then the line rewritten in the old format
    data = {key: value for key, value in entry.record().items() if key not in ("scorer", "checksum")}
    lines = store.entries_path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[-1] = json.dumps({**data, "checksum": _checksum(data)}) + "\n"
    store.entries_path.write_text("".join(lines), encoding="utf-8")
