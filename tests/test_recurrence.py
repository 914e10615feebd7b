import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import workdays
from bot.timers.recurrence import LAST_DAY, Recurrence, describe, month_target, next_fire, upcoming

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def at(*args: int, tz: ZoneInfo = SH) -> datetime:
    return datetime(*args, tzinfo=tz)


def local(dt: datetime | None, tz: ZoneInfo = SH) -> str | None:
    return None if dt is None else dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def locals_(rule: Recurrence, after: datetime, n: int) -> list[str]:
    return [local(x) for x in upcoming(rule, after, n)]  # type: ignore[misc]


# ---- serialisation -----------------------------------------------------------------------
ALL_RULES = [
    Recurrence.once_at(at(2026, 11, 27, 19, 0)),
    Recurrence.daily(time(9, 30)),
    Recurrence.daily(time(18, 0), working_days_only=True),
    Recurrence.weekly([4, 0, 2], time(10, 0)),
    Recurrence.monthly(LAST_DAY, time(17, 0)),
    Recurrence.monthly(31, time(9, 0), working_days_only=True, holiday_shift="after"),
    Recurrence.interval(5, time(19, 0), time(1, 0), working_days_only=True),
    Recurrence.interval(30),
    Recurrence.from_cron("0 9 * * 1-5", tz="America/New_York"),
    Recurrence(kind="daily", time=time(9), starts=date(2026, 12, 1)),
]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.kind)
def test_round_trip_dict_and_json(rule):
    data = rule.to_dict()
    json.dumps(data)  # JSON-safe
    assert Recurrence.from_dict(data) == rule
    assert Recurrence.from_json(rule.to_json()) == rule


def test_dict_shape_is_plain():
    data = Recurrence.weekly([4, 0, 2], time(10, 0), working_days_only=True).to_dict()
    assert data == {"kind": "weekly", "time": "10:00", "weekdays": [0, 2, 4], "working_days_only": True,
                    "tz": "Asia/Shanghai"}
    once = Recurrence.once_at(at(2026, 11, 27, 19, 0)).to_dict()
    assert once["at"] == "2026-11-27T11:00:00+00:00"


def test_from_dict_defaults_and_unknown_keys():
    rule = Recurrence.from_dict({"kind": "daily", "time": "08:15", "color": "red", "tz": None})
    assert rule.tz == "Asia/Shanghai" and rule.time == time(8, 15) and not rule.working_days_only


@pytest.mark.parametrize("kwargs", [
    {"kind": "hourly"},
    {"kind": "once"},
    {"kind": "once", "at": datetime(2026, 1, 1)},  # naive
    {"kind": "daily"},
    {"kind": "weekly", "time": time(9)},
    {"kind": "weekly", "time": time(9), "weekdays": (7,)},
    {"kind": "monthly", "time": time(9), "month_day": 0},
    {"kind": "monthly", "time": time(9), "month_day": 32},
    {"kind": "interval", "every_minutes": 0},
    {"kind": "interval", "every_minutes": 5, "window_start": time(19)},
    {"kind": "cron", "cron": "0 9 * *"},
    {"kind": "cron", "cron": "0 25 * * *"},
    {"kind": "daily", "time": time(9), "tz": "Mars/Olympus"},
    {"kind": "daily", "time": time(9), "working_days_only": True, "holiday_shift": "before"},
])
def test_invalid_rules_raise(kwargs):
    with pytest.raises(ValueError):
        Recurrence(**kwargs)


# ---- next_fire basics ----------------------------------------------------------------------
def test_next_fire_is_strictly_after_and_utc():
    rule = Recurrence.daily(time(18, 0))
    first = next_fire(rule, at(2026, 11, 26, 14, 0))
    assert first is not None and first.tzinfo == timezone.utc
    assert local(first) == "2026-11-26 18:00"
    assert local(next_fire(rule, first)) == "2026-11-27 18:00"
    assert local(next_fire(rule, first - timedelta(microseconds=1))) == "2026-11-26 18:00"


def test_next_fire_needs_aware_datetime():
    with pytest.raises(ValueError):
        next_fire(Recurrence.daily(time(9)), datetime(2026, 11, 26, 14, 0))


def test_once():
    rule = Recurrence.once_at(at(2026, 11, 27, 19, 0))
    assert local(next_fire(rule, at(2026, 11, 26, 14, 0))) == "2026-11-27 19:00"
    assert next_fire(rule, at(2026, 11, 27, 19, 0)) is None
    assert upcoming(rule, at(2026, 11, 26, 14, 0), 5) == [rule.at]


def test_after_in_another_zone():
    rule = Recurrence.daily(time(9, 0))
    after = datetime(2026, 11, 26, 0, 30, tzinfo=timezone.utc)  # 08:30 in Shanghai
    assert local(next_fire(rule, after)) == "2026-11-26 09:00"


# ---- working days ----------------------------------------------------------------------------
def test_working_days_across_national_day_2026():
    rule = Recurrence.daily(time(18, 0), working_days_only=True)
    assert locals_(rule, at(2026, 9, 30, 18, 0), 3) == ["2026-10-08 18:00", "2026-10-09 18:00", "2026-10-10 18:00"]


def test_working_days_include_makeup_sunday():
    rule = Recurrence.daily(time(9, 0), working_days_only=True)
    assert locals_(rule, at(2026, 9, 18, 10, 0), 2) == ["2026-09-20 09:00", "2026-09-21 09:00"]


def test_weekly_working_days_only_skips_holiday():
    rule = Recurrence.weekly([3], time(10, 0), working_days_only=True)  # Thursdays
    assert local(next_fire(rule, at(2026, 9, 25, 0, 0))) == "2026-10-08 10:00"
    plain = Recurrence.weekly([3], time(10, 0))
    assert local(next_fire(plain, at(2026, 9, 25, 0, 0))) == "2026-10-01 10:00"


def test_weekly_saturday_working_days_only_fires_on_makeup_saturday():
    rule = Recurrence.weekly([5], time(10, 0), working_days_only=True)
    assert local(next_fire(rule, at(2026, 9, 1, 0, 0))) == "2026-10-10 10:00"


def test_weekly_several_days():
    rule = Recurrence.weekly([0, 2, 4], time(10, 0))
    assert locals_(rule, at(2026, 11, 26, 14, 0), 4) == [
        "2026-11-27 10:00", "2026-11-30 10:00", "2026-12-02 10:00", "2026-12-04 10:00"]


def test_working_days_into_2027_follow_the_calendar():
    rule = Recurrence.daily(time(9, 0), working_days_only=True)
    expected = workdays.next_working_day(date(2026, 12, 31))
    assert local(next_fire(rule, at(2026, 12, 31, 9, 0))) == f"{expected.isoformat()} 09:00"


# ---- monthly -------------------------------------------------------------------------------
def test_month_target_clamps():
    assert month_target(2026, 4, 31) == date(2026, 4, 30)
    assert month_target(2027, 2, 30) == date(2027, 2, 28)
    assert month_target(2028, 2, 31) == date(2028, 2, 29)
    assert month_target(2028, 2, LAST_DAY) == date(2028, 2, 29)


def test_monthly_last_day_across_year_end_and_leap_year():
    rule = Recurrence.monthly(LAST_DAY, time(17, 0))
    assert locals_(rule, at(2026, 11, 26, 14, 0), 4) == [
        "2026-11-30 17:00", "2026-12-31 17:00", "2027-01-31 17:00", "2027-02-28 17:00"]
    assert local(next_fire(rule, at(2028, 1, 31, 17, 0))) == "2028-02-29 17:00"


def test_monthly_31st_is_clamped_to_month_end():
    rule = Recurrence.monthly(31, time(9, 0))
    assert locals_(rule, at(2027, 1, 31, 9, 0), 3) == ["2027-02-28 09:00", "2027-03-31 09:00", "2027-04-30 09:00"]


def test_monthly_day_already_passed_this_month():
    rule = Recurrence.monthly(15, time(9, 0))
    assert local(next_fire(rule, at(2026, 11, 26, 14, 0))) == "2026-12-15 09:00"
    assert local(next_fire(rule, at(2026, 12, 15, 8, 59))) == "2026-12-15 09:00"


def test_monthly_working_days_only_skip():
    rule = Recurrence.monthly(1, time(10, 0), working_days_only=True)
    # 1 Oct 2026 is National Day, 1 Nov 2026 is a Sunday
    assert local(next_fire(rule, at(2026, 9, 15, 0, 0))) == "2026-12-01 10:00"


def test_monthly_shift_after_and_before():
    after = Recurrence.monthly(1, time(10, 0), working_days_only=True, holiday_shift="after")
    assert locals_(after, at(2026, 9, 15, 0, 0), 2) == ["2026-10-08 10:00", "2026-11-02 10:00"]
    last_wd = Recurrence.monthly(LAST_DAY, time(17, 0), working_days_only=True, holiday_shift="before")
    # 31 Oct 2026 is a Saturday; 31 Jan 2026 a Saturday too
    assert local(next_fire(last_wd, at(2026, 10, 1, 0, 0))) == "2026-10-30 17:00"
    assert local(next_fire(last_wd, at(2026, 1, 1, 0, 0))) == "2026-01-30 17:00"


# ---- interval ---------------------------------------------------------------------------------
def test_interval_window():
    rule = Recurrence.interval(5, time(19, 0), time(23, 0))
    assert local(next_fire(rule, at(2026, 11, 26, 14, 0))) == "2026-11-26 19:00"
    assert local(next_fire(rule, at(2026, 11, 26, 19, 0))) == "2026-11-26 19:05"
    assert local(next_fire(rule, at(2026, 11, 26, 19, 2))) == "2026-11-26 19:05"
    assert local(next_fire(rule, at(2026, 11, 26, 22, 58))) == "2026-11-26 23:00"  # end inclusive
    assert local(next_fire(rule, at(2026, 11, 26, 23, 0))) == "2026-11-27 19:00"
    assert len(upcoming(rule, at(2026, 11, 26, 18, 0), 100)) == 100
    fires = [x for x in upcoming(rule, at(2026, 11, 26, 18, 0), 100) if x.astimezone(SH).day == 26]
    assert len(fires) == 49  # 19:00 … 23:00 every 5 minutes


def test_interval_across_midnight():
    rule = Recurrence.interval(5, time(19, 0), time(1, 0))
    assert local(next_fire(rule, at(2026, 11, 26, 23, 58))) == "2026-11-27 00:00"
    assert local(next_fire(rule, at(2026, 11, 27, 0, 59))) == "2026-11-27 01:00"
    assert local(next_fire(rule, at(2026, 11, 27, 1, 0))) == "2026-11-27 19:00"


def test_interval_across_midnight_working_days_only_belongs_to_start_day():
    rule = Recurrence.interval(30, time(19, 0), time(1, 0), working_days_only=True)
    # Friday's session runs into Saturday morning; Saturday's and Sunday's sessions are skipped
    assert local(next_fire(rule, at(2026, 11, 28, 0, 10))) == "2026-11-28 00:30"
    assert local(next_fire(rule, at(2026, 11, 28, 1, 0))) == "2026-11-30 19:00"


def test_interval_without_window_restarts_at_midnight():
    assert local(next_fire(Recurrence.interval(30), at(2026, 11, 26, 14, 10))) == "2026-11-26 14:30"
    seven = Recurrence.interval(7)
    assert local(next_fire(seven, at(2026, 11, 26, 23, 55))) == "2026-11-27 00:00"


def test_interval_anchored_all_day():
    rule = Recurrence(kind="interval", every_minutes=30, window_start=time(19, 0), window_end=time(19, 0))
    assert local(next_fire(rule, at(2026, 11, 26, 18, 59))) == "2026-11-26 19:00"
    assert local(next_fire(rule, at(2026, 11, 27, 3, 10))) == "2026-11-27 03:30"


# ---- cron --------------------------------------------------------------------------------------
def test_cron_weekdays_use_standard_numbering():
    weekdays = Recurrence.from_cron("0 9 * * 1-5")
    assert local(next_fire(weekdays, at(2026, 11, 28, 12, 0))) == "2026-11-30 09:00"  # Sat → Mon
    sunday = Recurrence.from_cron("30 8 * * 0")
    assert local(next_fire(sunday, at(2026, 11, 26, 12, 0))) == "2026-11-29 08:30"
    assert local(next_fire(Recurrence.from_cron("30 8 * * 7"), at(2026, 11, 26, 12, 0))) == "2026-11-29 08:30"


def test_cron_strictly_after_and_steps():
    rule = Recurrence.from_cron("*/15 * * * *")
    assert local(next_fire(rule, at(2026, 11, 26, 14, 0))) == "2026-11-26 14:15"


def test_cron_working_days_only_and_leap_day():
    rule = Recurrence.from_cron("0 9 * * *", working_days_only=True)
    assert local(next_fire(rule, at(2026, 9, 30, 9, 0))) == "2026-10-08 09:00"
    leap = Recurrence.from_cron("0 0 29 2 *")
    assert local(next_fire(leap, at(2026, 11, 26, 0, 0))) == "2028-02-29 00:00"
    last = Recurrence.from_cron("0 17 L * *")
    assert local(next_fire(last, at(2027, 2, 1, 0, 0))) == "2027-02-28 17:00"


def test_cron_in_another_time_zone():
    rule = Recurrence.from_cron("0 9 * * *", tz="America/New_York")
    fire = next_fire(rule, datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc))
    assert fire is not None and fire.astimezone(NY).strftime("%Y-%m-%d %H:%M") == "2026-11-26 09:00"  # 07:00 EST now


# ---- starts, time zones -------------------------------------------------------------------------
def test_starts_keeps_rule_silent_before():
    rule = Recurrence(kind="daily", time=time(9), starts=date(2026, 12, 1))
    assert local(next_fire(rule, at(2026, 11, 26, 14, 0))) == "2026-12-01 09:00"
    assert local(next_fire(rule, at(2026, 12, 5, 14, 0))) == "2026-12-06 09:00"


def test_daily_in_dst_zone_keeps_wall_clock():
    rule = Recurrence.daily(time(9, 0), tz="America/New_York")
    fires = upcoming(rule, datetime(2027, 3, 13, 12, 0, tzinfo=NY), 2)
    assert [f.astimezone(NY).strftime("%m-%d %H:%M") for f in fires] == ["03-14 09:00", "03-15 09:00"]
    gap = Recurrence.daily(time(2, 30), tz="America/New_York")  # 02:30 does not exist on 14 March
    after = datetime(2027, 3, 13, 12, 0, tzinfo=NY)
    fire = next_fire(gap, after)
    assert fire is not None and fire > after


# ---- describe -------------------------------------------------------------------------------------
@pytest.mark.parametrize("rule, zh, en", [
    (Recurrence.daily(time(18, 0), working_days_only=True), "每个工作日 18:00", "every working day 18:00"),
    (Recurrence.daily(time(9, 30)), "每天 09:30", "every day 09:30"),
    (Recurrence.weekly([0], time(10, 0)), "每周一 10:00", "every Monday 10:00"),
    (Recurrence.weekly([0, 2, 4], time(10, 0)), "每周一、三、五 10:00", "every Monday, Wednesday and Friday 10:00"),
    (Recurrence.monthly(LAST_DAY, time(17, 0)), "每月最后一天 17:00", "every month on the last day 17:00"),
    (Recurrence.monthly(1, time(10, 0)), "每月1号 10:00", "every month on the 1st 10:00"),
    (Recurrence.monthly(LAST_DAY, time(17, 0), working_days_only=True, holiday_shift="before"),
     "每月最后一个工作日 17:00", "every month on the last working day 17:00"),
    (Recurrence.monthly(1, time(10, 0), working_days_only=True, holiday_shift="after"),
     "每月第一个工作日 10:00", "every month on the first working day 10:00"),
    (Recurrence.monthly(15, time(10, 0), working_days_only=True),
     "每月15号 10:00（非工作日跳过）", "every month on the 15th 10:00 (skipped if not a working day)"),
    (Recurrence.weekly([5], time(10, 0), working_days_only=True), "每周六 10:00（仅工作日）",
     "every Saturday 10:00 (working days only)"),
    (Recurrence.interval(5, time(19, 0), time(23, 0)), "每天 19:00–23:00 每5分钟", "every 5 min from 19:00 to 23:00"),
    (Recurrence.interval(5, time(19, 0), time(1, 0)), "每天 19:00–次日01:00 每5分钟",
     "every 5 min from 19:00 to 01:00 (next day)"),
    (Recurrence.interval(60), "每小时", "every hour"),
    (Recurrence.once_at(at(2026, 11, 27, 19, 0)), "2026-11-27（周五）19:00", "once, Fri 2026-11-27 19:00"),
    (Recurrence.from_cron("0 9 * * 1-5"), "按 cron「0 9 * * 1-5」", 'cron "0 9 * * 1-5"'),
])
def test_describe(rule, zh, en):
    assert describe(rule, "zh_CN") == zh
    assert describe(rule, "en_US") == en


def test_describe_mentions_time_zone_and_start():
    rule = Recurrence(kind="daily", time=time(9), tz="America/New_York", starts=date(2026, 12, 1))
    assert describe(rule) == "每天 09:00（2026-12-01 起，America/New_York）"
    assert describe(rule, "en_US") == "every day 09:00 (from 2026-12-01, America/New_York)"
