"""Hugging Face Hub access: token lookup and folder upload, with errors that never echo a token."""

from __future__ import annotations

from pathlib import Path


class HubError(RuntimeError):
    """A Hub operation failed; the message is safe to show (it holds no token)."""


LOGIN_HINT = ("no Hugging Face token found: run `hf auth login` (or `huggingface-cli login`), "
              "or set the HF_TOKEN environment variable")


def require_token() -> str:
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise HubError(LOGIN_HINT)
    return token


def _redact(message: str, token: str) -> str:
    return message.replace(token, "***") if token else message


def push_folder(folder: Path, repo_id: str, repo_type: str, private: bool, token: str,
                commit_message: str) -> str:
    """Create the repo if needed and upload `folder`; returns the repo URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    try:
        url = api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type=repo_type,
                          commit_message=commit_message)
    except Exception as error:  # the hub client raises many types; report one safe line
        raise HubError(f"could not push {folder} to {repo_type} repo {repo_id}: "
                       f"{_redact(f'{type(error).__name__}: {error}', token)}") from None
    return str(url)
