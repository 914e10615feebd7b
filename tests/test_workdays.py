from datetime import date, timedelta

import pytest

from bot.reminders import workdays
from bot.reminders.workdays import (
    add_working_days,
    calendar_source,
    holiday_name,
    is_holiday,
    is_makeup_working_day,
    is_working_day,
    next_working_day,
    working_days_between,
)


@pytest.fixture(autouse=True)
def _clean_overrides():
    workdays.clear_overrides()
    yield
    workdays.clear_overrides()
    workdays._backend = None


def test_covered_years_include_2026():
    years = workdays.covered_years()
    assert years is not None and years[0] <= 2026 <= years[1]
    assert calendar_source(date(2026, 10, 1)) == "chinese_calendar"


def test_national_day_2026():
    for day in range(1, 8):
        d = date(2026, 10, day)
        assert not is_working_day(d)
        assert is_holiday(d)
        assert holiday_name(d) == "国庆节"
        assert holiday_name(d, "en_US") == "National Day"
    assert is_working_day(date(2026, 10, 8))


def test_makeup_working_days_count_as_working_days():
    # 2026 调休: Sunday 20 Sept and Saturday 10 Oct are working days
    for d in (date(2026, 9, 20), date(2026, 10, 10)):
        assert d.weekday() >= 5
        assert is_working_day(d)
        assert is_makeup_working_day(d)
        assert not is_holiday(d)
        assert holiday_name(d) is None


def test_spring_festival_2026():
    assert is_holiday(date(2026, 2, 17))
    assert holiday_name(date(2026, 2, 17)) == "春节"
    assert is_working_day(date(2026, 2, 14))  # Saturday make-up day


def test_plain_weekend_and_weekday():
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_holiday(date(2026, 11, 28))
    assert holiday_name(date(2026, 11, 28)) is None
    assert is_working_day(date(2026, 11, 26))  # Thursday


def test_add_working_days_across_national_day():
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 8), 2) == date(2026, 10, 10)  # Fri 9, make-up Sat 10
    assert add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert add_working_days(date(2026, 10, 3), 0) == date(2026, 10, 3)
    assert next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)


def test_add_working_days_from_thursday():
    assert add_working_days(date(2026, 11, 26), 3) == date(2026, 12, 1)
    assert working_days_between(date(2026, 11, 26), date(2026, 12, 1)) == 3
    assert working_days_between(date(2026, 12, 1), date(2026, 11, 26)) == 0


def test_uncovered_years_never_raise():
    for d in (date(1990, 1, 1), date(2027, 1, 1), date(2028, 2, 29), date(2100, 6, 1)):
        assert isinstance(is_working_day(d), bool)
        assert isinstance(is_holiday(d), bool)
        assert calendar_source(d) in ("holidays", "weekends")
    assert is_working_day(date(2028, 2, 29))  # an ordinary Tuesday


def test_2027_with_holidays_package():
    pytest.importorskip("holidays")
    assert calendar_source(date(2027, 1, 1)) == "holidays"
    assert not is_working_day(date(2027, 1, 1))
    assert holiday_name(date(2027, 1, 1)) == "元旦"
    assert holiday_name(date(2027, 1, 1), "en") == "New Year's Day"
    assert next_working_day(date(2026, 12, 31)) == date(2027, 1, 4)
    assert is_holiday(date(2027, 2, 6)) and holiday_name(date(2027, 2, 6)) == "春节"


def test_weekend_fallback(monkeypatch):
    monkeypatch.setattr(workdays, "_backend", "weekends")
    assert calendar_source(date(2026, 10, 1)) == "weekends"
    assert is_working_day(date(2026, 10, 1))  # a Thursday, the holiday is unknown
    assert not is_working_day(date(2026, 10, 10))  # the make-up Saturday is unknown too
    assert next_working_day(date(2026, 12, 31)) == date(2027, 1, 1)


def test_holidays_backend_for_a_covered_year(monkeypatch):
    pytest.importorskip("holidays")
    monkeypatch.setattr(workdays, "_backend", "holidays")
    assert calendar_source(date(2026, 10, 1)) == "holidays"
    assert not is_working_day(date(2026, 10, 1))
    assert holiday_name(date(2026, 10, 1)) == "国庆节"
    assert is_working_day(date(2026, 10, 10))  # the package knows 2026's make-up days


def test_overrides_win():
    workdays.set_overrides(days_off={date(2027, 2, 10): "春节"}, working_days=[date(2027, 2, 20)])
    assert calendar_source(date(2027, 2, 10)) == "override"
    assert not is_working_day(date(2027, 2, 10))
    assert holiday_name(date(2027, 2, 10)) == "春节"
    assert holiday_name(date(2027, 2, 10), "en_US") == "Spring Festival"
    assert is_working_day(date(2027, 2, 20)) and is_makeup_working_day(date(2027, 2, 20))
    workdays.clear_overrides()
    assert not is_working_day(date(2027, 2, 20))


def test_a_year_of_days_is_fast_and_consistent():
    d = date(2026, 1, 1)
    working = 0
    for _ in range(365):
        if is_working_day(d):
            working += 1
        d += timedelta(days=1)
    assert working == 248  # 2026: 365 - 104 weekend days - 19 weekday holidays + 6 make-up days
