"""Chinese numerals, read the same way everywhere.

:func:`cn_int` turns what people type into an int, or None when it is not a number:

    "15" / "１５"         → 15      full-width digits too
    "三" "兩" "两"         → 3, 2, 2
    "十" "十一" "二十五"    → 10, 11, 25
    "一百" "一百零五"       → 100, 105
    "一百五" "两千三"       → 150, 2300  (colloquial: the digit after 百/千 counts in the next unit)
    "零五" "二〇二六"       → 5, 2026   (digits without units are read digit by digit)
    "一万二千"             → 12000

Used by the time language (``bot.timeparse.words.cn_number``), the room finder
(``bot.schedule.rooms``) and the compliance rules. :data:`CN_DIGIT_CHARS` is the character class
for regular expressions that pick a numeral out of text.

``cn2an`` (PyPI) was weighed and not taken: its wheel also installs stray top-level ``example``
and ``src`` packages, it pulls in ``proces``, and what we need fits in this page.
"""
from __future__ import annotations

import unicodedata

DIGITS = {"零": 0, "〇": 0, "○": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "兩": 2, "三": 3, "叁": 3,
          "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
          "九": 9, "玖": 9}
UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000, "万": 10_000, "萬": 10_000}

#: Characters of a Chinese numeral without units above 十 (for regex classes: "[0-9" + ... + "]").
CN_DIGIT_CHARS = "零〇一二两兩三四五六七八九十"
#: The same with 百/千 (for counts that may reach a hundred or more).
CN_NUMBER_CHARS = CN_DIGIT_CHARS + "百千"


def cn_int(text: str) -> int | None:
    """The integer ``text`` spells (ASCII, full-width or Chinese), or None when it is not one."""
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if not s:
        return None
    if s.isascii():
        return int(s) if s.isdigit() else None
    if any(ch not in DIGITS and ch not in UNITS for ch in s):
        return None
    if not any(ch in UNITS for ch in s):
        value = 0
        for ch in s:
            value = value * 10 + DIGITS[ch]
        return value
    return _with_units(s)


def _with_units(s: str) -> int | None:
    total = 0          # completed 万 groups
    section = 0        # the group below 万 being read
    digit: int | None = None
    last_unit = 0      # the last unit below 万 in this section (0: none yet)
    after_zero = False
    for ch in s:
        if ch in DIGITS:
            d = DIGITS[ch]
            if d == 0:
                if digit is not None:
                    return None
                after_zero = True
                continue
            if digit is not None:
                return None          # 二三十: two digits in a row next to units
            digit = d
            continue
        unit = UNITS[ch]
        if unit == 10_000:
            section += digit or 0
            if section == 0 or total:
                return None
            total, section, digit, last_unit, after_zero = section * 10_000, 0, None, 0, False
            continue
        if last_unit and unit >= last_unit:
            return None              # 十百, 百百
        if digit is None:
            if unit != 10:
                return None          # 百 alone means nothing
            digit = 1                # 十一, 一百一十 → 十 counts one ten
        section += digit * unit
        digit, last_unit, after_zero = None, unit, False
    if digit is not None:
        if last_unit >= 100 and not after_zero:
            digit *= last_unit // 10  # 一百五 → 150, 两千三 → 2300
        elif last_unit == 0 and total and not after_zero:
            digit *= 1000             # 一万二 → 12000
        section += digit
    return total + section
