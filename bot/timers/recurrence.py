"""Recurrence rules for reminders: a small serialisable dataclass and pure maths on it.

Kinds (``Recurrence.kind``):

* ``once``      – fires at ``at`` (an aware instant) and never again;
* ``daily``     – every day at ``time`` (local to ``tz``);
* ``weekly``    – on each of ``weekdays`` (0 = Monday … 6 = Sunday) at ``time``;
* ``monthly``   – on ``month_day`` (1–31, or ``LAST_DAY`` = -1) at ``time``. A day the
  month does not have is clamped to the month's last day: "every 31st" fires on 30 April
  and on 28/29 February. (Decision: people who write 31 mean "the end of the month"; a
  skipped month is worse than a day early.);
* ``interval``  – every ``every_minutes`` minutes inside a daily window from
  ``window_start`` to ``window_end`` (both inclusive, local). An end at or before the start
  means the window runs past midnight (19:00–01:00 ends at 01:00 the next day) and belongs
  to the day it started on. No window means the whole day, counted from 00:00 (so a step
  that does not divide 24 h restarts at midnight). Steps are absolute minutes;
* ``cron``      – a standard 5-field crontab line ("m h dom mon dow", 0 or 7 = Sunday),
  evaluated with APScheduler 3's CronTrigger in ``tz`` (bot.timers.cron).

Every kind but ``once`` takes ``working_days_only``: a fire whose local date (for
``interval``, the date the window starts on) is not a Chinese working day is skipped; make-up
working days (调休) do fire. For ``monthly`` the ``holiday_shift`` option can instead move a
non-working target day to the nearest working day ``before`` or ``after`` it ("每月最后一个
工作日" is ``month_day=-1, working_days_only=True, holiday_shift="before"``).

``starts`` (a local date) keeps a rule silent before that day ("从下周一开始每天 9:00").

:func:`next_fire` returns the next fire strictly after a given instant as an aware UTC
datetime, or None when the rule has no further fire (a past ``once``).
"""
from __future__ import annotations

import calendar
import json
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, time as TimeOfDay, timedelta, timezone
from typing import Any, Literal, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.timeparse import workdays
from bot.timers.cron import cron_trigger

Kind = Literal["once", "daily", "weekly", "monthly", "interval", "cron"]
Shift = Literal["skip", "before", "after"]
KINDS: tuple[str, ...] = ("once", "daily", "weekly", "monthly", "interval", "cron")
LAST_DAY = -1
DEFAULT_TZ = "Asia/Shanghai"
_HORIZON_DAYS = 3 * 366  # how far ahead the day-by-day searches look
UTC = timezone.utc


@dataclass(frozen=True)
class Recurrence:
    kind: Kind
    at: datetime | None = None  # once: the instant, aware (stored as UTC)
    time: TimeOfDay | None = None  # daily / weekly / monthly: local time of day
    weekdays: tuple[int, ...] = ()  # weekly: 0 = Monday … 6 = Sunday
    month_day: int | None = None  # monthly: 1..31, or LAST_DAY (-1)
    every_minutes: int | None = None  # interval: step in minutes
    window_start: TimeOfDay | None = None  # interval: local window start (None = 00:00, all day)
    window_end: TimeOfDay | None = None  # interval: local window end, inclusive
    cron: str | None = None  # cron: "m h dom mon dow"
    working_days_only: bool = False
    holiday_shift: Shift = "skip"  # monthly + working_days_only: skip / before / after
    starts: date | None = None  # first local date the rule may fire on
    tz: str = DEFAULT_TZ

    def __post_init__(self) -> None:
        _validate(self)
        if self.at is not None:
            object.__setattr__(self, "at", self.at.astimezone(UTC))
        if self.weekdays:
            object.__setattr__(self, "weekdays", tuple(sorted(set(int(w) for w in self.weekdays))))

    # ---- constructors -------------------------------------------------------------------
    @classmethod
    def once_at(cls, at: datetime, tz: str = DEFAULT_TZ) -> "Recurrence":
        return cls(kind="once", at=at, tz=tz)

    @classmethod
    def daily(cls, at: TimeOfDay, *, working_days_only: bool = False, tz: str = DEFAULT_TZ) -> "Recurrence":
        return cls(kind="daily", time=at, working_days_only=working_days_only, tz=tz)

    @classmethod
    def weekly(
        cls, weekdays: tuple[int, ...] | list[int], at: TimeOfDay, *, working_days_only: bool = False,
        tz: str = DEFAULT_TZ,
    ) -> "Recurrence":
        return cls(kind="weekly", weekdays=tuple(weekdays), time=at,
                   working_days_only=working_days_only, tz=tz)

    @classmethod
    def monthly(
        cls, month_day: int, at: TimeOfDay, *, working_days_only: bool = False,
        holiday_shift: Shift = "skip", tz: str = DEFAULT_TZ,
    ) -> "Recurrence":
        return cls(kind="monthly", month_day=month_day, time=at, working_days_only=working_days_only,
                   holiday_shift=holiday_shift, tz=tz)

    @classmethod
    def interval(
        cls, every_minutes: int, start: TimeOfDay | None = None, end: TimeOfDay | None = None, *,
        working_days_only: bool = False, tz: str = DEFAULT_TZ,
    ) -> "Recurrence":
        return cls(kind="interval", every_minutes=every_minutes, window_start=start, window_end=end,
                   working_days_only=working_days_only, tz=tz)

    @classmethod
    def from_cron(cls, expr: str, *, working_days_only: bool = False, tz: str = DEFAULT_TZ) -> "Recurrence":
        return cls(kind="cron", cron=" ".join(expr.split()), working_days_only=working_days_only, tz=tz)

    # ---- properties ---------------------------------------------------------------------
    @property
    def recurring(self) -> bool:
        return self.kind != "once"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def with_starts(self, starts: date | None) -> "Recurrence":
        return replace(self, starts=starts)

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (times as "HH:MM[:SS]", dates ISO). Keys with empty values are left
        out; ``from_dict`` fills the defaults back in."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.at is not None:
            out["at"] = self.at.isoformat()
        if self.time is not None:
            out["time"] = _fmt_time(self.time)
        if self.weekdays:
            out["weekdays"] = list(self.weekdays)
        if self.month_day is not None:
            out["month_day"] = self.month_day
        if self.every_minutes is not None:
            out["every_minutes"] = self.every_minutes
        if self.window_start is not None:
            out["window_start"] = _fmt_time(self.window_start)
        if self.window_end is not None:
            out["window_end"] = _fmt_time(self.window_end)
        if self.cron is not None:
            out["cron"] = self.cron
        if self.working_days_only:
            out["working_days_only"] = True
        if self.holiday_shift != "skip":
            out["holiday_shift"] = self.holiday_shift
        if self.starts is not None:
            out["starts"] = self.starts.isoformat()
        out["tz"] = self.tz
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Recurrence":
        """Inverse of ``to_dict``; unknown keys are ignored, bad values raise ValueError."""
        known = {f.name for f in fields(cls)}
        kw: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        if isinstance(kw.get("at"), str):
            kw["at"] = datetime.fromisoformat(kw["at"])
        for key in ("time", "window_start", "window_end"):
            if isinstance(kw.get(key), str):
                kw[key] = TimeOfDay.fromisoformat(kw[key])
        if isinstance(kw.get("starts"), str):
            kw["starts"] = date.fromisoformat(kw["starts"])
        if "weekdays" in kw:
            kw["weekdays"] = tuple(kw["weekdays"] or ())
        if kw.get("tz") in (None, ""):
            kw["tz"] = DEFAULT_TZ
        return cls(**kw)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Recurrence":
        return cls.from_dict(json.loads(text))


def _fmt_time(t: TimeOfDay) -> str:
    return t.strftime("%H:%M:%S") if t.second else t.strftime("%H:%M")


def _validate(r: Recurrence) -> None:
    if r.kind not in KINDS:
        raise ValueError(f"unknown recurrence kind {r.kind!r}")
    try:
        ZoneInfo(r.tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {r.tz!r}") from exc
    if r.holiday_shift not in ("skip", "before", "after"):
        raise ValueError(f"holiday_shift must be skip, before or after, not {r.holiday_shift!r}")
    if r.holiday_shift != "skip" and (r.kind != "monthly" or not r.working_days_only):
        raise ValueError("holiday_shift applies to monthly rules with working_days_only")
    if r.kind == "once":
        if r.at is None or r.at.tzinfo is None or r.at.utcoffset() is None:
            raise ValueError("a once rule needs an aware 'at'")
        if r.working_days_only:
            raise ValueError("working_days_only does not apply to a once rule")
    if r.kind in ("daily", "weekly", "monthly") and r.time is None:
        raise ValueError(f"a {r.kind} rule needs a time of day")
    if r.kind == "weekly":
        if not r.weekdays or any(not 0 <= int(w) <= 6 for w in r.weekdays):
            raise ValueError("a weekly rule needs weekdays between 0 (Monday) and 6 (Sunday)")
    if r.kind == "monthly":
        if r.month_day is None or not (r.month_day == LAST_DAY or 1 <= r.month_day <= 31):
            raise ValueError("a monthly rule needs month_day 1..31 or -1 (last day)")
    if r.kind == "interval":
        if r.every_minutes is None or not 1 <= r.every_minutes <= 24 * 60:
            raise ValueError("an interval rule needs every_minutes between 1 and 1440")
        if (r.window_start is None) != (r.window_end is None):
            raise ValueError("an interval window needs both a start and an end")
    if r.kind == "cron":
        if not r.cron:
            raise ValueError("a cron rule needs an expression")
        cron_trigger(r.cron, r.tz)  # raises ValueError when malformed


# ---------------------------------------------------------------------------------------
# next_fire
# ---------------------------------------------------------------------------------------
def next_fire(rule: Recurrence, after: datetime) -> datetime | None:
    """The first fire of ``rule`` strictly after ``after`` (aware), as an aware UTC datetime;
    None if there is none (a ``once`` already past, or nothing within three years)."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("next_fire needs an aware datetime")
    after = after.astimezone(UTC)
    if rule.kind == "once":
        assert rule.at is not None
        return rule.at if rule.at > after else None
    zone = rule.zone
    if rule.starts is not None:
        floor = datetime.combine(rule.starts, TimeOfDay(0), tzinfo=zone).astimezone(UTC) - timedelta(microseconds=1)
        after = max(after, floor)
    if rule.kind == "interval":
        return _next_interval(rule, after, zone)
    if rule.kind == "cron":
        return _next_cron(rule, after, zone)
    if rule.kind == "monthly":
        return _next_monthly(rule, after, zone)
    return _next_daily_weekly(rule, after, zone)


def upcoming(rule: Recurrence, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` fires after ``after`` (fewer if the rule runs out)."""
    out: list[datetime] = []
    cursor = after
    for _ in range(count):
        nxt = next_fire(rule, cursor)
        if nxt is None:
            break
        out.append(nxt)
        cursor = nxt
    return out


def _at(d: date, t: TimeOfDay, zone: ZoneInfo) -> datetime:
    return datetime.combine(d, t, tzinfo=zone).astimezone(UTC)


def _day_ok(rule: Recurrence, d: date) -> bool:
    if rule.starts is not None and d < rule.starts:
        return False
    return not rule.working_days_only or workdays.is_working_day(d)


def _next_daily_weekly(rule: Recurrence, after: datetime, zone: ZoneInfo) -> datetime | None:
    assert rule.time is not None
    d = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(_HORIZON_DAYS):
        if (rule.kind == "daily" or d.weekday() in rule.weekdays) and _day_ok(rule, d):
            cand = _at(d, rule.time, zone)
            if cand > after:
                return cand
        d += timedelta(days=1)
    return None


def month_target(year: int, month: int, month_day: int) -> date:
    """The day a monthly rule aims at in a month: ``month_day`` clamped to the month's
    length, ``LAST_DAY`` = the last day."""
    last = calendar.monthrange(year, month)[1]
    day = last if month_day == LAST_DAY else min(month_day, last)
    return date(year, month, day)


def _shift_to_working(d: date, direction: Shift) -> date | None:
    if workdays.is_working_day(d):
        return d
    if direction == "skip":
        return None
    step = -1 if direction == "before" else 1
    for _ in range(60):
        d += timedelta(days=step)
        if workdays.is_working_day(d):
            return d
    return None


def _next_monthly(rule: Recurrence, after: datetime, zone: ZoneInfo) -> datetime | None:
    assert rule.time is not None and rule.month_day is not None
    local = after.astimezone(zone)
    year, month = local.year, local.month - 1  # one month back: a shift may cross months
    if month == 0:
        year, month = year - 1, 12
    best: datetime | None = None
    found_at = -1
    for i in range(12 * 4):
        target: date | None = month_target(year, month, rule.month_day)
        if rule.working_days_only:
            target = _shift_to_working(target, rule.holiday_shift)  # type: ignore[arg-type]
        if target is not None and (rule.starts is None or target >= rule.starts):
            cand = _at(target, rule.time, zone)
            if cand > after and (best is None or cand < best):
                best = cand
                found_at = i if found_at < 0 else found_at
        if found_at >= 0 and i >= found_at + 2:  # a shift never moves a day by a month
            break
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return best


def _window(rule: Recurrence, d: date, zone: ZoneInfo) -> tuple[datetime, datetime, bool]:
    """(start, end, end_inclusive) of the interval window that starts on local date ``d``."""
    if rule.window_start is None or rule.window_end is None or rule.window_start == rule.window_end:
        start_t = rule.window_start or TimeOfDay(0)
        start = _at(d, start_t, zone)
        return start, _at(d + timedelta(days=1), start_t, zone), False
    end_day = d if rule.window_end > rule.window_start else d + timedelta(days=1)
    return _at(d, rule.window_start, zone), _at(end_day, rule.window_end, zone), True


def _next_interval(rule: Recurrence, after: datetime, zone: ZoneInfo) -> datetime | None:
    assert rule.every_minutes is not None
    step = timedelta(minutes=rule.every_minutes)
    d = after.astimezone(zone).date() - timedelta(days=1)
    for _ in range(_HORIZON_DAYS):
        if _day_ok(rule, d):
            start, end, inclusive = _window(rule, d, zone)
            if after < start:
                cand = start
            else:
                k = (after - start) // step + 1
                cand = start + k * step
            if cand < end or (inclusive and cand == end):
                return cand
        d += timedelta(days=1)
    return None


def _next_cron(rule: Recurrence, after: datetime, zone: ZoneInfo) -> datetime | None:
    assert rule.cron is not None
    trigger = cron_trigger(rule.cron, rule.tz)
    cursor = after + timedelta(microseconds=1)
    limit = after + timedelta(days=_HORIZON_DAYS)
    for _ in range(5000):
        fire = trigger.get_next_fire_time(None, cursor.astimezone(zone))
        if fire is None:
            return None
        fire = fire.astimezone(UTC)
        if fire > limit:
            return None
        if fire > after and _day_ok(rule, fire.astimezone(zone).date()):
            return fire
        if fire <= after:
            cursor = after + timedelta(seconds=1)
            continue
        next_day = fire.astimezone(zone).date() + timedelta(days=1)
        cursor = _at(next_day, TimeOfDay(0), zone)
    return None


# ---------------------------------------------------------------------------------------
# describe
# ---------------------------------------------------------------------------------------
_ZH_WD = ("一", "二", "三", "四", "五", "六", "日")
_EN_WD = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EN_WD_SHORT = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _is_en(locale: str | None) -> bool:
    return bool(locale) and str(locale).lower().startswith("en")


def _hm(t: TimeOfDay) -> str:
    return t.strftime("%H:%M")


def _en_list(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _minutes_text(n: int, en: bool) -> str:
    if n % 60 == 0:
        h = n // 60
        if en:
            return "hour" if h == 1 else f"{h} hours"
        return "小时" if h == 1 else f"{h}小时"
    if n > 60:  # 90 → "1小时30分钟" / "1 h 30 min"
        h, m = divmod(n, 60)
        return f"{h} h {m} min" if en else f"{h}小时{m}分钟"
    if en:
        return f"{n} min"
    return f"{n}分钟"


def describe(rule: Recurrence, locale: str = "zh_CN") -> str:
    """A short human sentence: "每个工作日 18:00", "every Monday 10:00"."""
    en = _is_en(locale)
    text = _describe_core(rule, en)
    extras: list[str] = []
    if rule.starts is not None:
        extras.append(f"from {rule.starts.isoformat()}" if en else f"{rule.starts.isoformat()} 起")
    if rule.tz != DEFAULT_TZ:
        extras.append(rule.tz)
    if extras:
        text += f" ({', '.join(extras)})" if en else f"（{'，'.join(extras)}）"
    return text


def _describe_core(rule: Recurrence, en: bool) -> str:
    zone = rule.zone
    wdo = rule.working_days_only
    if rule.kind == "once":
        assert rule.at is not None
        local = rule.at.astimezone(zone)
        if en:
            return f"once, {_EN_WD_SHORT[local.weekday()]} {local:%Y-%m-%d %H:%M}"
        return f"{local:%Y-%m-%d}（周{_ZH_WD[local.weekday()]}）{local:%H:%M}"
    if rule.kind == "daily":
        assert rule.time is not None
        if en:
            return f"every {'working day' if wdo else 'day'} {_hm(rule.time)}"
        return f"{'每个工作日' if wdo else '每天'} {_hm(rule.time)}"
    if rule.kind == "weekly":
        assert rule.time is not None
        if en:
            days = _en_list([_EN_WD[w] for w in rule.weekdays])
            text = f"every {days} {_hm(rule.time)}"
            return text + (" (working days only)" if wdo else "")
        days = "、".join(_ZH_WD[w] for w in rule.weekdays)
        text = f"每周{days} {_hm(rule.time)}"
        return text + ("（仅工作日）" if wdo else "")
    if rule.kind == "monthly":
        assert rule.time is not None and rule.month_day is not None
        last = rule.month_day == LAST_DAY
        if wdo and rule.holiday_shift == "before" and last:
            return (f"every month on the last working day {_hm(rule.time)}" if en
                    else f"每月最后一个工作日 {_hm(rule.time)}")
        if wdo and rule.holiday_shift == "after" and rule.month_day == 1:
            return (f"every month on the first working day {_hm(rule.time)}" if en
                    else f"每月第一个工作日 {_hm(rule.time)}")
        if en:
            day = "the last day" if last else f"the {_ordinal(rule.month_day)}"
            text = f"every month on {day} {_hm(rule.time)}"
            if wdo:
                text += {"skip": " (skipped if not a working day)",
                         "before": " (moved to the working day before if not a working day)",
                         "after": " (moved to the next working day if not a working day)"}[rule.holiday_shift]
            return text
        day = "最后一天" if last else f"{rule.month_day}号"
        text = f"每月{day} {_hm(rule.time)}"
        if wdo:
            text += {"skip": "（非工作日跳过）", "before": "（遇非工作日提前到前一个工作日）",
                     "after": "（遇非工作日顺延到下一个工作日）"}[rule.holiday_shift]
        return text
    if rule.kind == "interval":
        assert rule.every_minutes is not None
        step = _minutes_text(rule.every_minutes, en)
        ws, we = rule.window_start, rule.window_end
        if en:
            text = f"every {step}"
            if ws is not None and we is not None and ws != we:
                text += f" from {_hm(ws)} to {_hm(we)}" + (" (next day)" if we < ws else "")
            return text + (" on working days" if wdo else "")
        prefix = "每个工作日 " if wdo else ""
        if ws is not None and we is not None and ws != we:
            end = ("次日" if we < ws else "") + _hm(we)
            return f"{prefix or '每天 '}{_hm(ws)}–{end} 每{step}"
        return f"{prefix}每{step}"
    # cron
    if en:
        return f"cron \"{rule.cron}\"" + (" on working days" if wdo else "")
    return f"按 cron「{rule.cron}」" + ("（仅工作日）" if wdo else "")
