"""Small pieces the time parser is built from: normalisation, numbers, and durations.

* :func:`normalize` maps full-width characters to ASCII and lower-cases, keeping the length
  (so offsets into the normalised text are offsets into the original);
* :func:`cn_number` reads "15", "十五", "二十三", "两", "one"…;
* :func:`duration` reads a duration of one or more parts, largest unit first:
  "1小时20分钟", "一小时二十分钟", "2天3小时", "1天零2小时", "1 hour 20 minutes", "1h20m",
  "2 days and 3 hours". Parts must go from the largest unit to the smallest ("20分钟1小时"
  is refused: it is more likely a typo than a duration).

``Bad`` is the internal "this part is malformed" signal: an i18n key and its values
(bot/i18n/*/errors.py), turned into a TimeParseError by timeparse.
"""
from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import LocalizedError
from bot.numerals import cn_int


ZH_WD = ("一", "二", "三", "四", "五", "六", "日")
EN_WD_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


class Bad(LocalizedError):
    """A part of the text is malformed (an i18n key + values); timeparse turns it into a
    TimeParseError."""


def normalize(text: str) -> str:
    """Same-length normalisation: full-width forms to ASCII (：→:, １→1), lower case."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        if len(n) != 1:
            n = ch
        low = n.lower()
        out.append(low if len(low) == 1 else n)
    return "".join(out)


_EN_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
               "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
               "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
               "fifty": 50, "sixty": 60, "ninety": 90}


def cn_number(s: str) -> int:
    """'15' → 15, '十五' → 15, '二十三' → 23, '两' → 2, '零五' → 5, '一百' → 100, 'one' → 1.

    Chinese and digits go through :func:`bot.numerals.cn_int`, the one reading the bot uses
    everywhere; English number words are the time language's own."""
    s = s.strip()
    if s in _EN_NUMBERS:
        return _EN_NUMBERS[s]
    value = cn_int(s)
    if value is None:
        raise ValueError(f"not a number: {s!r}")
    return value


def amount(s: str | None, default: float = 1.0) -> float:
    """A number of units: "2", "1.5", "两", "半", "an", "half an"."""
    if not s:
        return default
    s = s.strip()
    if s in ("半", "half a", "half an", "a half"):
        return 0.5
    s = re.sub(r"\s+", " ", s)
    if s.startswith("half "):
        return 0.5
    try:
        return float(s)
    except ValueError:
        return float(cn_number(s))


# -- regular-expression fragments shared with timeparse ---------------------------------------
NUM = r"(?:[0-9]{1,4}|[零〇一二两兩三四五六七八九十百]{1,4})"
HNUM = r"(?:[0-9]{1,2}|[零〇一二两兩三四五六七八九十]{1,3})"
EN_NUM = (r"(?:[0-9]+(?:\.[0-9]+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
          r"|fifteen|twenty|thirty|forty-five|forty|fifty|sixty|ninety)")

ZH_UNITS = r"(?:分钟|分鐘|分|小时|小時|钟头|鐘頭|刻钟|刻|天|日|周|星期|礼拜|禮拜|个月|個月|钟)"
ZH_CLOCK_UNITS = r"(?:分钟|分鐘|分|小时|小時|钟头|鐘頭)"  # for intervals: hours and minutes only
ZH_SPAN_UNITS = r"(?:分钟|分鐘|小时|小時|天)"  # for "…内" deadlines
EN_UNITS = r"(?:minutes?|mins?|m|hours?|hrs?|h|days?|weeks?|months?)"
EN_CLOCK_UNITS = r"(?:minutes?|mins?|m|hours?|hrs?|h)"
EN_SPAN_UNITS = r"(?:minutes?|mins?|hours?|hrs?|days?)"


def zh_part(units: str = ZH_UNITS) -> str:
    return rf"(?:{NUM}(?:\.[0-9]+)?|半)\s*个?\s*半?\s*{units}"


def zh_parts(units: str = ZH_UNITS, least: int = 1) -> str:
    """One to four parts ("1小时20分钟", "两天零三小时"); ``least=2`` for compound only."""
    part = zh_part(units)
    return rf"{part}(?:\s*(?:零|又|加)?\s*{part}){{{least - 1},3}}"


def en_part(units: str = EN_UNITS) -> str:
    return rf"(?:{EN_NUM}|half\s+an?|a\s+half)\s*{units}(?![a-z])"


def en_parts(units: str = EN_UNITS, least: int = 1) -> str:
    """"1 hour 20 minutes", "1h20m", "2 days, 3 hours", "1 hour and 20 minutes"."""
    part = en_part(units)
    return rf"{part}(?:\s*(?:,\s*|and\s+)?{part}){{{least - 1},3}}"


_ZH_PART = re.compile(rf"(?P<n>{NUM}(?:\.[0-9]+)?|半)\s*个?\s*(?P<half>半)?\s*(?P<unit>{ZH_UNITS})")
_EN_PART = re.compile(rf"(?P<n>{EN_NUM}|half\s+an?|a\s+half)\s*(?P<unit>{EN_UNITS})(?![a-z])")


def _unit(unit: str) -> tuple[int, str, float]:
    """(rank, field, factor): rank orders the units, largest first."""
    if unit in ("分钟", "分鐘", "分") or unit.startswith("min") or unit == "m":
        return 0, "minutes", 1
    if unit in ("刻钟", "刻"):
        return 0, "minutes", 15
    if unit in ("小时", "小時", "钟头", "鐘頭", "钟") or unit.startswith("h"):
        return 1, "minutes", 60
    if unit in ("天", "日") or unit.startswith("day"):
        return 2, "days", 1
    if unit in ("周", "星期", "礼拜", "禮拜") or unit.startswith("week"):
        return 3, "days", 7
    return 4, "months", 1  # 个月 / month


def duration(text: str, *, and_a_half: bool = False) -> dict[str, Any] | None:
    """The parts of a duration summed by kind: {"months": int, "days": float, "minutes": float},
    only the kinds present. None when it is not a duration we read (a fractional month).
    ``and_a_half`` adds half of the last part's unit ("in an hour and a half")."""
    parts = list((_ZH_PART if not text.isascii() else _EN_PART).finditer(text))
    if not parts:
        return None
    out: dict[str, Any] = {}
    last_rank = 99
    factor = 1.0
    field = "minutes"
    for p in parts:
        n = amount(p.group("n"))
        if p.groupdict().get("half"):
            n += 0.5
        rank, field, factor = _unit(p.group("unit"))
        if rank >= last_rank:
            shown = text.strip()
            raise Bad("time.err.duration_order", text=shown)
        last_rank = rank
        out[field] = out.get(field, 0) + n * factor
    if and_a_half:
        out[field] = out.get(field, 0) + 0.5 * factor
    if "months" in out:
        if out["months"] != int(out["months"]):
            return None
        out["months"] = int(out["months"])
    return out


def total_minutes(parts: dict[str, Any]) -> float:
    """Days and minutes of a duration as minutes (months are not a fixed length: ignored)."""
    return parts.get("days", 0) * 24 * 60 + parts.get("minutes", 0)


# -- errors -------------------------------------------------------------------------------
class TimeParseError(LocalizedError, ValueError):
    """The text has no readable time, or a part of it is malformed. ``fragment`` is the part
    that could not be read; the message is an i18n key (bot/i18n/*/errors.py): ``message_for``
    reads it in one language, ``message`` in both (zh first)."""

    def __init__(self, fragment: str, key: str, **values: object) -> None:
        self.fragment = fragment
        super().__init__(key, **values)

    @property
    def message_zh(self) -> str:
        return self.zh

    @property
    def message_en(self) -> str:
        return self.en

    @property
    def message(self) -> str:
        return f"{self.message_zh}\n{self.message_en}"

    def message_for(self, locale: str | None) -> str:
        return self.text("en_US" if locale and locale.lower().startswith("en") else "zh_CN")

    def __str__(self) -> str:
        return self.message


class PastTimeError(TimeParseError):
    """The expression resolves to a moment that is not after ``now``; ``when`` is it (UTC)."""

    def __init__(self, fragment: str, when: datetime, tz: str, hint: tuple[str, str] | None = None) -> None:
        self.when = when
        local = when.astimezone(ZoneInfo(tz))
        more: object = {"zh_CN": hint[0], "en_US": hint[1]} if hint else LocalizedError("time.err.past_more")
        super().__init__(fragment, "time.err.past", date=f"{local:%Y-%m-%d}", time=f"{local:%H:%M}", more=more,
                         weekday={"zh_CN": ZH_WD[local.weekday()], "en_US": EN_WD_SHORT[local.weekday()]})


# -- words of the day, checks ----------------------------------------------------------------
def zh_weekday(ch: str) -> int:
    if ch in "日天7":
        return 6
    if ch.isdigit():
        return int(ch) - 1
    return "一二三四五六".index(ch)


def en_weekday(word: str) -> int:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(word[:3])


def en_month(word: str) -> int:
    return ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec").index(word[:3]) + 1


PERIOD_WORDS: dict[str, str] = {
    "凌晨": "dawn", "半夜": "dawn", "深夜": "dawn",
    "清晨": "early", "早上": "early", "早晨": "early", "一早": "early", "早间": "early", "早": "early",
    "上午": "morning", "morning": "morning",
    "中午": "noon", "午间": "noon",
    "下午": "afternoon", "午后": "afternoon", "afternoon": "afternoon",
    "傍晚": "dusk", "黄昏": "dusk",
    "晚上": "evening", "晚间": "evening", "夜里": "evening", "夜间": "evening", "夜晚": "evening",
    "晚": "evening", "evening": "evening", "night": "evening",
    "下班": "offwork",
}
PERIOD_DEFAULTS: dict[str, time] = {
    "dawn": time(1, 0), "early": time(9, 0), "morning": time(9, 0), "noon": time(12, 0),
    "afternoon": time(15, 0), "dusk": time(18, 0), "evening": time(20, 0), "offwork": time(18, 0),
}


def time_data(h: int, m: int, style: str, text: str, ap: str | None = None,
               special: str | None = None) -> dict[str, Any]:
    if special is None:
        if ap is not None and not 1 <= h <= 12 and not (h == 0):
            raise Bad("time.err.ampm_hour", text=text)
        if not 0 <= h <= 24 or (h == 24 and m != 0):
            raise Bad("time.err.hour", text=text)
        if not 0 <= m <= 59:
            raise Bad("time.err.minute", text=text)
    return {"h": h, "m": m, "style": style, "ap": ap, "special": special, "text": text}


def check_date(y: int | None, m: int, d: int, text: str) -> None:
    if not 1 <= m <= 12:
        raise Bad("time.err.month", text=text)
    longest = calendar.monthrange(y, m)[1] if y is not None else (29 if m == 2 else calendar.monthrange(2001, m)[1])
    if not 1 <= d <= longest:
        raise Bad("time.err.no_such_day", text=text, m=m, d=d)
