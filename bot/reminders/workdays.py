"""Chinese working-day calendar: statutory holidays and make-up working days (调休).

Sources, tried in this order for each date:

1. ``overrides`` registered with :func:`set_overrides` (e.g. an admin typing in the
   State Council's schedule for a year no package covers yet);
2. ``chinese_calendar`` (package ``chinesecalendar``): the official schedules, including
   make-up working days, for every year it ships (1.11 covers 2004–2026);
3. the ``holidays`` package's China calendar, when installed: statutory holidays computed
   for any year, plus make-up days for the years it knows (for a year whose schedule is not
   published yet it has no make-up days);
4. plain weekends (Saturday and Sunday off, every weekday a working day).

Nothing here raises for an uncovered year; :func:`calendar_source` says which source
answered so the bot can warn that a year's calendar is estimated.

Meanings:

* a *working day* is a day people work: a weekday that is not a holiday, or a weekend day
  that is a make-up working day (调休上班);
* a *holiday* is a named statutory day off (or a day off moved into a holiday period by
  调休); ordinary weekends are not holidays, although they are not working days either.
"""
from __future__ import annotations

import importlib
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Iterable, Literal, Mapping

Source = Literal["override", "chinese_calendar", "holidays", "weekends"]

_cc: Any = None
_CC_YEARS: tuple[int, int] | None = None
try:  # the package is a project dependency; still, never fail to import this module
    _cc = importlib.import_module("chinese_calendar")
    _known = importlib.import_module("chinese_calendar.constants").holidays
    _CC_YEARS = (min(_known).year, max(_known).year)
except Exception:  # pragma: no cover - the package is missing or broken
    _cc = None

_holidays_pkg: Any = None
try:  # optional: the ``holidays`` package, for years chinese_calendar does not cover
    _holidays_pkg = importlib.import_module("holidays")
except Exception:  # pragma: no cover
    _holidays_pkg = None

# Chinese names for the holidays, keyed by words in the English names both packages use.
_ZH_NAMES: tuple[tuple[str, str], ...] = (
    ("new year's day", "元旦"),
    ("new year's eve", "春节"),  # holidays: "Chinese New Year's Eve"
    ("spring festival", "春节"),
    ("chinese new year", "春节"),
    ("tomb", "清明节"),
    ("labo", "劳动节"),
    ("dragon boat", "端午节"),
    ("mid-autumn", "中秋节"),
    ("national day", "国庆节"),
    ("anti-fascist", "抗战胜利纪念日"),
    ("victory", "抗战胜利纪念日"),
    ("day off", "调休"),
)
_EN_NAMES: dict[str, str] = {
    "元旦": "New Year's Day",
    "春节": "Spring Festival",
    "清明节": "Tomb-sweeping Day",
    "劳动节": "Labour Day",
    "端午节": "Dragon Boat Festival",
    "中秋节": "Mid-autumn Festival",
    "国庆节": "National Day",
    "抗战胜利纪念日": "Victory Day",
    "调休": "Day off in lieu",
}

_override_off: dict[date, str] = {}
_override_on: set[date] = set()
_backend: str | None = None  # tests may force "holidays" or "weekends"


def set_overrides(
    days_off: Mapping[date, str] | None = None,
    working_days: Iterable[date] | None = None,
) -> None:
    """Replace the override table. ``days_off`` maps a date to a holiday name (zh or en);
    ``working_days`` lists make-up working days. Overrides win over every package."""
    _override_off.clear()
    _override_on.clear()
    if days_off:
        _override_off.update(days_off)
    if working_days:
        _override_on.update(working_days)
    _override_on.difference_update(_override_off)


def clear_overrides() -> None:
    set_overrides()


def covered_years() -> tuple[int, int] | None:
    """The years ``chinese_calendar`` has official data for, e.g. (2004, 2026)."""
    return _CC_YEARS


def calendar_source(d: date) -> Source:
    """Which source decides ``d``: "override", "chinese_calendar", "holidays" or "weekends".
    Anything other than the first two is an estimate (no make-up days for unpublished years)."""
    if d in _override_off or d in _override_on:
        return "override"
    return _package_source(d.year)


def _package_source(year: int) -> Source:
    if _backend in (None, "chinese_calendar") and _cc is not None and _CC_YEARS is not None:
        if _CC_YEARS[0] <= year <= _CC_YEARS[1]:
            return "chinese_calendar"
    if _backend in (None, "chinese_calendar", "holidays") and _holidays_pkg is not None:
        return "holidays"
    return "weekends"


@lru_cache(maxsize=64)
def _holidays_year(year: int) -> Any:
    return _holidays_pkg.China(years=year)


def _day_info(d: date) -> tuple[bool, str | None]:
    """(is working day, English-or-Chinese holiday name or None)."""
    if d in _override_off:
        return False, _override_off[d]
    if d in _override_on:
        return True, None
    source = _package_source(d.year)
    try:
        if source == "chinese_calendar":
            working = bool(_cc.is_workday(d))
            name: str | None = None
            if not working:
                _on_holiday, detail = _cc.get_holiday_detail(d)
                if detail:
                    name = str(detail)
            return working, name
        if source == "holidays":
            cal = _holidays_year(d.year)
            name = cal.get(d)
            return bool(cal.is_working_day(d)), (str(name) if name else None)
    except Exception:  # never raise from the calendar: fall back to weekends
        pass
    return d.weekday() < 5, None


def _zh_name(raw: str) -> str:
    low = raw.lower()
    if raw in _EN_NAMES:
        return raw
    for key, zh in _ZH_NAMES:
        if key in low:
            return zh
    return raw


def is_working_day(d: date) -> bool:
    """True for a day people work, including make-up working days (调休上班)."""
    return _day_info(d)[0]


def is_holiday(d: date) -> bool:
    """True for a named statutory day off (not for an ordinary weekend)."""
    working, name = _day_info(d)
    return not working and name is not None


def holiday_name(d: date, locale: str = "zh_CN") -> str | None:
    """The holiday's name ("国庆节" / "National Day"), or None if ``d`` is not a holiday."""
    working, name = _day_info(d)
    if working or name is None:
        return None
    zh = _zh_name(name)
    if locale.lower().startswith("en"):
        return _EN_NAMES.get(zh, name)
    return zh


def is_makeup_working_day(d: date) -> bool:
    """True for a Saturday or Sunday that is a working day (调休上班)."""
    return d.weekday() >= 5 and is_working_day(d)


def next_working_day(d: date) -> date:
    """The first working day strictly after ``d``."""
    return add_working_days(d, 1)


def add_working_days(d: date, n: int) -> date:
    """Move ``n`` working days from ``d`` (``d`` itself never counts). Negative ``n`` goes
    back; ``n == 0`` returns ``d`` unchanged."""
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    current = d
    guard = 0
    while remaining:
        current += timedelta(days=step)
        if is_working_day(current):
            remaining -= 1
        guard += 1
        if guard > 3660 + abs(n) * 2:  # impossible with any real calendar
            break
    return current


def working_days_between(start: date, end: date) -> int:
    """Working days in the half-open range (start, end]: 0 if end <= start."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count
