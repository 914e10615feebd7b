"""User-facing text, one module per locale (zh_CN first, en_US second).

``t(locale, key, **values)`` looks a key up in the locale, falls back to zh_CN, and fills
``{placeholders}``. A missing key is a bug, shown as the key itself rather than crashing.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bot.i18n import en_US, zh_CN

LOCALES = {"zh_CN": zh_CN.TEXTS, "en_US": en_US.TEXTS}
DEFAULT = "zh_CN"
log = logging.getLogger("bot.i18n")


def t(locale: str | None, key: str, **values: object) -> str:
    table = LOCALES.get(locale or DEFAULT, LOCALES[DEFAULT])
    template = table.get(key) or LOCALES[DEFAULT].get(key)
    if template is None:
        log.error("missing text %s", key)
        return key
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        log.error("bad placeholders for text %s", key)
        return template


def pick(locale: str | None, pair: tuple[str, str] | str) -> str:
    """Choose from a (zh, en) pair declared next to a command."""
    if isinstance(pair, str):
        return pair
    return pair[1] if locale == "en_US" and pair[1] else pair[0]


@dataclass(frozen=True)
class Msg:
    """A text to be read later in the reader's language: a key and its values. A value may be
    a Msg itself, or a dict by locale for words the code owns ({"zh_CN": …, "en_US": …})."""

    key: str
    values: dict[str, object] = field(default_factory=dict)

    def text(self, locale: str | None) -> str:
        return t(locale, self.key, **{k: render(v, locale) for k, v in self.values.items()})


def msg(key: str, **values: object) -> Msg:
    return Msg(key, values)


def render(value: object, locale: str | None) -> object:
    """A value of a text in ``locale``: Msgs and localized errors read, dicts by locale picked."""
    if hasattr(value, "text") and callable(value.text):
        return value.text(locale)
    if isinstance(value, dict):
        return value.get(locale or DEFAULT, value.get(DEFAULT, ""))
    return value
