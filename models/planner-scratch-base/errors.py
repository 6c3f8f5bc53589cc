"""The package's errors. Everything a user can fix derives from `UserError`: front ends (the CLI, the Space) show it
as one line, without a traceback. Any other exception is a bug and keeps its traceback.

This module imports nothing: model folders carry a copy of it beside `plan.py` (see `hf.model_folder`).
"""


class UserError(Exception):
    """A mistake the user can fix (bad input, a missing file, bad configuration, an unreachable service)."""


class InputError(UserError, ValueError):
    """Input that cannot be used: a requirement, a file's content, an option's value."""


class MissingError(UserError, FileNotFoundError):
    """A file, folder or built dataset that is not there."""


class ConfigurationError(UserError):
    """Settings that do not work together, or a setting that is missing (no model, no token)."""


class ServiceError(UserError):
    """An outside service (an LLM server, the Hub) failed or refused; the message says which and why."""
