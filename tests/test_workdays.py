from datetime import date, timedelta

import pytest

from bot.timeparse import workdays
from bot.timeparse.workdays import (
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


def test_covered_years_include_2026(monkeypatch):
    years = workdays.covered_years()
    assert years is not None and years[0] <= 2026 <= years[1]
    assert calendar_source(date(2026, 10, 1)) == "shipped"  # the arrangement shipped with the release
    monkeypatch.setattr(workdays, "_backend", "chinese_calendar")
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


# ---- the shipped data, the database layer, and which years are known ------------------------------
def test_shipped_file_matches_chinesecalendar_for_every_day(monkeypatch):
    days, years = workdays.shipped()
    assert years == frozenset(range(2004, 2027)) and len(days) > 700
    d = date(2004, 1, 1)
    shipped_answers = []
    while d.year <= 2026:
        shipped_answers.append((is_working_day(d), is_holiday(d)))
        d += timedelta(days=1)
    monkeypatch.setattr(workdays, "_backend", "chinese_calendar")
    d = date(2004, 1, 1)
    for shipped_answer in shipped_answers:
        assert (is_working_day(d), is_holiday(d)) == shipped_answer, d
        d += timedelta(days=1)


def test_years_known_and_the_coming_unknown_year():
    assert workdays.year_known(2026) and not workdays.year_known(2027)
    assert workdays.year_source(2027) == "holidays"
    assert workdays.unknown_year_ahead(date(2026, 6, 1)) is None  # 2027 is more than two months away
    assert workdays.unknown_year_ahead(date(2026, 11, 26)) == 2027
    assert workdays.unknown_year_ahead(date(2027, 3, 1)) == 2027


def test_database_layer_wins_and_an_imported_year_is_complete():
    # 2027 imported whole: Spring Festival 6–12 Feb, make-up Saturday 20 Feb, nothing else.
    days = [(date(2027, 2, 6) + timedelta(days=i), "holiday", "春节") for i in range(7)]
    workdays.load(days + [(date(2027, 2, 20), "workday", "春节调休上班")], {2027: "https://www.gov.cn/x"})
    assert workdays.year_known(2027) and workdays.year_source(2027) == "database"
    assert workdays.db_year_source(2027) == "https://www.gov.cn/x"
    assert calendar_source(date(2027, 2, 8)) == "database"
    assert not is_working_day(date(2027, 2, 8)) and holiday_name(date(2027, 2, 8)) == "春节"
    assert is_working_day(date(2027, 2, 20)) and is_makeup_working_day(date(2027, 2, 20))
    # not listed in the imported year: an ordinary day, whatever the holidays package says
    assert is_working_day(date(2027, 1, 1)) and not is_holiday(date(2027, 1, 1))
    assert workdays.unknown_year_ahead(date(2026, 11, 26)) is None
    assert [(d, k) for d, k, _n in workdays.year_days(2027)][-1] == (date(2027, 2, 20), "workday")
    assert add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 15)


def test_database_days_of_a_year_not_imported_whole_sit_on_top_of_the_estimate():
    workdays.load([(date(2027, 2, 20), "workday", "春节调休上班"), (date(2027, 10, 5), "normal", "")], {})
    assert not workdays.year_known(2027)  # single days do not make the year known
    assert is_working_day(date(2027, 2, 20))
    assert not is_working_day(date(2027, 1, 1))  # still the holidays package's New Year's Day
    assert calendar_source(date(2027, 1, 1)) == "holidays"
    assert is_working_day(date(2027, 10, 5)) and not is_holiday(date(2027, 10, 5))  # removed: a Tuesday


def test_a_database_day_can_remove_a_shipped_holiday():
    assert is_working_day(date(2026, 10, 8))  # an ordinary Thursday after National Day
    workdays.load([(date(2026, 10, 7), "normal", "")], {})
    assert is_working_day(date(2026, 10, 7)) and holiday_name(date(2026, 10, 7)) is None
