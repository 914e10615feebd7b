"""Period words, read the same way by every command that takes a period.

/故障 统计, /检查 导出, /数据 (view, 运营, 导出) and /排期 (view, 导出) all accept:

    今天 今日 today · 昨天 yesterday · 明天 tomorrow
    本周 这周 this week · 上周 last week · 下周 next week
    本月 这个月 this month · 上月 上个月 last month · 下月 下个月 next month
    近7天 最近30天 过去七天 近N天 · last 7 days, past 30 days, last-7-days

Words are compared after NFKC, lower-casing and dropping spaces, "-" and "_", so "this-week",
"this week" and "thisweek" are one word. A period is a run of local days: ``first`` and
``days`` (近7天 is today and the six days before it). :meth:`Period.bounds` gives the
[start, end) instants in a time zone; :meth:`Period.label` the localized name.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable, NamedTuple
from zoneinfo import ZoneInfo

from bot.numerals import CN_NUMBER_CHARS, cn_int

MAX_DAYS = 366

WORDS = {
    "today": ("今天", "今日", "today"),
    "yesterday": ("昨天", "昨日", "yesterday"),
    "tomorrow": ("明天", "明日", "tomorrow"),
    "week": ("本周", "这周", "本星期", "这星期", "这个星期", "本礼拜", "这礼拜", "week", "thisweek"),
    "last_week": ("上周", "上星期", "上个星期", "上礼拜", "lastweek"),
    "next_week": ("下周", "下星期", "下个星期", "下礼拜", "nextweek"),
    "month": ("本月", "这个月", "这月", "当月", "month", "thismonth"),
    "last_month": ("上月", "上个月", "lastmonth"),
    "next_month": ("下月", "下个月", "nextmonth"),
}
_KIND = {word: kind for kind, words in WORDS.items() for word in words}
_DAYS = re.compile(rf"(?:近|最近|过去)([0-9]{{1,3}}|[{CN_NUMBER_CHARS}]{{1,5}})(?:天|日)"
                   r"|(?:last|past)([0-9]{1,3})(?:days?|d)")


class Period(NamedTuple):
    kind: str      # a key of WORDS, or "days" (近N天)
    first: date    # first local day
    days: int      # number of local days

    @property
    def key(self) -> str:
        """A stable name for files and audit logs: "month", "last_week", "last_7_days"."""
        return f"last_{self.days}_days" if self.kind == "days" else self.kind

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end): local midnights in ``tz``."""
        return (datetime.combine(self.first, time(0), tz),
                datetime.combine(self.first + timedelta(days=self.days), time(0), tz))

    def utc_bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        start, end = self.bounds(tz)
        return start.astimezone(timezone.utc), end.astimezone(timezone.utc)

    def label(self, t: Callable[..., str]) -> str:
        """本周 / this week, 近7天 / the last 7 days (``t`` is ``ctx.t``)."""
        return t(f"period.{self.kind}", n=self.days)


def _word(text: str) -> str:
    return re.sub(r"[\s\-_]+", "", unicodedata.normalize("NFKC", text).lower())


def parse(text: str, today: date) -> Period | None:
    """The period ``text`` names, counted from ``today`` (the local date), or None."""
    w = _word(text)
    kind = _KIND.get(w)
    if kind is None:
        m = _DAYS.fullmatch(w)
        n = cn_int(m.group(1) or m.group(2)) if m else None
        if n is None or not 1 <= n <= MAX_DAYS:
            return None
        return Period("days", today - timedelta(days=n - 1), n)
    monday = today - timedelta(days=today.weekday())
    if kind in ("today", "yesterday", "tomorrow"):
        return Period(kind, today + timedelta(days={"today": 0, "yesterday": -1, "tomorrow": 1}[kind]), 1)
    if kind in ("week", "last_week", "next_week"):
        return Period(kind, monday + timedelta(days={"week": 0, "last_week": -7, "next_week": 7}[kind]), 7)
    first = today.replace(day=1)
    if kind == "last_month":
        first = (first - timedelta(days=1)).replace(day=1)
    elif kind == "next_month":
        first = (first + timedelta(days=32)).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(kind, first, (following - first).days)


def leading(words: list[str], today: date) -> tuple[Period | None, list[str]]:
    """The period named by the first one to three words ("本周", "last 7 days") and the rest."""
    for n in (3, 2, 1):
        if n <= len(words):
            found = parse("".join(words[:n]), today)
            if found is not None:
                return found, words[n:]
    return None, words


def take(words: list[str], today: date) -> tuple[Period | None, list[str]]:
    """The period named by one to three words anywhere ("3号直播间 明天", "next week") and the
    other words."""
    for i in range(len(words)):
        found, rest = leading(words[i:], today)
        if found is not None:
            return found, words[:i] + rest
    return None, words


def starts_with_period(words: list[str]) -> bool:
    """Do the words begin with a period word? (for deciding which verb a message means)"""
    return leading(words, date(2026, 1, 15))[0] is not None
