"""Turning a cluster of atoms into a moment or a rule (used by timeparse).

``_Resolver`` reads the cluster's clock times (``_Clock``: "3点" is ambiguous, "15:00" is
not), its date or offset, and resolves them against ``now`` — ``resolve_once`` for a
one-off, ``resolve_rule`` for a recurrence. With ``flip=True`` an ambiguous "N点" is read
the other way, which is how the other reading (readings.py) is computed.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from bot.timeparse import readings, workdays
from bot.timers.recurrence import Recurrence
from bot.timeparse.atoms import _Atom
from bot.timeparse.clusters import _Cluster
from bot.timeparse.words import PERIOD_DEFAULTS, Bad, PastTimeError

UTC = timezone.utc
REMIND_DEFAULT = time(9, 0)
DEADLINE_DEFAULT = time(18, 0)


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
            raise Bad("time.err.small_hours", text=text)
        return _Clock(0 if h == 12 else h, m, 0, False, text)
    if period in ("early", "morning"):
        if h >= 13:
            raise Bad("time.err.morning", text=text)
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
                    raise Bad("time.err.month_no_day", year=first.year, month=first.month, day=d["d"])
                return [first.replace(day=d["d"])], True
            if d["y"] is not None:
                return [date(d["y"], d["m"], d["d"])], True
            if d["rel_year"] is not None:
                y = today.year + d["rel_year"]
                try:
                    return [date(y, d["m"], d["d"])], True
                except ValueError:
                    raise Bad("time.err.year_no_date", year=y, month=d["m"], day=d["d"]) from None
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
                raise Bad("time.err.no_future_day")
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
        raise Bad("time.err.no_time")

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
                raise Bad("time.err.two_repeats", text=self.fragment)
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
