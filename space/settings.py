"""Every setting of the Space, read from the environment in one place (like the leaderboard template's envs.py).

Secrets stay out: the LLM key (`OPENAI_API_KEY`) is read only by `dlcodegen.llm.make_client` when a request needs
it, and the Hub token (`HF_TOKEN`) only by the Hub mirror; here the token is a bool (is one set?). The server's name
and port are gradio's own `GRADIO_SERVER_NAME` / `GRADIO_SERVER_PORT`, honoured by `launch()` itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dlcodegen.data import data_dir
from dlcodegen.leaderboard.mirror import REPO_ENV, TOKEN_ENV
from dlcodegen.leaderboard.store import default_dir
from dlcodegen.llm import LLMConfig

PLANNER_ENV = "DLCODEGEN_PLANNER"
CONCURRENCY = 4  # requests each event runs at once (generation waits on the LLM; scoring takes a lock anyway)
UPLOAD_LIMIT_BYTES = 8_000_000  # gradio's own cap; the leaderboard's limit (4 MB) gives the clear message below it


@dataclass(frozen=True)
class SpaceSettings:
    leaderboard_dir: Path  # $DLCODEGEN_LEADERBOARD_DIR, else $XDG_DATA_HOME/dlcodegen/leaderboard
    data_dir: Path  # $DLCODEGEN_DATA, else build/datasets (built at startup when missing)
    planner: str | None  # $DLCODEGEN_PLANNER; None: the shipped retrieval planner
    llm: LLMConfig  # base URL and model ($OPENAI_BASE_URL, $DLCODEGEN_MODEL); holds no secret
    mirror_repo: str | None  # $DLCODEGEN_LEADERBOARD_REPO: the Hub dataset the store is mirrored to
    hub_token_set: bool  # whether $HF_TOKEN is set (never its value)
    concurrency: int = CONCURRENCY
    upload_limit_bytes: int = UPLOAD_LIMIT_BYTES

    @classmethod
    def from_env(cls) -> "SpaceSettings":
        return cls(leaderboard_dir=default_dir(), data_dir=data_dir(), planner=os.environ.get(PLANNER_ENV) or None,
                   llm=LLMConfig.from_env(), mirror_repo=os.environ.get(REPO_ENV) or None,
                   hub_token_set=bool(os.environ.get(TOKEN_ENV)))

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm.model)

    @property
    def mirror_configured(self) -> bool:
        return bool(self.mirror_repo and self.hub_token_set)
