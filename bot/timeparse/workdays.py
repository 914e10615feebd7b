"""Chinese working-day calendar: statutory holidays and make-up working days (调休).

Sources, tried in this order for each date:

1. ``overrides`` registered with :func:`set_overrides` (tests, one-off scripts);
2. the database: the days an admin added, removed or imported with /节假日
   (bot/timeparse/holiday_store.py loads them with :func:`load`, cached here in memory and
   reloaded when they change, so no call reads the database). A year imported whole is
   authoritative: its days that are not listed are ordinary days;
3. the arrangements shipped with the release (``holidays_cn.csv``, every year known when
   it was made: 2004–2026, generated from chinesecalendar; see calendar_data.py);
4. ``chinese_calendar`` (package ``chinesecalendar``), for a year a newer package knows;
5. the ``holidays`` package's China calendar: statutory holidays computed for any year, but
   for a year whose arrangement is not published it has no make-up working days;
6. plain weekends (Saturday and Sunday off, every weekday a working day).

Nothing here raises for an uncovered year. :func:`calendar_source` says which source
answered, :func:`year_known` whether a year's official arrangement is stored (sources 2–4),
and :func:`unknown_year_ahead` which coming year is not, so cards can say the calendar
is estimated ("2027 年的调休安排还未录入…").

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

Source = Literal["override", "database", "shipped", "chinese_calendar", "holidays", "weekends"]
Kind = Literal["holiday", "workday", "normal"]  # a day off / a make-up working day / an ordinary day
KINDS: tuple[str, ...] = ("holiday", "workday", "normal")
AHEAD_DAYS = 61  # how far ahead an unknown year is announced (the notice comes out in November)

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
_backend: str | None = None  # tests may force "chinese_calendar", "holidays" or "weekends"

# The database layer (load()): date → (kind, name), and the years imported whole → source.
_db_days: dict[date, tuple[str, str]] = {}
_db_years: dict[int, str] = {}
# The shipped layer: read from holidays_cn.csv on first use.
_shipped: tuple[dict[date, tuple[str, str]], frozenset[int]] | None = None


def set_overrides(
    days_off: Mapping[date, str] | None = None,
    working_days: Iterable[date] | None = None,
) -> None:
    """Replace the override table. ``days_off`` maps a date to a holiday name (zh or en);
    ``working_days`` lists make-up working days. Overrides win over every other source."""
    _override_off.clear()
    _override_on.clear()
    if days_off:
        _override_off.update(days_off)
    if working_days:
        _override_on.update(working_days)
    _override_on.difference_update(_override_off)


def clear_overrides() -> None:
    set_overrides()


def load(days: Iterable[tuple[date, str, str]], years: Mapping[int, str]) -> None:
    """Replace the database layer: ``days`` as (date, kind, name), ``years`` imported whole
    as {year: source}. Called by holiday_store after reading the tables."""
    _db_days.clear()
    _db_days.update({d: (kind, name) for d, kind, name in days if kind in KINDS})
    _db_years.clear()
    _db_years.update(years)


def shipped() -> tuple[dict[date, tuple[str, str]], frozenset[int]]:
    """The arrangements shipped with the release: ({date: (kind, name)}, years covered)."""
    global _shipped
    if _shipped is None:
        from bot.timeparse.calendar_data import read_shipped

        _shipped = read_shipped()
    return _shipped


def covered_years() -> tuple[int, int] | None:
    """The years ``chinese_calendar`` has official data for, e.g. (2004, 2026)."""
    return _CC_YEARS


def calendar_source(d: date) -> Source:
    """Which source decides ``d``. "holidays" and "weekends" are estimates (no make-up days
    for a year whose arrangement is not stored)."""
    if d in _override_off or d in _override_on:
        return "override"
    if d in _db_days or d.year in _db_years:
        return "database"
    return _package_source(d.year)


def year_source(year: int) -> Source:
    """The source of a whole year: "database" (imported), "shipped", "chinese_calendar",
    or an estimate ("holidays" / "weekends")."""
    return "database" if year in _db_years else _package_source(year)


def year_known(year: int) -> bool:
    """Is the official arrangement of ``year`` (with its make-up working days) stored?"""
    return year_source(year) in ("database", "shipped", "chinese_calendar")


def db_year_source(year: int) -> str | None:
    """Where an imported year came from (the notice's title or address), if imported."""
    return _db_years.get(year)


def unknown_year_ahead(today: date, days: int = AHEAD_DAYS) -> int | None:
    """The first year from ``today`` to ``days`` ahead whose arrangement is not stored, or None.
    From November on the coming year counts: its notice is usually out by then."""
    for year in range(today.year, (today + timedelta(days=days)).year + 1):
        if not year_known(year):
            return year
    return None


def _package_source(year: int) -> Source:
    if _backend is None and year in shipped()[1]:
        return "shipped"
    if _backend in (None, "chinese_calendar") and _cc is not None and _CC_YEARS is not None:
        if _CC_YEARS[0] <= year <= _CC_YEARS[1]:
            return "chinese_calendar"
    if _backend in (None, "chinese_calendar", "holidays") and _holidays_pkg is not None:
        return "holidays"
    return "weekends"


@lru_cache(maxsize=64)
def _holidays_year(year: int) -> Any:
    return _holidays_pkg.China(years=year)


def _listed(entry: tuple[str, str] | None, d: date) -> tuple[bool, str | None]:
    """A day of a complete arrangement: listed (holiday / make-up day / normal) or ordinary."""
    if entry is None or entry[0] == "normal":
        return d.weekday() < 5, None
    kind, name = entry
    return (True, None) if kind == "workday" else (False, name or "调休")


def _day_info(d: date) -> tuple[bool, str | None]:
    """(is working day, English-or-Chinese holiday name or None)."""
    if d in _override_off:
        return False, _override_off[d]
    if d in _override_on:
        return True, None
    if d in _db_days or d.year in _db_years:
        return _listed(_db_days.get(d), d)
    source = _package_source(d.year)
    try:
        if source == "shipped":
            return _listed(shipped()[0].get(d), d)
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


def year_days(year: int, locale: str = "zh_CN") -> list[tuple[date, str, str]]:
    """The holidays and make-up working days of ``year`` as (date, "holiday"|"workday", name),
    in date order, from whichever source decides each day (for /节假日 列表)."""
    out: list[tuple[date, str, str]] = []
    d = date(year, 1, 1)
    while d.year == year:
        working, _name = _day_info(d)
        if not working and is_holiday(d):
            out.append((d, "holiday", holiday_name(d, locale) or ""))
        elif working and d.weekday() >= 5:
            out.append((d, "workday", _workday_name(d)))
        d += timedelta(days=1)
    return out


def _workday_name(d: date) -> str:
    for entry in (_db_days.get(d), shipped()[0].get(d) if _backend is None else None):
        if entry and entry[0] == "workday":
            return entry[1]
    return ""
