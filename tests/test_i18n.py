"""Both locales say everything, with the same placeholders."""
from __future__ import annotations

import string

from bot.i18n import LOCALES, t


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_same_keys_in_both_locales():
    zh, en = LOCALES["zh_CN"], LOCALES["en_US"]
    assert sorted(set(zh) - set(en)) == [] and sorted(set(en) - set(zh)) == []


def test_same_placeholders():
    zh, en = LOCALES["zh_CN"], LOCALES["en_US"]
    assert [k for k in zh if _fields(zh[k]) != _fields(en[k])] == []


def test_missing_key_is_shown_not_raised():
    assert t("zh_CN", "no.such.key") == "no.such.key"
