"""Hugging Face Hub access: token lookup and folder upload, with errors that never echo a token."""

from __future__ import annotations

import logging
from pathlib import Path

from dlcodegen.core.errors import ServiceError
from dlcodegen.core.text import redact

logger = logging.getLogger(__name__)


class HubError(ServiceError):
    """A Hub operation failed; the message is safe to show (it holds no token)."""


LOGIN_HINT = ("no Hugging Face token found: run `hf auth login` (or `huggingface-cli login`), "
              "or set the HF_TOKEN environment variable")


def require_token() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise HubError(LOGIN_HINT)
    return token


def push_folder(folder: Path, repo_id: str, repo_type: str, private: bool, token: str,
                commit_message: str) -> str:
    """Create the repo if needed and upload `folder`; returns the repo URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    logger.info("pushing %s to %s repo %s", folder, repo_type, repo_id)
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type=repo_type,
                          commit_message=commit_message)
    except Exception as error:  # the hub client raises many types; report one safe line
        raise HubError(f"could not push {folder} to {repo_type} repo {repo_id}: "
                       f"{redact(f'{type(error).__name__}: {error}', token)}") from None
    return str(url)
