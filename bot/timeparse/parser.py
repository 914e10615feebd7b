"""Natural time expressions in Chinese and English → a first fire time and a Recurrence.

``parse("/提醒 明天 19:00 开会", now)`` finds the time expression anywhere in the text,
resolves it against ``now`` (an aware datetime) in ``tz`` and returns a :class:`Parsed`
with the first fire (aware UTC), the rule, the expression as written, its offsets and the
remaining text (the reminder message). ``parse_deadline`` does the same for task deadlines
("周五前", "3个工作日内", default time 18:00) and ``parse_range`` reads a time range on a
given day ("19:00~01:00"; ``read_range`` also returns the other reading of "3点-7点").
See GRAMMAR.md beside this file for every supported form.

How it works: the text is normalised character by character (full-width → half-width,
lower case, same length so offsets stay valid: words.py); a set of small regular
expressions finds *atoms* (a day, a weekday, a date, a period of the day, a clock time, an
offset, a recurrence…: atoms.py); atoms separated only by spaces or connecting words
("的", "at", "从"…) form a *cluster* (clusters.py); the best cluster (recurrence > offset
> clock time > date) is the expression, and its atoms are resolved into a datetime or a rule
(resolve.py). Pure and deterministic: nothing here reads the clock.

Decisions (documented in GRAMMAR.md):

* a date without a time → 09:00 (deadlines: 18:00), ``assumed_time=True``;
* "N点" with 1 ≤ N ≤ 11 and no 上午/下午/am/pm is read by likely hours (readings.py):
  without a date, the earliest of the next N:00 and N+12:00 in 07:00–24:00 (3点 at 14:00 →
  15:00; at 18:03 → tomorrow 15:00; 8点 at 21:00 → tomorrow 08:00); with a date (or in a
  recurring rule), 1–6 are afternoon/evening (明天3点 → 15:00) and 7–11 morning (明天8点 →
  08:00); a range's end is the first such time after its start (3点-7点 → 15:00–19:00). The
  other reading comes back in ``Parsed.alternatives`` with ``reading_note``;
  "HH:MM" is always a 24-hour clock;
* a duration of several parts is read whole, largest unit first ("1小时20分钟后");
* a bare weekday is the next such day (today if the time is still ahead; next week's, with a
  note, when this week's has passed); 本周/这周/this is this Monday-based week (may be past →
  PastTimeError naming the week and the next one); 下周/next is next week's day;
* once the expression says its day(s), a later day word is text ("每周六 10:00 周六例会");
* "7月15日前" means by the end of that day's work: 18:00 on 7月15日.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.timeparse import readings
from bot.timeparse.readings import Alternative
from bot.timers.recurrence import Recurrence, next_fire
from bot.timeparse.atoms import scan
from bot.timeparse.clusters import _GAP, _Cluster, _clusters, _rest, _span
from bot.timeparse.resolve import UTC, _local, _range_times, _Resolver
from bot.timeparse.words import (EN_WD_SHORT, ZH_WD, Bad, PastTimeError, TimeParseError, cn_number,
                                     normalize)

DEFAULT_TZ = "Asia/Shanghai"

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
        return TimeParseError(shown, "time.err.deadline", text=shown,
                              examples=_examples(DEADLINE_EXAMPLES_ZH, DEADLINE_EXAMPLES_EN))
    return TimeParseError(shown, "time.err.time", text=shown, examples=_examples(EXAMPLES_ZH, EXAMPLES_EN))


def _examples(zh: tuple[str, ...], en: tuple[str, ...]) -> dict[str, str]:
    """Examples the grammar is tested against, as each language lists them."""
    return {"zh_CN": "、".join(zh), "en_US": ", ".join(en)}


def _bad_error(text: str, atom_or_fragment: str, bad: Bad, mode: str) -> TimeParseError:
    examples = (_examples(DEADLINE_EXAMPLES_ZH, DEADLINE_EXAMPLES_EN) if mode == "deadline"
                else _examples(EXAMPLES_ZH[:5], EXAMPLES_EN[:5]))
    return TimeParseError(atom_or_fragment, "time.err.with_examples", reason=bad, examples=examples)


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
        return TimeParseError(fragment, "time.err.unsupported_repeat", text=fragment,
                              examples=_examples(EXAMPLES_ZH[5:9], EXAMPLES_EN[5:]))
    return None


def _pick(text: str, norm: str, mode: str) -> tuple[_Cluster, int, int]:
    atoms = scan(norm, mode)
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
    except (Bad, TimeParseError):
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
                raise Bad("time.err.never_again")
        else:
            when = resolver.resolve_once()
            rule = Recurrence.once_at(when, tz)
    except Bad as bad:
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
        raise TimeParseError(fragment, "time.err.deadline_repeats", text=fragment,
                             examples=_examples(DEADLINE_EXAMPLES_ZH, DEADLINE_EXAMPLES_EN))
    resolver = _Resolver(cluster, now, zone, tz, "deadline", fragment)
    try:
        when = resolver.resolve_once()
    except Bad as bad:
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
    atoms = scan(norm, "range")
    for cluster in _clusters(norm, atoms):
        for a in cluster.atoms:
            if a.error is not None and a.kind in ("TIME", "RANGE"):
                raise _bad_error(text, text[a.start:a.end], a.error, "remind")
        resolver = _Resolver(cluster, datetime.combine(day, time(12), tzinfo=zone), zone, tz, "range", "")
        try:
            _single, rng = resolver.clocks()
        except Bad as bad:
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
    raise TimeParseError(shown, "time.err.range", text=shown)


def parse_range(text: str, day: date, tz: str = DEFAULT_TZ) -> tuple[datetime, datetime]:
    """(start, end) of :func:`read_range` (aware UTC, end > start)."""
    reading = read_range(text, day, tz)
    return reading.start, reading.end


def format_local(when: datetime, tz: str = DEFAULT_TZ, locale: str = "zh_CN") -> str:
    """A short local rendering for confirmations: "2026-11-27（周五）19:00"."""
    local = when.astimezone(ZoneInfo(tz))
    if locale.lower().startswith("en"):
        return f"{EN_WD_SHORT[local.weekday()]} {local:%Y-%m-%d %H:%M}"
    return f"{local:%Y-%m-%d}（周{ZH_WD[local.weekday()]}）{local:%H:%M}"


__all__ = [
    "Parsed", "RangeReading", "Alternative", "TimeParseError", "PastTimeError", "parse", "parse_deadline",
    "parse_range", "read_range",
    "format_local", "normalize", "cn_number", "EXAMPLES_ZH", "EXAMPLES_EN",
]
