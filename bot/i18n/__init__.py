"""User-facing text, one module per locale (zh_CN first, en_US second).

``t(locale, key, **values)`` looks a key up in the locale, falls back to zh_CN, and fills
``{placeholders}``. A missing key is a bug, shown as the key itself rather than crashing.
"""
from __future__ import annotations

import logging

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
