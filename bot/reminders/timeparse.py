"""Natural time expressions in Chinese and English → a first fire time and a Recurrence.

``parse("/提醒 明天 19:00 开会", now)`` finds the time expression anywhere in the text,
resolves it against ``now`` (an aware datetime) in ``tz`` and returns a :class:`Parsed`
with the first fire (aware UTC), the rule, the expression as written, its offsets and the
remaining text (the reminder message). ``parse_deadline`` does the same for task deadlines
("周五前", "3个工作日内", default time 18:00) and ``parse_range`` reads a time range on a
given day ("19:00~01:00"). See GRAMMAR.md beside this file for every supported form.

How it works: the text is normalised character by character (full-width → half-width,
lower case, same length so offsets stay valid); a set of small regular expressions finds
*atoms* (a day, a weekday, a date, a period of the day, a clock time, an offset, a
recurrence…); atoms separated only by spaces or connecting words ("的", "at", "从"…) form a
*cluster*; the best cluster (recurrence > offset > clock time > date) is the expression,
and its atoms are resolved into a datetime or a rule. Pure and deterministic: nothing here
reads the clock.

Decisions (documented in GRAMMAR.md):

* a date without a time → 09:00 (deadlines: 18:00), ``assumed_time=True``;
* "N点" with 1 ≤ N ≤ 11 and no 上午/下午/am/pm: without a date, the next such time
  (3点 at 14:00 → 15:00; 8点 at 21:00 → tomorrow 08:00); with a date (or in a recurring
  rule), 1–6 are afternoon/evening (明天3点 → 15:00) and 7–11 morning (明天8点 → 08:00);
  "HH:MM" is always a 24-hour clock;
* a bare weekday is the next such day (today if the time is still ahead); 本周/这周/this
  is this Monday-based week (may be past → PastTimeError); 下周/next is next week's day;
* "7月15日前" means by the end of that day's work: 18:00 on 7月15日.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Callable, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.reminders import readings, workdays
from bot.reminders.readings import Alternative
from bot.reminders.recurrence import LAST_DAY, Recurrence, next_fire
from bot.reminders.timewords import (EN_NUM, HNUM, NUM, Bad, amount, cn_number, duration, en_parts,
                                     normalize, total_minutes, zh_parts)
from bot.reminders import timewords as tw

UTC = timezone.utc
DEFAULT_TZ = "Asia/Shanghai"
REMIND_DEFAULT = time(9, 0)
DEADLINE_DEFAULT = time(18, 0)

Mode = Literal["remind", "deadline", "range"]

EXAMPLES_ZH = (
    "明天 19:00", "今晚8点", "周五下午3点半", "11月28日 19:00", "30分钟后",
    "每天 9:30", "每个工作日 18:00", "每周一 10:00", "每月最后一天 17:00",
    "每隔5分钟 从19:00到23:00",
)
EXAMPLES_EN = (
    "tomorrow 9am", "at 7pm", "in 30 minutes", "next friday 3pm", "on Dec 1 at 10:00",
    "every day 9:30", "every weekday 6pm", "every monday 10am",
)
DEADLINE_EXAMPLES_ZH = ("周五前", "本周五前", "3个工作日内", "7月15日前", "明天中午前", "月底前", "下周一前")
DEADLINE_EXAMPLES_EN = ("by friday", "within 3 working days", "before Jul 15", "by end of month")


# ---------------------------------------------------------------------------------------
# Errors and result
# ---------------------------------------------------------------------------------------
class TimeParseError(ValueError):
    """The text has no readable time, or a part of it is malformed. ``fragment`` is the part
    that could not be read; ``message`` is bilingual (zh first), ``message_zh`` /
    ``message_en`` are the single-language versions."""

    def __init__(self, fragment: str, message_zh: str, message_en: str) -> None:
        self.fragment = fragment
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return f"{self.message_zh}\n{self.message_en}"

    def message_for(self, locale: str | None) -> str:
        return self.message_en if locale and locale.lower().startswith("en") else self.message_zh


class PastTimeError(TimeParseError):
    """The expression resolves to a moment that is not after ``now``; ``when`` is it (UTC)."""

    def __init__(self, fragment: str, when: datetime, tz: str, hint: tuple[str, str] | None = None) -> None:
        self.when = when
        local = when.astimezone(ZoneInfo(tz))
        zh_more, en_more = hint or ("请换一个将来的时间。", "Please pick a time in the future.")
        zh = f"这个时间已经过去了：{local:%Y-%m-%d}（周{_ZH_WD[local.weekday()]}）{local:%H:%M}。{zh_more}"
        en = f"That time has already passed: {_EN_WD_SHORT[local.weekday()]} {local:%Y-%m-%d %H:%M}. {en_more}"
        super().__init__(fragment, zh, en)


@dataclass(frozen=True)
class Parsed:
    when: datetime  # first fire, aware UTC
    rule: Recurrence  # kind "once" when not recurring
    matched: str  # the time expression as written in the text
    rest: str  # the remaining text (the reminder message), stripped
    start: int  # matched == text[start:end]
    end: int
    assumed_time: bool = False  # no clock time was written: a default was used
    # human notes in the requested locale: the default time used, and the reading_note
    notes: tuple[str, ...] = ()
    # the other readings of an ambiguous "N点" (readings.py): each with its own first fire and rule
    alternatives: tuple[Alternative, ...] = ()
    # which reading was taken when the words allowed another ("“3点”按下午 15:00 理解…"), or
    # which day a bare weekday landed on when this week's had passed; "" when nothing to say
    reading_note: str = ""

    @property
    def recurring(self) -> bool:
        return self.rule.kind != "once"

    @property
    def plausible(self) -> tuple[Alternative, ...]:
        """The alternatives worth offering as a button."""
        return tuple(a for a in self.alternatives if a.plausible)


@dataclass(frozen=True)
class RangeReading:
    """A time range on a day (``read_range``): start and end (aware UTC), the other reading
    of an ambiguous range as (start, end, plausible), and the note saying which was taken."""
    start: datetime
    end: datetime
    alternatives: tuple[tuple[datetime, datetime, bool], ...] = ()
    reading_note: str = ""


# ---------------------------------------------------------------------------------------
# Atoms
# ---------------------------------------------------------------------------------------
_Bad = Bad
_amount = amount


@dataclass
class _Atom:
    kind: str
    start: int
    end: int
    data: dict[str, Any]
    error: _Bad | None = None
    order: int = 0


NUM_START = r"(?:[0-9]|[二两兩三四五六七八九十]|一(?!点|點))"
ZH_DAYCHAR = "[一二三四五六日天1-7]"
ZH_WEEK = r"(?:周|星期|礼拜|禮拜|週)"
EN_DAY = (r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday"
          r"|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)")
EN_MONTH = (r"(?:january|february|march|april|may|june|july|august|september|october|november|december"
            r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)")
AMPM = r"(?:a\.?m\.?|p\.?m\.?)"
_B = r"(?<![a-z])"  # English word start
_E = r"(?![a-z])"  # English word end

_ZH_WD = ("一", "二", "三", "四", "五", "六", "日")
_EN_WD_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _zh_weekday(ch: str) -> int:
    if ch in "日天7":
        return 6
    if ch.isdigit():
        return int(ch) - 1
    return "一二三四五六".index(ch)


def _en_weekday(word: str) -> int:
    return ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(word[:3])


def _en_month(word: str) -> int:
    return ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec").index(word[:3]) + 1


_PERIOD_WORDS: dict[str, str] = {
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


def _time_data(h: int, m: int, style: str, text: str, ap: str | None = None,
               special: str | None = None) -> dict[str, Any]:
    if special is None:
        if ap is not None and not 1 <= h <= 12 and not (h == 0):
            raise _Bad(f"“{text}”不是有效的时间（上午/下午的小时应在 1–12 之间）",
                       f"“{text}” is not a valid time (am/pm hours go from 1 to 12)")
        if not 0 <= h <= 24 or (h == 24 and m != 0):
            raise _Bad(f"“{text}”不是有效的时间（小时应在 0–23 之间）",
                       f"“{text}” is not a valid time (hours go from 0 to 23)")
        if not 0 <= m <= 59:
            raise _Bad(f"“{text}”不是有效的时间（分钟应在 0–59 之间）",
                       f"“{text}” is not a valid time (minutes go from 0 to 59)")
    return {"h": h, "m": m, "style": style, "ap": ap, "special": special, "text": text}


def _check_date(y: int | None, m: int, d: int, text: str) -> None:
    if not 1 <= m <= 12:
        raise _Bad(f"“{text}”不是有效的日期（月份应在 1–12 之间）",
                   f"“{text}” is not a valid date (months go from 1 to 12)")
    longest = calendar.monthrange(y, m)[1] if y is not None else (29 if m == 2 else calendar.monthrange(2001, m)[1])
    if not 1 <= d <= longest:
        raise _Bad(f"“{text}”不是有效的日期（{m}月没有{d}日）",
                   f"“{text}” is not a valid date (month {m} has no day {d})")


# Builders: (match, mode) → data dict, or None to ignore the match; raise _Bad for malformed.
Builder = Callable[[re.Match[str], str], "dict[str, Any] | None"]


def _b_offset(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    """"1小时20分钟后", "in 1h20m", "2 days 3 hours later": {"months", "days", "minutes"}."""
    return duration(m.group("parts"), and_a_half=bool(m.groupdict().get("andhalf")))


_DAY_WORDS: dict[str, tuple[int, str | None]] = {
    "今天": (0, None), "今日": (0, None), "今儿": (0, None), "明天": (1, None), "明日": (1, None),
    "明儿": (1, None), "后天": (2, None), "後天": (2, None), "大后天": (3, None), "大後天": (3, None),
    "昨天": (-1, None), "昨晚": (-1, "evening"),
    "今晚": (0, "evening"), "今夜": (0, "evening"), "明晚": (1, "evening"), "明夜": (1, "evening"),
    "今早": (0, "early"), "今晨": (0, "early"), "明早": (1, "early"), "明晨": (1, "early"),
    "today": (0, None), "tonight": (0, "evening"), "tomorrow": (1, None), "tomorow": (1, None),
    "tmr": (1, None), "tmrw": (1, None), "yesterday": (-1, None),
}


def _b_day(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    word = re.sub(r"\s+", " ", m.group("w"))
    if "after tomorrow" in word:
        return {"offset": 2, "period": None}
    offset, period = _DAY_WORDS[word]
    return {"offset": offset, "period": period}


def _b_weekday_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mod = m.group("mod") or ""
    kind = None
    if mod.startswith("下下"):
        kind = "next2"
    elif mod.startswith("下"):
        kind = "next"
    elif mod.startswith(("本", "这", "這")):
        kind = "this"
    elif mod.startswith("上"):
        kind = "last"
    return {"wd": _zh_weekday(m.group("d")), "mod": kind}


def _b_weekday_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mod = m.group("mod")
    word = m.group("d")
    if word in ("sat", "sun") and mod in (None, "on"):
        return None  # "sat"/"sun" are ordinary words; need "next sat" / "this sun"
    kind = {"next": "next", "this": "this", "coming": None, "on": None, None: None}[mod]
    return {"wd": _en_weekday(word), "mod": kind}


def _b_date_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y = int(m.group("y")) if m.group("y") else None
    rel = {"今年": 0, "明年": 1, "后年": 2, "後年": 2}.get(m.group("ry") or "", None)
    mo, d = cn_number(m.group("m")), cn_number(m.group("d"))
    _check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": rel, "m": mo, "d": d}


def _b_date_rel_month(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    rel = m.group("rel")
    months = 2 if rel.startswith("下下") else 1 if rel.startswith("下") else 0
    d = cn_number(m.group("d"))
    if not 1 <= d <= 31:
        raise _Bad(f"“{m.group(0)}”不是有效的日期", f"“{m.group(0)}” is not a valid date")
    return {"y": None, "rel_year": None, "rel_month": months, "m": 0, "d": d}


def _b_date_iso(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y, mo, d = int(m.group("y")), int(m.group("m")), int(m.group("d"))
    _check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": None, "m": mo, "d": d}


def _b_date_md(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    mo, d = int(m.group("m")), int(m.group("d"))
    try:
        _check_date(None, mo, d, m.group(0))
    except _Bad:
        return None  # "12-45" is probably not a date at all
    return {"y": None, "rel_year": None, "m": mo, "d": d}


def _b_date_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    y = int(m.group("y")) if m.group("y") else None
    mo, d = _en_month(m.group("mon")), int(m.group("d"))
    _check_date(y, mo, d, m.group(0).strip())
    return {"y": y, "rel_year": None, "m": mo, "d": d}


def _b_mday(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    d = cn_number(m.group("d"))
    if not 1 <= d <= 31:
        raise _Bad(f"“{m.group(0)}”不是有效的日期（日应在 1–31 之间）",
                   f"“{m.group(0)}” is not a valid day of the month (1–31)")
    return {"d": d}


def _b_period(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"period": _PERIOD_WORDS[m.group("p")]}


def _b_time_colon(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    ap = m.group("ap")
    h, mi = int(m.group("h")), int(m.group("m"))
    return _time_data(h, mi, "ampm" if ap else "colon", m.group(0).strip(), ap[0] if ap else None)


_LOOSE_ONE = set("快慢早晚多少好大小高低近远轻重简差有再这那我你他她它们")
_LOOSE_AFTER = set("儿兒都也点點不没沒就吧啊嘛呢")


def _b_time_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    h_text = m.group("h")
    text = m.group(0)
    start = m.start()
    if h_text == "一" and not m.group("m") and not m.group("half") and not m.group("q"):
        before = m.string[start - 1] if start > 0 else ""
        after = m.string[m.end():m.end() + 1]
        if before in _LOOSE_ONE or after in _LOOSE_AFTER:  # 快一点 / 一点儿 / 一点都: not a time
            return None
    h = cn_number(h_text)
    mi = 0
    if m.group("half"):
        mi = 30
    elif m.group("q"):
        mi = 15 if m.group("q") in ("一", "1") else 45
    elif m.group("m"):
        mi = cn_number(m.group("m"))
    return _time_data(h, mi, "cn", text.strip())


def _b_time_ampm(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    h = int(m.group("h"))
    mi = int(m.group("m")) if m.group("m") else 0
    return _time_data(h, mi, "ampm", m.group(0).strip(), m.group("ap")[0])


def _b_time_bare(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return _time_data(int(m.group("h")), 0, "bare", m.group(0).strip())


def _b_range_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    a = _time_data(cn_number(m.group("h1")), 30 if m.group("half1") else 0, "cn", m.group(0))
    b = _time_data(cn_number(m.group("h2")), 30 if m.group("half2") else 0, "cn", m.group(0))
    return {"a": a, "b": b}


def _b_recur_daily(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    p = m.groupdict().get("p")
    return {"kind": "daily", "period": _PERIOD_WORDS.get(p) if p else None}


def _b_recur_workday(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "workday"}


def _days_from_list(text: str, zh: bool) -> list[int]:
    if zh:
        tokens = re.findall(r"[一二三四五六日天1-7]|至|到|-|~", text)
        to_day: Callable[[str], int] = _zh_weekday
    else:
        tokens = re.findall(EN_DAY + r"|-|to|through", text)
        to_day = _en_weekday
    days: list[int] = []
    pending_range = False
    for tok in tokens:
        if tok in ("至", "到", "-", "~", "to", "through"):
            pending_range = bool(days)
            continue
        d = to_day(tok)
        if pending_range:
            start = days[-1]
            span = (d - start) % 7
            days.extend((start + i) % 7 for i in range(1, span + 1))
            pending_range = False
        else:
            days.append(d)
    return sorted(set(days))


def _b_recur_weekly_zh(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    if m.groupdict().get("weekend"):
        return {"kind": "weekly", "weekdays": [5, 6]}
    return {"kind": "weekly", "weekdays": _days_from_list(m.group("days"), zh=True)}


def _b_recur_weekly_en(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "weekly", "weekdays": _days_from_list(m.group("days"), zh=False)}


def _b_recur_monthly(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("lastwd"):
        return {"kind": "monthly", "month_day": LAST_DAY, "shift": "before"}
    if g.get("firstwd"):
        return {"kind": "monthly", "month_day": 1, "shift": "after"}
    if g.get("last"):
        return {"kind": "monthly", "month_day": LAST_DAY, "shift": None}
    d = cn_number(g["d"])
    if not 1 <= d <= 31:
        raise _Bad(f"“{m.group(0)}”不是有效的日期（每月的日应在 1–31 之间）",
                   f"“{m.group(0)}” is not a valid day of the month (1–31)")
    return {"kind": "monthly", "month_day": d, "shift": None}


def _b_recur_interval(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("parts"):  # "每1小时30分钟", "every 1h30m"
        minutes = total_minutes(duration(g["parts"]) or {})
    else:
        n = _amount(g.get("n"))
        if g.get("half"):
            n += 0.5
        unit = g["unit"]
        minutes = n * 60 if unit in ("小时", "小時", "钟头", "鐘頭") or unit.startswith("h") else n
    if minutes != int(minutes) or not 1 <= minutes <= 24 * 60:
        raise _Bad(f"“{m.group(0)}”的间隔无效（应为 1 分钟到 24 小时之间的整分钟数）",
                   f"“{m.group(0)}” is not a valid interval (whole minutes, 1 minute to 24 hours)")
    return {"kind": "interval", "minutes": int(minutes)}


def _b_recur_hourly(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"kind": "interval", "minutes": 60}


def _b_cron(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    expr = " ".join(m.group("expr").split())
    try:
        Recurrence.from_cron(expr)
    except ValueError as exc:
        raise _Bad(f"cron 表达式“{expr}”无效：{exc}", f"Bad cron expression “{expr}”: {exc}") from exc
    return {"kind": "cron", "cron": expr}


def _b_month_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    return {"months": 1 if (g.get("next") or g.get("nextm")) else 0}


def _b_year_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"years": 1 if m.groupdict().get("next") else 0}


def _b_week_end(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    return {"weeks": 1 if m.groupdict().get("next") else 0}


def _b_within(m: re.Match[str], mode: str) -> dict[str, Any] | None:
    g = m.groupdict()
    if g.get("parts"):  # "1小时20分钟内", "2天3小时内", "within 1 hour 20 minutes"
        parts = duration(g["parts"]) or {}
        if "minutes" not in parts:
            return {"days": parts.get("days", 0)}
        return {"minutes": total_minutes(parts)}
    n = _amount(g["n"])
    unit = g["unit"]
    if "工作" in unit or "working" in unit or "business" in unit or "work" in unit:
        if n != int(n):
            return None
        return {"workdays": int(n)}
    if unit in ("天", "日") or unit.startswith("day"):
        return {"days": n}
    if unit in ("周", "星期") or unit.startswith("week"):
        return {"days": n * 7}
    if unit in ("小时", "小時") or unit.startswith("hour"):
        return {"minutes": n * 60}
    return {"minutes": n}


_DAYLIST_ZH = (rf"{ZH_DAYCHAR}(?![0-9:点點时時])(?:(?:\s*(?:[、,/&]|和|及|与|跟|以及|至|到|-|~)\s*)?"
               rf"{ZH_WEEK}?{ZH_DAYCHAR}(?![0-9:点點时時]))*")
_DAYLIST_EN = rf"{EN_DAY}s?(?:\s*(?:,|and|&|/|or|-|to|through)\s*{EN_DAY}s?)*"
_AFTER_ZH = r"(?:之后|以后|以後|之後|后|後)"
_EN_WORKDAY = r"(?:working|business|work)\s+day"
_EN_ORDINAL = r"(?P<d>[0-9]{1,2})(?:st|nd|rd|th)?"
_EN_MONTH_DAY = (rf"(?:(?P<lastwd>last\s+{_EN_WORKDAY})|(?P<firstwd>first\s+{_EN_WORKDAY})|(?P<last>last\s+day)"
                 rf"|(?:day\s+)?{_EN_ORDINAL})")
_ZH_MONTH_DAY = (rf"(?:(?P<d>{HNUM})\s*(?:号|號|日)|(?P<lastwd>最后一个工作日|最后1个工作日|最後一個工作日)"
                 rf"|(?P<firstwd>第一个工作日|第1个工作日)|(?P<last>最后一天|最后1天|最後一天|月底|月末|底|末))")
_ZH_PERIODS = "凌晨|半夜|深夜|清晨|早上|早晨|一早|早间|上午|中午|午间|下午|午后|傍晚|黄昏|晚上|晚间|夜里|夜间|夜晚|下班"
_ZH_DAYS = "大后天|大後天|后天|後天|今天|今日|今儿|明天|明日|明儿|今晚|今夜|明晚|明夜|今早|今晨|明早|明晨|昨天|昨晚"
_EN_DAYS = r"(?:the\s+)?day\s+after\s+tomorrow|today|tonight|tomorrow|tomorow|tmrw|tmr|yesterday"
_EN_YEAR = r"(?:\s*,?\s*(?P<y>[0-9]{4}))?"
_WEEK_MOD_ZH = r"(?P<mod>下下个?|下个?|下個|本|这个?|這個?|上个?)?"

_PATTERNS: list[tuple[str, str, Builder]] = [
    # recurrences
    ("RECUR", r"cron\s*[:=]?\s*[\"'「“]?(?P<expr>(?:[0-9a-z*/,?#-]+\s+){4}[0-9a-z*/,?#-]+)[\"'」”]?", _b_cron),
    ("RECUR", r"每(?P<p>晚|早|夜)", _b_recur_daily),
    ("RECUR", rf"每天|每日|天天|每一天|{_B}(?:every\s*day|daily|each\s+day|every\s+single\s+day){_E}",
     _b_recur_daily),
    ("RECUR", r"(?<![0-9零一二两三四五六七八九十个個])(?:每一?个?)?工作日(?:的)?(?:每天|每日)?", _b_recur_workday),
    ("RECUR", rf"{_B}(?:every|each|on)\s+(?:weekday|{_EN_WORKDAY}|workday)s?{_E}|{_B}weekdays{_E}",
     _b_recur_workday),
    ("RECUR", rf"每一?个?{ZH_WEEK}\s*(?P<days>{_DAYLIST_ZH})|每一?个?(?P<weekend>周末)", _b_recur_weekly_zh),
    ("RECUR", rf"{_B}(?:every|each)\s+(?P<days>{_DAYLIST_EN}){_E}", _b_recur_weekly_en),
    ("RECUR", rf"每一?个?月(?:的)?\s*{_ZH_MONTH_DAY}", _b_recur_monthly),
    ("RECUR", rf"{_B}(?:every\s+month|each\s+month|monthly)\s+on\s+(?:the\s+)?{_EN_MONTH_DAY}{_E}",
     _b_recur_monthly),
    ("RECUR", rf"{_B}on\s+the\s+{_EN_MONTH_DAY}\s+of\s+(?:every|each|the)\s+month{_E}", _b_recur_monthly),
    ("RECUR", rf"每(?:隔)?\s*(?P<parts>{zh_parts(tw.ZH_CLOCK_UNITS, least=2)})(?:一次)?", _b_recur_interval),
    ("RECUR", rf"每(?:隔)?\s*(?P<n>{NUM}(?:\.[0-9]+)?|半)?\s*个?\s*(?P<half>半)?\s*"
              rf"(?P<unit>分钟|分鐘|分|小时|小時|钟头|鐘頭)(?:一次)?", _b_recur_interval),
    ("RECUR", rf"{_B}every\s+(?P<parts>{en_parts(tw.EN_CLOCK_UNITS, least=2)}){_E}", _b_recur_interval),
    ("RECUR", rf"{_B}every\s+(?:(?P<n>[0-9]+|half\s+an?|an?|one|two|three|four|five|six|ten|fifteen|twenty"
              rf"|thirty)\s*)?(?P<unit>minutes?|mins?|hours?|hrs?|h|m){_E}", _b_recur_interval),
    ("RECUR", rf"{_B}hourly{_E}", _b_recur_hourly),
    # offsets
    ("OFFSET", rf"(?P<parts>{zh_parts()})\s*{_AFTER_ZH}", _b_offset),
    ("OFFSET", rf"再?过\s*(?P<parts>{zh_parts()})(?:\s*{_AFTER_ZH})?", _b_offset),
    ("OFFSET", rf"{_B}in\s+(?P<parts>{en_parts()})(?P<andhalf>\s+and\s+a\s+half)?{_E}", _b_offset),
    ("OFFSET", rf"(?<![0-9a-z])(?P<parts>{en_parts()})(?P<andhalf>\s+and\s+a\s+half)?\s+(?:later|from\s+now){_E}",
     _b_offset),
    # deadlines
    ("WITHIN", rf"(?P<n>{NUM}|半)\s*个?\s*(?P<unit>工作日|工作天|小时|小時|天|日|周|星期|分钟)\s*(?:之内|以内|内|內)",
     _b_within),
    ("WITHIN", rf"(?P<parts>{zh_parts(tw.ZH_SPAN_UNITS, least=2)})\s*(?:之内|以内|内|內)", _b_within),
    ("WITHIN", rf"{_B}within\s+(?P<parts>{en_parts(tw.EN_SPAN_UNITS, least=2)}){_E}", _b_within),
    ("WITHIN", rf"{_B}within\s+(?P<n>{EN_NUM})\s+(?P<unit>{_EN_WORKDAY}s?|days?|hours?|weeks?|minutes?){_E}",
     _b_within),
    ("MONTHEND", r"(?P<next>下个?月|下個月)(?:月底|月末|底|末)|(?:本月|这个月|這個月)(?:月底|月末|底|末)|月底|月末",
     _b_month_end),
    ("MONTHEND", rf"{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<nextm>next\s+)?month{_E}", _b_month_end),
    ("YEAREND", rf"(?P<next>明年)?(?:年底|年末)|{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?year{_E}",
     _b_year_end),
    ("WEEKEND", rf"本周内|这周内|本星期内|這週內|{_B}(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week{_E}"
                rf"|{_B}this\s+week{_E}|(?P<next>下周内|下个星期内|{_B}next\s+week{_E})", _b_week_end),
    # days and dates
    ("DAY", rf"(?P<w>{_ZH_DAYS})", _b_day),
    ("DAY", rf"{_B}(?P<w>{_EN_DAYS}){_E}", _b_day),
    ("WEEKDAY", rf"{_WEEK_MOD_ZH}\s*{ZH_WEEK}(?P<d>{ZH_DAYCHAR})(?![0-9])", _b_weekday_zh),
    ("WEEKDAY", rf"{_B}(?:(?P<mod>next|this|coming|on)\s+)?(?P<d>{EN_DAY})\.?{_E}", _b_weekday_en),
    ("DATE", rf"(?:(?P<y>[0-9]{{4}})\s*年|(?P<ry>今年|明年|后年|後年))?"
             rf"\s*(?P<m>{HNUM})\s*月\s*(?P<d>{HNUM})\s*(?:日|号|號)?(?![0-9])", _b_date_zh),
    ("DATE", rf"(?P<rel>下下个?月|下个?月|下個月|本月|这个月|這個月)\s*(?P<d>{HNUM})\s*(?:号|號|日)",
     _b_date_rel_month),
    ("DATE", r"(?<![0-9])(?P<y>[0-9]{4})\s*[-/.年]\s*(?P<m>[0-9]{1,2})\s*[-/.月]\s*(?P<d>[0-9]{1,2})"
             r"\s*(?:日|号)?(?![0-9])", _b_date_iso),
    ("DATE", r"(?<![0-9:./-])(?P<m>[0-9]{1,2})[-/](?P<d>[0-9]{1,2})"
             r"(?![0-9:/-]|\s*(?:点|點|时|時|:|a\.?m|p\.?m))", _b_date_md),
    ("DATE", rf"{_B}(?P<mon>{EN_MONTH})\.?\s+{_EN_ORDINAL}{_EN_YEAR}(?![0-9a-z:])", _b_date_en),
    ("DATE", rf"(?<![0-9]){_EN_ORDINAL}\s+(?:of\s+)?(?P<mon>{EN_MONTH}){_E}{_EN_YEAR}", _b_date_en),
    ("MDAY", rf"(?<![月0-9.])(?P<d>{HNUM})\s*(?:号|號|日)(?!\s*(?:后|以后|之后|後|内|內|游))", _b_mday),
    # periods and clock times
    ("PERIOD", rf"(?P<p>{_ZH_PERIODS}|早(?=\s*{NUM_START})|晚(?=\s*{NUM_START}))", _b_period),
    ("PERIOD", rf"{_B}(?:in\s+the\s+|this\s+)?(?P<p>morning|afternoon|evening|night){_E}", _b_period),
    ("TIME", rf"(?<![0-9])(?P<h>[0-9]{{1,2}})\s?:\s?(?P<m>[0-9]{{2}})(?::[0-9]{{2}})?"
             rf"(?:\s*(?P<ap>{AMPM})(?![a-z]))?(?![0-9])", _b_time_colon),
    ("TIME", rf"(?P<h>{HNUM})\s*(?:点|點|时|時)(?:钟|鐘|整)?"
             rf"(?:(?P<half>半)|(?P<q>[一1三3])刻|(?P<m>{HNUM})(?:分钟|分鐘|分)?)?", _b_time_zh),
    ("TIME", rf"(?<![0-9a-z:.])(?P<h>[0-9]{{1,2}})(?:[:.](?P<m>[0-9]{{2}}))?\s*(?P<ap>{AMPM})(?![a-z])",
     _b_time_ampm),
    ("TIME", rf"{_B}at\s+(?P<h>[0-9]{{1,2}})(?![0-9:]|\s*(?:{AMPM}|点|點|时|時|o'?clock|[-/.]))", _b_time_bare),
    ("TIME", r"(?<![0-9])(?P<h>[0-9]{1,2})\s*o'?clock", _b_time_bare),
    ("TIME", rf"{_B}(?P<s>noon|midday|midnight){_E}|(?P<zs>正午|午夜)", lambda m, mode: _b_time_special_any(m)),
    ("RANGE", rf"(?P<h1>{HNUM})(?:点|點)?(?P<half1>半)?\s*(?:-|~|〜|到|至)\s*(?P<h2>{HNUM})\s*(?:点|點)(?P<half2>半)?",
     _b_range_zh),
]


def _b_time_special_any(m: re.Match[str]) -> dict[str, Any] | None:
    word = m.group("s") or m.group("zs")
    if word in ("noon", "midday", "正午"):
        return _time_data(12, 0, "colon", word)
    return _time_data(0, 0, "colon", word, special="midnight")


_COMPILED = [(kind, re.compile(pat), build) for kind, pat, build in _PATTERNS]
# characters an atom can start with: a cheap filter before trying every pattern at a position
_QUICK = re.compile(r"[0-9零〇一二两兩三四五六七八九十每天今明后後大昨下本这這上周星礼禮週"
                    r"凌半深清早中午傍黄晚夜正工月年a-z过再]")


def _scan(norm: str, mode: str) -> list[_Atom]:
    cands: list[_Atom] = []
    for order, (kind, pat, build) in enumerate(_COMPILED):
        if kind in ("WITHIN", "WEEKEND", "YEAREND") and mode != "deadline":
            continue
        for pos in range(len(norm)):
            if not _QUICK.match(norm, pos):
                continue
            m = pat.match(norm, pos)
            if not m or m.end() == m.start():
                continue
            s, e = m.start(), m.end()
            # trim whitespace the pattern may have swallowed at either end
            while s < e and norm[s].isspace():
                s += 1
            while e > s and norm[e - 1].isspace():
                e -= 1
            try:
                data = build(m, mode)
            except _Bad as bad:
                cands.append(_Atom(kind, s, e, {}, bad, order))
                continue
            if data is None:
                continue
            cands.append(_Atom(kind, s, e, data, None, order))
    cands.sort(key=lambda a: (a.start, -(a.end - a.start), a.order))
    chosen: list[_Atom] = []
    taken = [False] * (len(norm) + 1)
    for atom in cands:
        if any(taken[i] for i in range(atom.start, atom.end)):
            continue
        for i in range(atom.start, atom.end):
            taken[i] = True
        chosen.append(atom)
    chosen.sort(key=lambda a: a.start)
    return chosen


# ---------------------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------------------
_GAP = re.compile(r"^[\s,、]*(?:(?:的|在|于|於|从|從|自|起|开始|開始|at|on|from|of|the|starting|and|,)[\s,、]*)*$")
_RANGE_SEP = re.compile(r"^\s*(?:到|至|~|〜|-|–|—|to|until|till|and|through)\s*$")
_WEIGHT = {"RECUR": 8, "OFFSET": 6, "WITHIN": 6, "RANGE": 5, "TIME": 4, "DATE": 2, "MDAY": 2, "DAY": 2,
           "WEEKDAY": 2, "MONTHEND": 2, "YEAREND": 2, "WEEKEND": 2, "PERIOD": 1}


@dataclass
class _Cluster:
    atoms: list[_Atom] = field(default_factory=list)
    links: set[int] = field(default_factory=set)  # i: atoms[i] and atoms[i+1] form a range

    @property
    def start(self) -> int:
        return self.atoms[0].start

    @property
    def end(self) -> int:
        return self.atoms[-1].end

    @property
    def score(self) -> int:
        return sum(_WEIGHT.get(a.kind, 1) for a in self.atoms)

    def kinds(self) -> set[str]:
        return {a.kind for a in self.atoms}


_DAYISH = ("DAY", "WEEKDAY", "DATE", "MDAY")


def _complete(cluster: _Cluster, atom: _Atom) -> bool:
    """Does ``cluster`` already say which day(s), so that a day word after it belongs to the
    text? "每周六 10:00 周六例会": the rule names Saturday; "明天 10:00 明天的会": a day and a
    clock time. (A day followed by another day, "12月1日 周二", stays one expression.)"""
    if atom.kind not in _DAYISH:
        return False
    if any(a.kind == "RECUR" and a.data.get("kind") in ("weekly", "monthly") for a in cluster.atoms):
        return True
    kinds = cluster.kinds()
    return bool(kinds & set(_DAYISH)) and bool(kinds & {"TIME", "RANGE"})


def _clusters(norm: str, atoms: list[_Atom]) -> list[_Cluster]:
    out: list[_Cluster] = []
    current: _Cluster | None = None
    for atom in atoms:
        if current is not None:
            prev = current.atoms[-1]
            gap = norm[prev.end:atom.start]
            if prev.kind == "TIME" and atom.kind in ("TIME", "PERIOD") and _RANGE_SEP.match(gap):
                current.links.add(len(current.atoms) - 1)
                current.atoms.append(atom)
                continue
            if _GAP.match(gap) and "\n" not in gap and not _complete(current, atom):
                current.atoms.append(atom)
                continue
        current = _Cluster([atom])
        out.append(current)
    return out


_ZAI = r"(?<![现現正存所实實好还還都内外自])在"  # 在 as "at", not inside 现在/正在/存在…
_LEAD_REMIND = re.compile(rf"(?:(?<![a-z])(?:at|on|from|starting)|现在|現在|{_ZAI}|于|於|从|從|自)\s*$")
_LEAD_DEADLINE = re.compile(r"(?:(?<![a-z])(?:by|before|due\s+by|due|no\s+later\s+than|until|till|on|at)"
                            rf"|截止到|截止|截至|最晚|最迟|最遲|不晚于|不迟于|{_ZAI}|于|於)\s*$")
_TRAIL_RECUR = re.compile(r"\s*(?:起|开始|開始)")
_TRAIL_DEADLINE = re.compile(r"\s*(?:之前|以前|前|之内|以内|内|內|为止|為止|截止)")


def _span(norm: str, cluster: _Cluster, mode: str) -> tuple[int, int]:
    start, end = cluster.start, cluster.end
    lead = _LEAD_DEADLINE if mode == "deadline" else _LEAD_REMIND
    m = lead.search(norm[:start])
    if m:
        start = m.start()
    trail = _TRAIL_DEADLINE if mode == "deadline" else (_TRAIL_RECUR if "RECUR" in cluster.kinds() else None)
    if trail is not None:
        t = trail.match(norm, end)
        if t:
            end = t.end()
    return start, end


# ---------------------------------------------------------------------------------------
# Rest text
# ---------------------------------------------------------------------------------------
_CMD = re.compile(r"\s*/\S+\s*")
_FILLER_BEFORE = re.compile(r"\s*(?:请|麻烦|請)?(?:提醒我们|提醒我們|提醒我|提醒一下|叫我|通知我|提醒(?=\s)|"
                            r"remind\s+(?:me|us|everyone|all)\s+(?:to\s+|that\s+|about\s+)?|remind\s+)")
_FILLER_AFTER = re.compile(r"\s*(?:的(?!确|確)|提醒我们|提醒我們|提醒我|叫我|通知我|to\s+|that\s+|about\s+)")
_EDGE = set(" \t\r\n,.:;!、-—~。")


def _trim(norm: str, a: int, b: int) -> tuple[int, int]:
    while a < b and (norm[a] in _EDGE or norm[a].isspace()):
        a += 1
    while b > a and (norm[b - 1] in _EDGE or norm[b - 1].isspace()):
        b -= 1
    return a, b


def _rest(text: str, norm: str, start: int, end: int) -> str:
    """The text around the expression, less a leading /command and "提醒我"-style filler.
    Regexes run on the normalised text; the original characters are returned."""
    pos = 0
    m = _CMD.match(norm, 0, start)
    if m:
        pos = m.end()
    m = _FILLER_BEFORE.match(norm, pos, start)
    if m:
        pos = m.end()
    a, b = _trim(norm, pos, start)
    before = text[a:b]
    a, _ = _trim(norm, end, len(norm))
    m = _FILLER_AFTER.match(norm, a)
    if m:
        a = m.end()
    a, b = _trim(norm, a, len(norm))
    after = text[a:b]
    if before and after:
        return f"{before} {after}"
    return before or after


# ---------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------
@dataclass
class _Clock:
    h: int
    m: int
    shift: int = 0  # days to add (晚上12点 → 00:00 next day)
    ambiguous: bool = False  # "3点" without 上午/下午: 3:00 or 15:00
    text: str = ""
    loose: bool = False  # a "N点" (1 ≤ N ≤ 12) with no period: a range end may take N or N+12

    def hours(self) -> tuple[int, ...]:
        """The hours this clock may mean: both halves of the day when written loosely."""
        return (self.h % 12, self.h % 12 + 12) if self.loose else (self.h,)

    def at(self, d: date, pm: bool = False) -> tuple[date, time]:
        h = self.h + 12 if pm and self.ambiguous else self.h
        return d + timedelta(days=self.shift), time(h, self.m)


def _clock(t: dict[str, Any], period: str | None) -> _Clock:
    h, m, style, text = t["h"], t["m"], t["style"], t["text"]
    if t.get("special") == "midnight":
        return _Clock(0, 0, 1, False, text)
    if h == 24:
        return _Clock(0, m, 1, False, text)
    if style == "ampm":
        ap = t["ap"]
        h = h % 12 + (12 if ap == "p" else 0)
        return _Clock(h, m, 0, False, text)
    if period is None or h == 0:
        if period is not None and period in ("evening",) and h == 0:
            return _Clock(0, m, 1, False, text)
        loose = period is None and style in ("cn", "bare") and 1 <= h <= 12
        return _Clock(h, m, 0, loose and h <= 11, text, loose)
    if period == "dawn":
        if h >= 13:
            raise _Bad(f"“凌晨{text}”说不通", f"“{text}” cannot be in the small hours")
        return _Clock(0 if h == 12 else h, m, 0, False, text)
    if period in ("early", "morning"):
        if h >= 13:
            raise _Bad(f"“上午{text}”说不通（上午的小时应在 0–12 之间）",
                       f"“{text}” cannot be in the morning")
        return _Clock(h, m, 0, False, text)
    if period == "noon":
        return _Clock(h + 12 if 1 <= h <= 5 else h, m, 0, False, text)
    if period in ("afternoon", "dusk", "offwork"):
        return _Clock(h + 12 if 1 <= h <= 11 else h, m, 0, False, text)
    # evening
    if 5 <= h <= 11:
        return _Clock(h + 12, m, 0, False, text)
    if h == 12:
        return _Clock(0, m, 1, False, text)
    if 1 <= h <= 4:
        return _Clock(h, m, 1, False, text)
    return _Clock(h, m, 0, False, text)


def _fixed_clock(c: _Clock, flip: bool = False) -> tuple[int, time]:
    """(day shift, time) of a clock read with a known date: 1–6 → pm, 7–11 → am
    (``flip``: the other half of the day)."""
    pm = c.ambiguous and (1 <= c.h <= 6) != flip
    return c.shift, time(c.h + 12 if pm else c.h, c.m)


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _span_minutes(s: time, e: time) -> int:
    """Minutes from ``s`` to ``e``, wrapping past midnight (0 counts as a whole day)."""
    return (_minutes(e) - _minutes(s)) % (24 * 60) or 24 * 60


def _range_times(a: _Clock, b: _Clock, flip: bool = False) -> tuple[tuple[int, time], tuple[int, time]]:
    """The (shift, time) of a range's start and end. A loose start is read like a dated clock
    (1–6 pm, 7–11 am), or, against a fixed end, as the reading with the shorter range
    ("3点-19:00" → 15:00); a loose end is the first such time after the start ("3点-7点" →
    15:00–19:00, "10点-2点" → 10:00–14:00). ``flip`` takes the start's other half-day."""
    if a.ambiguous and not b.loose:
        end = _fixed_clock(b)[1]
        options = sorted((time(h, a.m) for h in a.hours()), key=lambda t: _span_minutes(t, end))
        start = (a.shift, options[1] if flip else options[0])
    else:
        start = _fixed_clock(a, flip)
    if not b.loose:
        return start, _fixed_clock(b)
    ends = [time(h % 24, b.m) for h in b.hours()]
    return start, (b.shift, min(ends, key=lambda t: _span_minutes(start[1], t)))


def _local(d: date, t: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=zone)


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


class _Resolver:
    def __init__(self, cluster: _Cluster, now: datetime, zone: ZoneInfo, tz: str, mode: str, fragment: str,
                 flip: bool = False) -> None:
        self.c = cluster
        self.flip = flip  # read an ambiguous "N点" the other way (the alternative reading)
        self.ambiguous: _Clock | None = None  # the ambiguous clock the reading depended on
        self.undated = False  # it was read without a date (a sooner other reading is plausible)
        self.now = now.astimezone(zone)
        self.today = self.now.date()
        self.zone = zone
        self.tz = tz
        self.mode = mode
        self.fragment = fragment
        self.default = DEADLINE_DEFAULT if mode == "deadline" else REMIND_DEFAULT
        self.assumed = False

    # -- helpers -----------------------------------------------------------------------
    def first(self, *kinds: str) -> _Atom | None:
        for kind in kinds:
            for a in self.c.atoms:
                if a.kind == kind:
                    return a
        return None

    def period_for(self, index: int) -> str | None:
        """The period that applies to the atom at ``index``: the nearest PERIOD before it, else
        a PERIOD after it, else a DAY atom's built-in period (今晚), else None."""
        for a in reversed(self.c.atoms[:index]):
            if a.kind == "PERIOD":
                return a.data["period"]
        for a in self.c.atoms[index + 1:]:
            if a.kind == "PERIOD":
                return a.data["period"]
            if a.kind in ("TIME", "RANGE"):
                break
        for a in self.c.atoms:
            if a.kind == "DAY" and a.data.get("period"):
                return a.data["period"]
            if a.kind == "RECUR" and a.data.get("period"):
                return a.data["period"]
        return None

    def clocks(self) -> tuple[_Clock | None, tuple[_Clock, _Clock] | None]:
        """(the single clock time, the range) of the cluster."""
        single: _Clock | None = None
        rng: tuple[_Clock, _Clock] | None = None
        atoms = self.c.atoms
        i = 0
        while i < len(atoms):
            a = atoms[i]
            if a.kind == "RANGE" and rng is None:
                p = self.period_for(i)
                rng = (_clock(a.data["a"], p), _clock(a.data["b"], p))
            elif a.kind == "TIME":
                p = self.period_for(i)
                if (i in self.c.links) and rng is None:
                    j = i + 1
                    while j < len(atoms) and atoms[j].kind != "TIME":
                        j += 1
                    if j < len(atoms):
                        rng = (_clock(a.data, p), _clock(atoms[j].data, self.period_for(j)))
                        i = j + 1
                        continue
                if single is None:
                    single = _clock(a.data, p)
            i += 1
        return single, rng

    def period_only(self) -> str | None:
        for a in self.c.atoms:
            if a.kind == "PERIOD":
                return a.data["period"]
        return self.period_for(len(self.c.atoms))

    def past(self, dt: datetime) -> PastTimeError:
        hint = None
        wd_atom = self.first("WEEKDAY")
        if wd_atom is not None and wd_atom.data["mod"] == "this" and self.first("DATE", "MDAY", "DAY") is None:
            monday = self.today - timedelta(days=self.today.weekday())
            hint = readings.this_week_hint(wd_atom.data["wd"], monday, self.fragment.isascii())
        return PastTimeError(self.fragment, dt.astimezone(UTC), self.tz, hint)

    def fixed(self, c: _Clock) -> tuple[int, time]:
        if c.ambiguous:
            self.ambiguous = c
        return _fixed_clock(c, self.flip)

    def range_times(self, a: _Clock, b: _Clock) -> tuple[tuple[int, time], tuple[int, time]]:
        if a.ambiguous:
            self.ambiguous = a
        return _range_times(a, b, self.flip)

    def future(self, dt: datetime) -> datetime:
        if dt <= self.now:
            raise self.past(dt)
        return dt.astimezone(UTC)

    # -- dates ------------------------------------------------------------------------
    def date_atom(self) -> _Atom | None:
        return self.first("DATE", "MDAY", "DAY", "WEEKDAY", "MONTHEND", "WEEKEND", "YEAREND")

    def candidate_dates(self, a: _Atom) -> tuple[list[date], bool]:
        """Dates the atom may mean, in order of preference, and whether the first one is
        fixed (a past moment on it is an error rather than a reason to try the next)."""
        d = a.data
        today = self.today
        if a.kind == "DAY":
            return [today + timedelta(days=d["offset"])], True
        if a.kind == "WEEKDAY":
            monday = today - timedelta(days=today.weekday())
            mod = d["mod"]
            if mod == "this":
                return [monday + timedelta(days=d["wd"])], True
            if mod == "next":
                return [monday + timedelta(days=7 + d["wd"])], True
            if mod == "next2":
                return [monday + timedelta(days=14 + d["wd"])], True
            if mod == "last":
                return [monday - timedelta(days=7 - d["wd"])], True
            delta = (d["wd"] - today.weekday()) % 7
            first = today + timedelta(days=delta)
            return [first, first + timedelta(days=7)], False
        if a.kind == "DATE":
            if d.get("rel_month") is not None:
                first = _add_months(date(today.year, today.month, 1), d["rel_month"])
                last = calendar.monthrange(first.year, first.month)[1]
                if d["d"] > last:
                    raise _Bad(f"{first.year}年{first.month}月没有{d['d']}日",
                               f"{first.year}-{first.month:02d} has no day {d['d']}")
                return [first.replace(day=d["d"])], True
            if d["y"] is not None:
                return [date(d["y"], d["m"], d["d"])], True
            if d["rel_year"] is not None:
                y = today.year + d["rel_year"]
                try:
                    return [date(y, d["m"], d["d"])], True
                except ValueError:
                    raise _Bad(f"{y}年没有{d['m']}月{d['d']}日", f"{y} has no {d['m']}/{d['d']}") from None
            out = []
            for y in range(today.year, today.year + 9):
                try:
                    cand = date(y, d["m"], d["d"])
                except ValueError:  # 2月29日 outside a leap year
                    continue
                if cand >= today:
                    out.append(cand)
                if len(out) == 2:
                    break
            return out, True
        if a.kind == "MDAY":
            out = []
            cursor = date(today.year, today.month, 1)
            for _ in range(14):
                if d["d"] <= calendar.monthrange(cursor.year, cursor.month)[1]:
                    cand = cursor.replace(day=d["d"])
                    if cand >= today:
                        out.append(cand)
                if len(out) == 2:
                    break
                cursor = _add_months(cursor, 1)
            return out, True
        if a.kind == "MONTHEND":
            target = _add_months(date(today.year, today.month, 1), d["months"])
            return [target.replace(day=calendar.monthrange(target.year, target.month)[1])], True
        if a.kind == "YEAREND":
            return [date(today.year + d["years"], 12, 31)], True
        if a.kind == "WEEKEND":
            monday = today - timedelta(days=today.weekday()) + timedelta(days=7 * d["weeks"])
            return [monday + timedelta(days=4), monday + timedelta(days=6)], d["weeks"] > 0
        raise AssertionError(a.kind)

    # -- one-off ----------------------------------------------------------------------
    def resolve_once(self) -> datetime:
        single, rng = self.clocks()
        clock = single or (rng[0] if rng else None)
        offset = self.first("OFFSET")
        within = self.first("WITHIN")
        date_atom = self.date_atom()
        if offset is not None:
            od = offset.data
            months, days = od.get("months", 0), od.get("days", 0)
            if "minutes" in od:  # an exact moment: now plus the whole duration ("2天3小时后")
                start = datetime.combine(_add_months(self.today, months), self.now.timetz())
                return self.future(start + timedelta(days=days, minutes=od["minutes"]))
            base = _add_months(self.today, months) + timedelta(days=int(days))
            if clock is None and self.period_only() is None:
                start = datetime.combine(_add_months(self.today, months), self.now.timetz())
                return self.future(start + timedelta(days=days))
            return self.on_dates([base], True, clock)
        if within is not None:
            wd = within.data
            if "minutes" in wd:
                return self.future(self.now + timedelta(minutes=wd["minutes"]))
            if "workdays" in wd:
                base = workdays.add_working_days(self.today, wd["workdays"])
            else:
                base = self.today + timedelta(days=int(wd["days"]))
            return self.on_dates([base], True, clock)
        if date_atom is not None:
            dates, fixed = self.candidate_dates(date_atom)
            if not dates:
                raise _Bad("这个日期找不到将来的一天", "That date has no day in the future")
            return self.on_dates(dates, fixed, clock)
        # no date: today if still ahead, else tomorrow
        if clock is not None:
            if clock.ambiguous:
                return self.undated_reading(clock)
            dd, tt = clock.at(self.today)
            dt = _local(dd, tt, self.zone)
            if dt <= self.now:
                dd, tt = clock.at(self.today + timedelta(days=1))
                dt = _local(dd, tt, self.zone)
            return dt.astimezone(UTC)
        period = self.period_only()
        if period is not None:
            self.assumed = True
            t = PERIOD_DEFAULTS[period]
            dt = _local(self.today, t, self.zone)
            if dt <= self.now:
                dt = _local(self.today + timedelta(days=1), t, self.zone)
            return dt.astimezone(UTC)
        raise _Bad("没有找到具体时间", "No time found")

    def undated_reading(self, clock: _Clock) -> datetime:
        """"3点" with no date: of the next 03:00 and the next 15:00, the earliest in likely
        hours (readings.py); ``flip`` gives the other one."""
        self.ambiguous, self.undated = clock, True
        options = []
        for pm in (False, True):
            dd, tt = clock.at(self.today, pm)
            dt = _local(dd, tt, self.zone)
            if dt <= self.now:
                dt = _local(dd + timedelta(days=1), tt, self.zone)
            options.append(dt)
        options.sort()
        likely = [dt for dt in options if readings.likely_hour(dt.hour, self.now)]
        taken = likely[0] if likely else options[0]
        if self.flip:
            taken = options[1] if taken == options[0] else options[0]
        return taken.astimezone(UTC)

    def on_dates(self, dates: list[date], fixed: bool, clock: _Clock | None) -> datetime:
        """The first candidate date whose moment is in the future."""
        last: datetime | None = None
        for i, d in enumerate(dates):
            for dt in self.moments(d, clock):
                last = dt
                if dt > self.now:
                    return dt.astimezone(UTC)
            if fixed and i == 0:
                break
        assert last is not None
        raise self.past(last)

    def moments(self, d: date, clock: _Clock | None) -> list[datetime]:
        """The moments meant on day ``d``: one, or for an ambiguous "3点" on today the am
        and pm readings in order."""
        if clock is None:
            period = self.period_only()
            self.assumed = True
            t = PERIOD_DEFAULTS[period] if period else self.default
            return [_local(d, t, self.zone)]
        if clock.ambiguous and d == self.today:  # "今天8点": the first still ahead, am first
            self.ambiguous = clock
            both = [_local(*clock.at(d, False), self.zone), _local(*clock.at(d, True), self.zone)]
            return both[::-1] if self.flip else both
        shift, t = self.fixed(clock)
        return [_local(d + timedelta(days=shift), t, self.zone)]

    # -- recurring --------------------------------------------------------------------
    def resolve_rule(self) -> Recurrence:
        recurs = [a for a in self.c.atoms if a.kind == "RECUR"]
        wdo = any(a.data["kind"] == "workday" for a in recurs)
        mains = [a for a in recurs if a.data["kind"] != "workday"]
        if any(a.data["kind"] == "interval" for a in mains):  # "每天 19:00-23:00 每30分钟": daily is implied
            mains = [a for a in mains if a.data["kind"] != "daily"]
        main = mains[0] if mains else None
        if len(mains) > 1:  # "每周六 每周日 10点": one weekly rule; anything else cannot be one rule
            if any(a.data["kind"] != "weekly" for a in mains):
                raise _Bad(f"“{self.fragment}”里有两种重复方式，一条提醒只能按一种重复，请分开设置",
                           f"“{self.fragment}” has two kinds of repeat; one reminder repeats one way, set two")
            main = _Atom("RECUR", main.start, main.end, {"kind": "weekly", "weekdays": sorted(
                {w for a in mains for w in a.data["weekdays"]})})
        kind = main.data["kind"] if main else "daily"
        single, rng = self.clocks()
        starts = None
        date_atom = self.date_atom()
        if date_atom is not None and kind != "cron":
            dates, _fixed = self.candidate_dates(date_atom)
            starts = dates[0] if dates else None
        if kind == "cron":
            assert main is not None
            return Recurrence.from_cron(main.data["cron"], working_days_only=wdo, tz=self.tz)
        if kind == "interval":
            assert main is not None
            minutes = main.data["minutes"]
            if rng is not None:
                (_s, s_t), (_e, e_t) = self.range_times(*rng)
                return Recurrence(kind="interval", every_minutes=minutes, window_start=s_t, window_end=e_t,
                                  working_days_only=wdo, starts=starts, tz=self.tz)
            if single is not None:  # "每30分钟 从19:00开始": anchored at that time, all day long
                _s, s_t = self.fixed(single)
                return Recurrence(kind="interval", every_minutes=minutes, window_start=s_t, window_end=s_t,
                                  working_days_only=wdo, starts=starts, tz=self.tz)
            return Recurrence(kind="interval", every_minutes=minutes, working_days_only=wdo,
                              starts=starts, tz=self.tz)
        clock = single or (rng[0] if rng else None)
        if clock is None:
            period = self.period_only()
            self.assumed = True
            shift, t = 0, PERIOD_DEFAULTS[period] if period else self.default
        else:
            shift, t = self.fixed(clock)
        if kind == "daily":
            return Recurrence(kind="daily", time=t, working_days_only=wdo, starts=starts, tz=self.tz)
        if kind == "weekly":
            assert main is not None
            days = tuple((w + shift) % 7 for w in main.data["weekdays"])
            return Recurrence(kind="weekly", weekdays=days, time=t, working_days_only=wdo,
                              starts=starts, tz=self.tz)
        assert main is not None and kind == "monthly"
        shift_rule = main.data.get("shift")
        return Recurrence(kind="monthly", month_day=main.data["month_day"], time=t,
                          working_days_only=wdo or shift_rule is not None,
                          holiday_shift=shift_rule or "skip", starts=starts, tz=self.tz)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc


def _check_now(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")


def _no_time_error(text: str, mode: str) -> TimeParseError:
    shown = text.strip() or text
    if mode == "deadline":
        zh_ex, en_ex = "、".join(DEADLINE_EXAMPLES_ZH), ", ".join(DEADLINE_EXAMPLES_EN)
        return TimeParseError(shown, f"没看懂截止时间“{shown}”。可以这样写：{zh_ex}",
                              f"Couldn't read a deadline in “{shown}”. Try: {en_ex}")
    zh_ex, en_ex = "、".join(EXAMPLES_ZH), ", ".join(EXAMPLES_EN)
    return TimeParseError(shown, f"没看懂时间“{shown}”。可以这样写：{zh_ex}",
                          f"Couldn't read a time in “{shown}”. Try: {en_ex}")


def _bad_error(text: str, atom_or_fragment: str, bad: _Bad, mode: str) -> TimeParseError:
    zh_ex = "、".join(DEADLINE_EXAMPLES_ZH if mode == "deadline" else EXAMPLES_ZH[:5])
    en_ex = ", ".join(DEADLINE_EXAMPLES_EN if mode == "deadline" else EXAMPLES_EN[:5])
    return TimeParseError(atom_or_fragment, f"{bad.zh}。可以这样写：{zh_ex}", f"{bad.en}. Try: {en_ex}")


# Repeats LiveOps cannot express (every N days/weeks/months, yearly): refuse them rather than
# silently reading only the clock time next to them.
_UNSUPPORTED = re.compile(
    r"每隔?\s*(?:[02-9]|[1-9][0-9]+|[两二三四五六七八九十]+)\s*个?\s*(?:天|日|周|星期|礼拜|月|年)"
    r"|每隔\s*(?:一|1)\s*个?\s*(?:天|日|周|星期|礼拜|月|年)|每年|每季度|隔天|隔周"
    r"|(?<![a-z])(?:every\s+other\s+[a-z]+|every\s+[0-9]+\s+(?:days|weeks|months|years)|biweekly|fortnightly"
    r"|yearly|annually|every\s+year|every\s+quarter)(?![a-z])")


def _unsupported(text: str, norm: str, near: tuple[int, int] | None) -> TimeParseError | None:
    for m in _UNSUPPORTED.finditer(norm):
        if near is not None:
            start, end = near
            touching = (m.start() < end and m.end() > start
                        or (m.end() <= start and _GAP.match(norm[m.end():start]) is not None)
                        or (m.start() >= end and _GAP.match(norm[end:m.start()]) is not None))
            if not touching:
                continue
        fragment = text[m.start():m.end()]
        zh_ex = "、".join(EXAMPLES_ZH[5:9])
        en_ex = ", ".join(EXAMPLES_EN[5:])
        return TimeParseError(fragment, f"暂不支持“{fragment}”这种重复方式（提醒只能按每天、每个工作日、每周几、"
                                        f"每月几号、固定间隔或 cron 重复）。可以这样写：{zh_ex}",
                              f"Repeats like “{fragment}” are not supported yet (a reminder repeats every day, "
                              f"working day, week day, month day, fixed interval or cron line). Try: {en_ex}")
    return None


def _pick(text: str, norm: str, mode: str) -> tuple[_Cluster, int, int]:
    atoms = _scan(norm, mode)
    clusters = _clusters(norm, atoms)
    if not clusters:
        raise _unsupported(text, norm, None) or _no_time_error(text, mode)
    best = max(clusters, key=lambda c: (c.score, -c.start))
    for a in best.atoms:
        if a.error is not None:
            raise _bad_error(text, text[a.start:a.end], a.error, mode)
    start, end = _span(norm, best, mode)
    err = _unsupported(text, norm, (start, end))
    if err is not None:
        raise err
    return best, start, end


def _note(assumed: bool, when: datetime, zone: ZoneInfo, locale: str) -> tuple[str, ...]:
    if not assumed:
        return ()
    hm = when.astimezone(zone).strftime("%H:%M")
    if locale.lower().startswith("en"):
        return (f"No time of day given; using {hm}.",)
    return (f"没有写具体几点，默认 {hm}。",)


def _rule_times(rule: Recurrence) -> tuple[time, time | None]:
    """The clock time a rule's reading is about: its time, or its window (start, end)."""
    if rule.kind == "interval":
        assert rule.window_start is not None
        end = rule.window_end if rule.window_end != rule.window_start else None
        return rule.window_start, end
    assert rule.time is not None
    return rule.time, None


def _other_reading(first: _Resolver, text: str, now: datetime, when: datetime, rule: Recurrence,
                   locale: str) -> tuple[tuple[Alternative, ...], str]:
    """Resolve the cluster again with the ambiguous clock read the other way."""
    clock = first.ambiguous
    if clock is None:
        return (), ""
    other = _Resolver(first.c, now, first.zone, first.tz, first.mode, first.fragment, flip=True)
    try:
        if rule.kind == "once":
            alt_when: datetime | None = other.resolve_once()
            alt_rule = Recurrence.once_at(alt_when, first.tz)
        else:
            alt_rule = other.resolve_rule()
            alt_when = next_fire(alt_rule, now)
    except (_Bad, TimeParseError):
        return (), ""
    if alt_when is None or (alt_when == when and alt_rule == rule):
        return (), ""
    local_now = now.astimezone(first.zone)
    if rule.kind == "once":
        taken, taken_end = when.astimezone(first.zone).time(), None
        other_t, other_end = alt_when.astimezone(first.zone).time(), None
    else:
        taken, taken_end = _rule_times(rule)
        other_t, other_end = _rule_times(alt_rule)
    plausible = readings.likely_hour(other_t.hour, local_now) or (first.undated and alt_when < when)
    label = readings.clock_label(other_t, locale, other_end)
    note = readings.note(clock.text, readings.clock_label(taken, locale, taken_end), label, other_t, locale)
    return (Alternative(alt_when, alt_rule, plausible, label),), note


def _weekday_note(resolver: _Resolver, text: str, when: datetime, locale: str) -> str:
    """A bare weekday ("周五") that landed in next week because this week's has passed."""
    a = resolver.date_atom()
    if a is None or a.kind != "WEEKDAY" or a.data["mod"] is not None:
        return ""
    day = when.astimezone(resolver.zone).date()
    monday = resolver.today - timedelta(days=resolver.today.weekday())
    if day < monday + timedelta(days=7):
        return ""
    return readings.weekday_note(text[a.start:a.end].strip(), day, locale)


def _finish(resolver: _Resolver, text: str, norm: str, start: int, end: int, now: datetime, when: datetime,
            rule: Recurrence, locale: str) -> Parsed:
    alternatives, reading = _other_reading(resolver, text, now, when, rule, locale)
    if rule.kind == "once":
        reading = " ".join(x for x in (_weekday_note(resolver, text, when, locale), reading) if x)
    notes = _note(resolver.assumed, when, resolver.zone, locale) + ((reading,) if reading else ())
    return Parsed(when=when, rule=rule, matched=text[start:end], rest=_rest(text, norm, start, end), start=start,
                  end=end, assumed_time=resolver.assumed, notes=notes, alternatives=alternatives,
                  reading_note=reading)


def parse(text: str, now: datetime, tz: str = DEFAULT_TZ, locale: str = "zh_CN") -> Parsed:
    """Read the time expression in ``text`` (anywhere in it) relative to ``now``.

    Raises TimeParseError when no time can be read or a part is malformed, PastTimeError
    (a TimeParseError) when a one-off time is not after ``now``. An ambiguous "N点" comes
    back with its other reading in ``alternatives`` and a ``reading_note``."""
    _check_now(now)
    zone = _zone(tz)
    norm = normalize(text)
    cluster, start, end = _pick(text, norm, "remind")
    fragment = text[start:end]
    resolver = _Resolver(cluster, now, zone, tz, "remind", fragment)
    try:
        if "RECUR" in cluster.kinds():
            rule = resolver.resolve_rule()
            when = next_fire(rule, now)
            if when is None:
                raise _Bad("这个重复规则以后不会再触发", "This rule never fires again")
        else:
            when = resolver.resolve_once()
            rule = Recurrence.once_at(when, tz)
    except _Bad as bad:
        raise _bad_error(text, fragment, bad, "remind") from None
    return _finish(resolver, text, norm, start, end, now, when, rule, locale)


def parse_deadline(text: str, now: datetime, tz: str = DEFAULT_TZ, locale: str = "zh_CN") -> Parsed:
    """Read a task deadline: "本周五前", "3个工作日内", "7月15日前", "明天中午前", "月底前".
    A day without a time means 18:00 that day (``assumed_time=True``). Recurring expressions
    are rejected."""
    _check_now(now)
    zone = _zone(tz)
    norm = normalize(text)
    cluster, start, end = _pick(text, norm, "deadline")
    fragment = text[start:end]
    if "RECUR" in cluster.kinds():
        raise TimeParseError(fragment, f"截止时间不能是重复的（“{fragment}”）。可以这样写："
                             + "、".join(DEADLINE_EXAMPLES_ZH),
                             f"A deadline cannot repeat (“{fragment}”). Try: " + ", ".join(DEADLINE_EXAMPLES_EN))
    resolver = _Resolver(cluster, now, zone, tz, "deadline", fragment)
    try:
        when = resolver.resolve_once()
    except _Bad as bad:
        raise _bad_error(text, fragment, bad, "deadline") from None
    return _finish(resolver, text, norm, start, end, now, when, Recurrence.once_at(when, tz), locale)


def _on_day(day: date, st: tuple[int, time], et: tuple[int, time], zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = _local(day + timedelta(days=st[0]), st[1], zone)
    end = _local(day + timedelta(days=et[0]), et[1], zone)
    while end <= start:
        end = _local(end.date() + timedelta(days=1), et[1], zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def read_range(text: str, day: date, tz: str = DEFAULT_TZ, locale: str = "zh_CN") -> RangeReading:
    """A time range on ``day``: "19:00-23:00", "19:00~01:00" (ends the next day),
    "晚上7点到11点", "7-11点", "3点-7点" (15:00–19:00, see readings.py). The end is after
    the start. An ambiguous range carries its other reading and a note."""
    zone = _zone(tz)
    norm = normalize(text)
    atoms = _scan(norm, "range")
    for cluster in _clusters(norm, atoms):
        for a in cluster.atoms:
            if a.error is not None and a.kind in ("TIME", "RANGE"):
                raise _bad_error(text, text[a.start:a.end], a.error, "remind")
        resolver = _Resolver(cluster, datetime.combine(day, time(12), tzinfo=zone), zone, tz, "range", "")
        try:
            _single, rng = resolver.clocks()
        except _Bad as bad:
            raise _bad_error(text, text[cluster.start:cluster.end], bad, "remind") from None
        if rng is None:
            continue
        st, et = resolver.range_times(*rng)
        start, end = _on_day(day, st, et, zone)
        if resolver.ambiguous is None:
            return RangeReading(start, end)
        st2, et2 = _range_times(*rng, flip=True)
        if (st2, et2) == (st, et):
            return RangeReading(start, end)
        start2, end2 = _on_day(day, st2, et2, zone)
        plausible = st2[1].hour >= readings.LIKELY_FROM
        note = readings.note(rng[0].text, readings.clock_label(st[1], locale, et[1]),
                             readings.clock_label(st2[1], locale, et2[1]), st2[1], locale)
        return RangeReading(start, end, ((start2, end2, plausible),), note)
    shown = text.strip() or text
    raise TimeParseError(shown, f"没看懂时间段“{shown}”。可以这样写：19:00-23:00、19:00~01:00、晚上7点到11点",
                         f"Couldn't read a time range in “{shown}”. Try: 19:00-23:00, 19:00~01:00, 7pm to 11pm")


def parse_range(text: str, day: date, tz: str = DEFAULT_TZ) -> tuple[datetime, datetime]:
    """(start, end) of :func:`read_range` (aware UTC, end > start)."""
    reading = read_range(text, day, tz)
    return reading.start, reading.end


def format_local(when: datetime, tz: str = DEFAULT_TZ, locale: str = "zh_CN") -> str:
    """A short local rendering for confirmations: "2026-11-27（周五）19:00"."""
    local = when.astimezone(ZoneInfo(tz))
    if locale.lower().startswith("en"):
        return f"{_EN_WD_SHORT[local.weekday()]} {local:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d}（周{_ZH_WD[local.weekday()]}）{local:%H:%M}"


__all__ = [
    "Parsed", "RangeReading", "Alternative", "TimeParseError", "PastTimeError", "parse", "parse_deadline",
    "parse_range", "read_range",
    "format_local", "normalize", "cn_number", "EXAMPLES_ZH", "EXAMPLES_EN",
]
