"""Which reading of an ambiguous time was taken, and what else it could have meant.

A clock time written without 上午/下午/am/pm ("3点", "8点半", "at 7", a range "3点-7点") can
be read two ways, N:00 or N+12:00. timeparse picks one with these rules (GRAMMAR.md §1) and
returns the other as an :class:`Alternative` with a note saying which was taken:

* *likely hours* are 07:00–24:00: streams and work happen in the day and the evening. The
  small hours (00:00–07:00) count as likely only when the message itself is written in the
  small hours (someone on a night stream);
* without a date, the earliest of the two next occurrences that falls in likely hours is
  taken ("3点" at 14:00 → 15:00 today; at 18:03 → 15:00 tomorrow, not 03:00 tonight);
* with a date or in a repeating rule, 1–6 are afternoon/evening and 7–11 morning;
* a range reads its start that way and its end as the first such time after the start
  ("3点-7点" → 15:00–19:00, "10点-2点" → 10:00–14:00).

The other reading is *plausible* (offered as a button on the /提醒 card) when it is in likely
hours too ("8点": 08:00 or 20:00) or, without a date, when it comes sooner than the one taken
("3点" at 18:03: 03:00 tonight). Otherwise it is kept in ``Parsed.alternatives`` with
``plausible=False`` and only the note mentions it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.timers.recurrence import Recurrence

LIKELY_FROM = 7  # 07:00: the start of the day's likely hours
_ZH_WD = ("一", "二", "三", "四", "五", "六", "日")
_EN_WD = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Alternative:
    """Another reading of the same words: its first fire (aware UTC), its rule (kind "once"
    for a one-off), and whether it is plausible enough to offer as a button."""
    when: datetime
    rule: Recurrence
    plausible: bool
    label: str  # e.g. "凌晨 03:00" / "03:00 (small hours)", in the parse's locale


def likely_hour(hour: int, now: datetime) -> bool:
    """Is a time at ``hour`` (local) one people plausibly mean, said at ``now`` (local)?"""
    return hour >= LIKELY_FROM or now.hour < LIKELY_FROM


def _en(locale: str) -> bool:
    return locale.lower().startswith("en")


def period_word(hour: int, locale: str) -> str:
    if _en(locale):
        return ("small hours" if hour < 6 else "morning" if hour < 12 else "noon" if hour == 12
                else "afternoon" if hour < 18 else "evening")
    return "凌晨" if hour < 6 else "上午" if hour < 12 else "中午" if hour == 12 else "下午" if hour < 18 else "晚上"


def clock_label(t: time, locale: str, end: time | None = None) -> str:
    """"下午 15:00", "下午 15:00–19:00" / "15:00 (afternoon)"."""
    span = t.strftime("%H:%M") + (f"–{end:%H:%M}" if end is not None else "")
    if _en(locale):
        return f"{span} ({period_word(t.hour, locale)})"
    return f"{period_word(t.hour, 'zh_CN')} {span}"


def _example(fragment: str, other: time, locale: str) -> str:
    """How to write the other reading unambiguously: "凌晨3点", "晚上8点", "7pm"."""
    if fragment.isascii():
        h12 = other.hour % 12 or 12
        return f"{h12}{':%02d' % other.minute if other.minute else ''}{'am' if other.hour < 12 else 'pm'}"
    return f"{period_word(other.hour, 'zh_CN')}{fragment.strip()}"


def note(fragment: str, taken: str, other: str, other_time: time, locale: str) -> str:
    """The sentence that says which reading was taken and how to write the other one."""
    example = _example(fragment, other_time, locale)
    if _en(locale):
        return f"Read “{fragment}” as {taken}; for {other}, write “{example}”."
    return f"“{fragment}”按{taken} 理解；如果是{other}，请写“{example}”。"


def weekday_note(fragment: str, day: date, locale: str) -> str:
    """A bare weekday that landed in next week because this week's has passed."""
    wd = day.weekday()
    if _en(locale):
        return f"“{fragment}” is taken as next week's {_EN_WD[wd]}, {day:%b} {day.day} (this week's has passed)."
    return f"“{fragment}”按下周{_ZH_WD[wd]}（{day.month}月{day.day}日）理解（本周{_ZH_WD[wd]}的这个时间已过）。"


def this_week_hint(wd: int, monday: date, english: bool) -> tuple[str, str]:
    """(zh, en) explanation added to the "already passed" error of 本周X / this X."""
    sunday = monday + timedelta(days=6)
    nxt = monday + timedelta(days=7 + wd)
    zh = (f"“本周{_ZH_WD[wd]}”指本周（{monday.month}月{monday.day}日–{sunday.month}月{sunday.day}日）的"
          f"周{_ZH_WD[wd]}；要下周的请写“下周{_ZH_WD[wd]}”（{nxt.month}月{nxt.day}日）。")
    en = (f"“this {_EN_WD[wd].lower()}” is the {_EN_WD[wd]} of this week ({monday:%b} {monday.day}–"
          f"{sunday:%b} {sunday.day}); for the next one write “next {_EN_WD[wd].lower()}” ({nxt:%b} {nxt.day}).")
    return zh, en
