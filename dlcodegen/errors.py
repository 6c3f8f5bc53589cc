"""Errors every front end (the CLI, the Space) shows as one line, without a traceback."""


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""
