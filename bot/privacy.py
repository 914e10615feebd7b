"""Personal data is masked in every message the bot sends (the seed's data-security norm).

``mask_text`` hides mainland mobile numbers (138＊＊＊＊5678), ID-card numbers
(110101＊＊＊＊＊＊＊＊1234) and bank-card numbers (＊＊＊＊ 1234). ``mask_payload`` applies it to every
display string of a message or card body; button values are left alone (they carry ids, not
personal data). bot.outbox calls it for every send, reply and card update.

Matching runs on a normalised view of the text, so the usual ways a number is written or
disguised are still found: full-width digits (１３８…), zero-width characters between digits,
and separators inside the number (138-0013-8000, 138.0013.8000, 138 0013 8000). The whole
original span is replaced. The mask character is the full-width asterisk "＊": an ASCII
"****" would be read as bold by card markdown (lark_md) and break the line around it.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

MASK = "＊"
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
_SEPARATORS = {"－": "-", "‐": "-", "‑": "-", "–": "-", "—": "-", "．": ".", "。": ".", "·": ".", "・": ".",
               "\u3000": " ", "\u00a0": " ", "\u202f": " ", "\t": " "}
_SEP = r"[-. ]?"
_PHONE = re.compile(rf"(?<![0-9])(?:\+?86{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?![0-9])")
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}([0-9Xx])"
                      r"(?![0-9A-Za-z])")
_BANK_CARD = re.compile(r"(?<![0-9])(?:62|4\d|5[1-5])\d{2}(?:[ -]?\d{4}){2,3}[ -]?\d{0,3}(?![0-9])")
# fast path: eleven digits (any script) with at most three separators between each two
_CANDIDATE = re.compile(r"\d(?:[^\w\n]{0,3}\d){10}")
SKIP_KEYS = frozenset({"value", "behaviors", "form_value", "url", "multi_url", "image_key", "img_key",
                       "file_key", "user_id", "open_id", "receive_id", "name"})


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text with digits made ASCII, separators unified and invisible characters dropped,
    and for each of its characters the index it came from."""
    out: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch in _INVISIBLE:
            continue
        if ch.isdigit() and not ch.isascii():
            try:
                ch = str(unicodedata.digit(ch))
            except ValueError:
                pass
        ch = _SEPARATORS.get(ch, ch)
        out.append(ch)
        where.append(i)
    return "".join(out), where


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _id_card(m: re.Match) -> str:
    whole = _digits(m.group(0)) + (m.group(0)[-1] if m.group(0)[-1] in "Xx" else "")
    return whole[:6] + MASK * 8 + whole[-4:]


def _bank(m: re.Match) -> str | None:
    digits = _digits(m.group(0))
    return MASK * 4 + " " + digits[-4:] if 15 <= len(digits) <= 19 else None


def _phone(m: re.Match) -> str:
    return f"{m.group(1)}{MASK * 4}{m.group(3)}"


def mask_text(text: str) -> str:
    if not text or not _CANDIDATE.search(text):
        return text  # fast path: nothing long enough to be personal data
    norm, where = _normalised(text)
    spans: list[tuple[int, int, str]] = []  # original start, end, replacement
    for pattern, replace in ((_ID_CARD, _id_card), (_BANK_CARD, _bank), (_PHONE, _phone)):
        for m in pattern.finditer(norm):
            start, end = where[m.start()], where[m.end() - 1] + 1
            if any(start < e and s < end for s, e, _ in spans):
                continue
            masked = replace(m)
            if masked is not None:
                spans.append((start, end, masked))
    for start, end, masked in sorted(spans, reverse=True):
        text = text[:start] + masked + text[end:]
    return text


def mask_payload(value: Any, key: str = "") -> Any:
    if isinstance(value, str):
        return value if key in SKIP_KEYS else mask_text(value)
    if isinstance(value, dict):
        return {k: (v if k in SKIP_KEYS else mask_payload(v, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_payload(v, key) for v in value]
    return value
