"""The bot's exceptions. Each user-facing one carries a text key, never raw exception text."""
from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; replied in their language and nothing is changed."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


class UsageError(Exception):
    """Wrong arguments for a command: the reply shows the reason, the usage and an example."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class PermissionDenied(Exception):
    def __init__(self, role: str) -> None:
        super().__init__(role)
        self.role = role
