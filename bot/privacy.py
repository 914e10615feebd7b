"""Personal data is masked in every message the bot sends (the seed's data-security norm).

``mask_text`` hides mainland mobile numbers (138****5678), ID-card numbers (110101********1234)
and bank-card numbers (**** 1234). ``mask_payload`` applies it to every display string of a
message or card body; button values are left alone (they carry ids, not personal data).
bot.outbox calls it for every send, reply and card update.
"""
from __future__ import annotations

import re
from typing import Any

_PHONE = re.compile(r"(?<![0-9])(?:\+?86[- ]?)?(1[3-9]\d)[- ]?(\d{4})[- ]?(\d{4})(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}([0-9Xx])(?![0-9A-Za-z])")
_BANK_CARD = re.compile(r"(?<![0-9])(?:62|4\d|5[1-5])\d{2}(?:[ -]?\d{4}){2,3}[ -]?\d{0,3}(?![0-9])")
_DIGITS = re.compile(r"\d{11}|\d{3}[- ]\d{4}[- ]\d{4}")
SKIP_KEYS = frozenset({"value", "behaviors", "form_value", "url", "multi_url", "image_key", "img_key",
                       "file_key", "user_id", "open_id", "receive_id", "name"})


def _id_card(m: re.Match) -> str:
    whole = m.group(0)
    return whole[:6] + "*" * 8 + whole[-4:]


def _bank(m: re.Match) -> str:
    digits = re.sub(r"\D", "", m.group(0))
    return "**** " + digits[-4:] if 15 <= len(digits) <= 19 else m.group(0)


def mask_text(text: str) -> str:
    if not text or not _DIGITS.search(text):
        return text  # fast path: nothing long enough to be personal data
    text = _ID_CARD.sub(_id_card, text)
    text = _BANK_CARD.sub(_bank, text)
    return _PHONE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


def mask_payload(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in SKIP_KEYS else mask_text(value)
    if isinstance(value, dict):
        return {k: (v if k in SKIP_KEYS else mask_payload(v, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, key) for v in value]
    return value
