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


class LocalizedError(Exception):
    """A user-facing parse error (a time, a data file, a cell, an uploaded script) as an i18n
    key and its values; :meth:`text` reads it in the reader's language. The texts live in
    bot/i18n/*/errors.py.

    A value may itself be a LocalizedError (a reason inside a message), a list of them (joined
    the locale's way), or a dict by locale for words the code owns ({"zh_CN": "、".join(...),
    "en_US": ", ".join(...)}, e.g. examples the parser is tested against). ``zh`` and ``en``
    are the two readings."""

    def __init__(self, key: str, **values: object) -> None:
        self.key, self.values = key, values
        super().__init__(key)

    def text(self, locale: str | None = None) -> str:
        from bot.i18n import t

        return t(locale, self.key, **{k: _render(v, locale) for k, v in self.values.items()})

    @property
    def zh(self) -> str:
        return self.text("zh_CN")

    @property
    def en(self) -> str:
        return self.text("en_US")

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


def _render(value: object, locale: str | None) -> object:
    from bot.i18n import render, t

    if isinstance(value, (list, tuple)) and value and all(isinstance(v, LocalizedError) for v in value):
        return t(locale, "errors.sep").join(v.text(locale) for v in value)
    return render(value, locale)
