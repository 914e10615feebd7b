from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.timeparse import workdays
from bot.timers.recurrence import LAST_DAY, describe
from bot.timeparse.parser import (
    PastTimeError,
    TimeParseError,
    cn_number,
    format_local,
    normalize,
    parse,
    parse_deadline,
    parse_range,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=SH)  # a Thursday afternoon


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def loc(dt: datetime) -> str:
    return dt.astimezone(SH).strftime("%Y-%m-%d %H:%M")


def when(text: str, now: datetime = NOW) -> str:
    return loc(parse(text, now).when)


# ---- the brief's headline forms ------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("明天 19:00", "2026-11-27 19:00"),
    ("今晚8点", "2026-11-26 20:00"),
    ("周五下午3点半", "2026-11-27 15:30"),
    ("11月28日 19:00", "2026-11-28 19:00"),
    ("30分钟后", "2026-11-26 14:30"),
    ("in 2 hours", "2026-11-26 16:00"),
    ("tomorrow 9am", "2026-11-27 09:00"),
])
def test_one_off_headline_forms(text, expected):
    p = parse(text, NOW)
    assert loc(p.when) == expected
    assert p.rule.kind == "once" and not p.recurring
    assert p.when.tzinfo == timezone.utc
    assert p.matched == text and p.rest == "" and (p.start, p.end) == (0, len(text))
    assert not p.assumed_time


@pytest.mark.parametrize("text, first, description", [
    ("每周一 10:00", "2026-11-30 10:00", "每周一 10:00"),
    ("每天 9:30", "2026-11-27 09:30", "每天 09:30"),
    ("每个工作日 18:00", "2026-11-26 18:00", "每个工作日 18:00"),
    ("每月最后一天 17:00", "2026-11-30 17:00", "每月最后一天 17:00"),
])
def test_recurring_headline_forms(text, first, description):
    p = parse(text, NOW)
    assert p.recurring
    assert loc(p.when) == first
    assert describe(p.rule) == description
    assert p.matched == text and p.rest == ""


# ---- days ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected, assumed", [
    ("后天 10点", "2026-11-28 10:00", False),
    ("大后天", "2026-11-29 09:00", True),
    ("今天 20:00", "2026-11-26 20:00", False),
    ("今天 8点", "2026-11-26 20:00", False),  # 8:00 has passed today, so 20:00
    ("今晚", "2026-11-26 20:00", True),
    ("明早", "2026-11-27 09:00", True),
    ("明早8点", "2026-11-27 08:00", False),
    ("明晚", "2026-11-27 20:00", True),
    ("明晚9点半", "2026-11-27 21:30", False),
    ("明天", "2026-11-27 09:00", True),
    ("明天下午", "2026-11-27 15:00", True),
    ("明天晚上12点", "2026-11-28 00:00", False),
])
def test_relative_days(text, expected, assumed):
    p = parse(text, NOW)
    assert loc(p.when) == expected
    assert p.assumed_time is assumed


# ---- periods and clock forms ---------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("明天上午10点", "2026-11-27 10:00"),
    ("明天中午12点", "2026-11-27 12:00"),
    ("明天中午1点", "2026-11-27 13:00"),
    ("明天下午3点", "2026-11-27 15:00"),
    ("明天晚上8点", "2026-11-27 20:00"),
    ("明天凌晨1点", "2026-11-27 01:00"),
    ("明天早上7点", "2026-11-27 07:00"),
    ("明天傍晚6点", "2026-11-27 18:00"),
    ("下午3点", "2026-11-26 15:00"),
    ("晚上8点", "2026-11-26 20:00"),
    ("凌晨1点", "2026-11-27 01:00"),
    ("中午12点", "2026-11-27 12:00"),  # noon has passed today
    ("3点半", "2026-11-26 15:30"),
    ("3点15", "2026-11-26 15:15"),
    ("3点15分", "2026-11-26 15:15"),
    ("3点一刻", "2026-11-26 15:15"),
    ("15:30", "2026-11-26 15:30"),
    ("15：30", "2026-11-26 15:30"),
    ("１５：３０", "2026-11-26 15:30"),
    ("19点", "2026-11-26 19:00"),
    ("三点", "2026-11-26 15:00"),
    ("十点半", "2026-11-26 22:30"),
    ("十二点", "2026-11-27 12:00"),
    ("明天十二点", "2026-11-27 12:00"),
    ("明天三点", "2026-11-27 15:00"),
    ("明天两点半", "2026-11-27 14:30"),
    ("明天8点", "2026-11-27 08:00"),
    ("8点", "2026-11-26 20:00"),
    ("11点", "2026-11-26 23:00"),
    ("3:00", "2026-11-27 03:00"),  # HH:MM is a 24-hour clock
    ("明天早8点", "2026-11-27 08:00"),
    ("明天晚8点", "2026-11-27 20:00"),
    ("晚上12点", "2026-11-27 00:00"),
    ("凌晨12点", "2026-11-27 00:00"),
])
def test_periods_and_clock_forms(text, expected):
    assert when(text) == expected


def test_bare_hour_picks_next_occurrence():
    late = at(2026, 11, 26, 21, 0)
    assert when("8点", late) == "2026-11-27 08:00"
    assert when("下午3点", late) == "2026-11-27 15:00"
    assert when("15:30", late) == "2026-11-27 15:30"
    early = at(2026, 11, 26, 7, 0)
    assert when("8点", early) == "2026-11-26 08:00"


# ---- weekdays ------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("下周三", "2026-12-02 09:00"),
    ("下周三下午两点半", "2026-12-02 14:30"),
    ("下个星期一 10:00", "2026-11-30 10:00"),
    ("下下周一", "2026-12-07 09:00"),
    ("本周五", "2026-11-27 09:00"),
    ("这周五 18:00", "2026-11-27 18:00"),
    ("周日", "2026-11-29 09:00"),
    ("星期天", "2026-11-29 09:00"),
    ("礼拜天", "2026-11-29 09:00"),
    ("周六晚上8点", "2026-11-28 20:00"),
    ("星期五 16:00", "2026-11-27 16:00"),
    ("周5 16:00", "2026-11-27 16:00"),
    ("周四 18:00", "2026-11-26 18:00"),  # today, still ahead
    ("周四 10:00", "2026-12-03 10:00"),  # today but passed → next week
    ("周四", "2026-12-03 09:00"),
])
def test_weekdays(text, expected):
    assert when(text) == expected


def test_this_week_day_in_the_past_is_an_error():
    with pytest.raises(PastTimeError):
        parse("本周三 10:00", NOW)
    with pytest.raises(PastTimeError):
        parse("本周四 10:00", NOW)


# ---- dates ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("12月1日", "2026-12-01 09:00"),
    ("12月1号", "2026-12-01 09:00"),
    ("12-01", "2026-12-01 09:00"),
    ("2026-12-01", "2026-12-01 09:00"),
    ("12/01", "2026-12-01 09:00"),
    ("2026年12月1日 10点", "2026-12-01 10:00"),
    ("2026/12/1 10:00", "2026-12-01 10:00"),
    ("十二月一日 下午3点", "2026-12-01 15:00"),
    ("1月5日", "2027-01-05 09:00"),  # already past this year → next year
    ("明年1月1日 10点", "2027-01-01 10:00"),
    ("今年12月31日", "2026-12-31 09:00"),
    ("31号", "2026-12-31 09:00"),  # November has no 31st
    ("28号 19:00", "2026-11-28 19:00"),
    ("下个月1号 10点", "2026-12-01 10:00"),
    ("2月29日", "2028-02-29 09:00"),  # the next 29 February
    ("2028-02-29 10:00", "2028-02-29 10:00"),
])
def test_dates(text, expected):
    assert when(text) == expected


def test_date_without_time_says_so():
    p = parse("12月1日 发货", NOW)
    assert p.assumed_time and loc(p.when) == "2026-12-01 09:00"
    assert p.rest == "发货"
    assert p.notes and "09:00" in p.notes[0]
    assert "09:00" in parse("12月1日", NOW, locale="en_US").notes[0]


def test_today_date_in_the_past():
    with pytest.raises(PastTimeError):
        parse("11月26日 10:00", NOW)


# ---- offsets -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1小时后", "2026-11-26 15:00"),
    ("半小时后", "2026-11-26 14:30"),
    ("半个小时后", "2026-11-26 14:30"),
    ("两小时后", "2026-11-26 16:00"),
    ("一个小时以后", "2026-11-26 15:00"),
    ("1个半小时后", "2026-11-26 15:30"),
    ("2天后", "2026-11-28 14:00"),
    ("2天后 19:00", "2026-11-28 19:00"),
    ("一刻钟后", "2026-11-26 14:15"),
    ("过半小时", "2026-11-26 14:30"),
    ("10分钟之后", "2026-11-26 14:10"),
    ("3个月后", "2027-02-26 14:00"),
    ("in 30 minutes", "2026-11-26 14:30"),
    ("in an hour", "2026-11-26 15:00"),
    ("in half an hour", "2026-11-26 14:30"),
    ("in an hour and a half", "2026-11-26 15:30"),
    ("in 1.5 hours", "2026-11-26 15:30"),
    ("in 2 days", "2026-11-28 14:00"),
    ("2 hours later", "2026-11-26 16:00"),
    ("30 min from now", "2026-11-26 14:30"),
])
def test_offsets(text, expected):
    assert when(text) == expected


# ---- recurring -----------------------------------------------------------------------------------
def test_weekly_lists():
    p = parse("每周一三五 10:00", NOW)
    assert p.rule.kind == "weekly" and p.rule.weekdays == (0, 2, 4)
    assert loc(p.when) == "2026-11-27 10:00"
    p = parse("每周一、周三 10:00", NOW)
    assert p.rule.weekdays == (0, 2)
    assert parse("每周一至周五 9点", NOW).rule.weekdays == (0, 1, 2, 3, 4)
    assert parse("每周末 10点", NOW).rule.weekdays == (5, 6)
    assert parse("每个星期天 20:00", NOW).rule.weekdays == (6,)
    assert parse("every monday, wednesday and friday 9am", NOW).rule.weekdays == (0, 2, 4)


def test_monthly_forms():
    p = parse("每月1号 10:00", NOW)
    assert (p.rule.kind, p.rule.month_day, p.rule.time) == ("monthly", 1, time(10, 0))
    assert loc(p.when) == "2026-12-01 10:00"
    p = parse("每月15日", NOW)
    assert p.rule.month_day == 15 and p.assumed_time and loc(p.when) == "2026-12-15 09:00"
    p = parse("每月最后一个工作日 17:00", NOW)
    assert p.rule.month_day == LAST_DAY and p.rule.working_days_only and p.rule.holiday_shift == "before"
    assert parse("每月31号 9点", NOW).rule.month_day == 31
    assert loc(parse("每月31号 9点", NOW).when) == "2026-11-30 09:00"
    assert parse("every month on the last day 17:00", NOW).rule.month_day == LAST_DAY
    assert parse("on the 1st of every month at 9am", NOW).rule.month_day == 1


def test_interval_with_window():
    for text in ("每隔30分钟 从19:00到23:00", "每30分钟 从19:00到23:00", "19:00-23:00 每30分钟",
                 "每30分钟 晚上7点到11点", "every 30 minutes from 19:00 to 23:00"):
        p = parse(text, NOW)
        r = p.rule
        assert (r.kind, r.every_minutes, r.window_start, r.window_end) == ("interval", 30, time(19), time(23)), text
        assert loc(p.when) == "2026-11-26 19:00"
        assert p.matched == text


def test_interval_across_midnight_and_message():
    p = parse("每5分钟 19:00-01:00 提醒上播", NOW)
    assert (p.rule.window_start, p.rule.window_end) == (time(19), time(1))
    assert p.rest == "提醒上播"
    assert describe(p.rule) == "每天 19:00–次日01:00 每5分钟"
    p = parse("晚上10点到凌晨2点 每10分钟", NOW)
    assert (p.rule.window_start, p.rule.window_end) == (time(22), time(2))


def test_interval_without_window():
    p = parse("每隔30分钟", NOW)
    assert p.rule.every_minutes == 30 and p.rule.window_start is None
    assert loc(p.when) == "2026-11-26 14:30"
    assert parse("每小时", NOW).rule.every_minutes == 60
    assert parse("every 2 hours", NOW).rule.every_minutes == 120


def test_working_days_forms():
    assert parse("天天 9:30", NOW).rule.kind == "daily"
    texts = ("每个工作日 18:00", "工作日每天 18:00", "工作日 18:00", "every weekday 6pm", "every working day 18:00")
    for text in texts:
        p = parse(text, NOW)
        assert (p.rule.kind, p.rule.working_days_only, p.rule.time) == ("daily", True, time(18)), text
    p = parse("工作日每天 9:00", NOW)
    assert loc(p.when) == "2026-11-27 09:00"


def test_working_days_around_national_day():
    p = parse("每个工作日 18:00", at(2026, 9, 30, 20, 0))
    assert loc(p.when) == "2026-10-08 18:00"


def test_working_days_around_new_year_2027():
    p = parse("每个工作日 9:00", at(2026, 12, 31, 10, 0))
    expected = workdays.next_working_day(date(2026, 12, 31))
    assert loc(p.when) == f"{expected.isoformat()} 09:00"


def test_daily_with_period_and_start():
    p = parse("每晚8点", NOW)
    assert p.rule.kind == "daily" and p.rule.time == time(20)
    p = parse("从下周一开始每天9点", NOW)
    assert p.rule.starts == date(2026, 11, 30) and loc(p.when) == "2026-11-30 09:00"
    p = parse("每天3点", NOW)  # a recurring N点 with no period: 1–6 are afternoon
    assert p.rule.time == time(15)


def test_cron_form():
    p = parse("cron 0 9 * * 1-5 站会", NOW)
    assert p.rule.kind == "cron" and p.rule.cron == "0 9 * * 1-5"
    assert loc(p.when) == "2026-11-27 09:00" and p.rest == "站会"


# ---- English -------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("at 7pm", "2026-11-26 19:00"),
    ("at 7", "2026-11-26 19:00"),
    ("7:30 pm", "2026-11-26 19:30"),
    ("tomorrow 19:00", "2026-11-27 19:00"),
    ("tomorrow at 9", "2026-11-27 09:00"),
    ("tomorrow morning", "2026-11-27 09:00"),
    ("tonight 8pm", "2026-11-26 20:00"),
    ("next friday 3pm", "2026-12-04 15:00"),
    ("this friday 3pm", "2026-11-27 15:00"),
    ("on friday at 10am", "2026-11-27 10:00"),
    ("on Dec 1 at 10:00", "2026-12-01 10:00"),
    ("December 1st 10am", "2026-12-01 10:00"),
    ("1 dec 10:00", "2026-12-01 10:00"),
    ("2026-12-01 10:00", "2026-12-01 10:00"),
    ("noon", "2026-11-27 12:00"),
    ("midnight", "2026-11-27 00:00"),
    ("day after tomorrow 8am", "2026-11-28 08:00"),
])
def test_english(text, expected):
    assert when(text) == expected


@pytest.mark.parametrize("text, first, kind", [
    ("every day 9:30", "2026-11-27 09:30", "daily"),
    ("every monday 10am", "2026-11-30 10:00", "weekly"),
    ("every weekday 6pm", "2026-11-26 18:00", "daily"),
    ("daily at 8am", "2026-11-27 08:00", "daily"),
])
def test_english_recurring(text, first, kind):
    p = parse(text, NOW)
    assert loc(p.when) == first and p.rule.kind == kind


# ---- position in the text, rest, offsets ---------------------------------------------------------
@pytest.mark.parametrize("text, matched, rest", [
    ("/提醒 明天 19:00 开会", "明天 19:00", "开会"),
    ("提醒我 开会 明天下午3点", "明天下午3点", "开会"),
    ("提醒我在明天下午3点开会", "在明天下午3点", "开会"),
    ("明天19:00，开会", "明天19:00", "开会"),
    ("今晚8点 直播复盘", "今晚8点", "直播复盘"),
    ("明天 19:00 准备周一的选品", "明天 19:00", "准备周一的选品"),
    ("下午一点的会", "下午一点", "会"),
    ("remind me at 7pm to call mom", "at 7pm", "call mom"),
    ("remind me tomorrow at 9 to call Bob", "tomorrow at 9", "call Bob"),
    ("Call the supplier in 30 minutes", "in 30 minutes", "Call the supplier"),
])
def test_expression_inside_text(text, matched, rest):
    p = parse(text, NOW)
    assert p.matched == matched
    assert text[p.start:p.end] == matched
    assert p.rest == rest


def test_full_width_text_keeps_offsets():
    text = "／提醒　明天　１９：００　开会"
    p = parse(text, NOW)
    assert loc(p.when) == "2026-11-27 19:00"
    assert text[p.start:p.end] == p.matched == "明天　１９：００"
    assert p.rest == "开会"


def test_loose_yidian_is_not_a_time():
    with pytest.raises(TimeParseError):
        parse("快一点", NOW)
    with pytest.raises(TimeParseError):
        parse("我一点都不想", NOW)


# ---- errors --------------------------------------------------------------------------------------
def test_no_time_lists_examples():
    with pytest.raises(TimeParseError) as exc:
        parse("开会", NOW)
    err = exc.value
    assert err.fragment == "开会"
    assert "明天 19:00" in err.message_zh and "tomorrow 9am" in err.message_en
    assert err.message == f"{err.message_zh}\n{err.message_en}"
    assert err.message_for("en_US") == err.message_en
    assert not isinstance(err, PastTimeError)


@pytest.mark.parametrize("text, fragment, words", [
    ("明天 25:00", "25:00", "25:00"),
    ("明天 19:60", "19:60", "分钟"),
    ("明天25点 开会", "25点", "25点"),
    ("13月1日", "13月1日", "月份"),
    ("2月30日 10点", "2月30日", "30"),
    ("2027-02-29", "2027-02-29", "29"),
    ("每0分钟", "每0分钟", "间隔"),
    ("上午15点", "上午15点", "上午"),
    ("每月32号", "每月32号", "32"),
])
def test_malformed_parts(text, fragment, words):
    with pytest.raises(TimeParseError) as exc:
        parse(text, NOW)
    assert exc.value.fragment == fragment
    assert words in exc.value.message_zh
    assert exc.value.message_en


def test_invalid_time_message_says_not_valid():
    with pytest.raises(TimeParseError) as exc:
        parse("明天 25:00", NOW)
    assert "25:00 不是有效的时间" in exc.value.message_zh.replace("“", "").replace("”", " ")
    assert "not a valid time" in exc.value.message_en


def test_past_times():
    late = at(2026, 11, 26, 21, 0)
    with pytest.raises(PastTimeError) as exc:
        parse("今晚8点", late)
    assert loc(exc.value.when) == "2026-11-26 20:00"
    assert "2026-11-26" in exc.value.message_zh and "20:00" in exc.value.message_zh
    assert "20:00" in exc.value.message_en
    assert isinstance(exc.value, TimeParseError)
    with pytest.raises(PastTimeError):
        parse("今天3点", late)
    with pytest.raises(PastTimeError):
        parse("昨天", NOW)
    with pytest.raises(PastTimeError):
        parse("2026-11-01 10:00", NOW)


def test_now_must_be_aware():
    with pytest.raises(ValueError):
        parse("明天 19:00", datetime(2026, 11, 26, 14, 0))


def test_now_in_utc_and_other_zone():
    assert when("明天 19:00", NOW.astimezone(timezone.utc)) == "2026-11-27 19:00"
    ny = ZoneInfo("America/New_York")
    p = parse("tomorrow 9am", datetime(2026, 11, 26, 12, 0, tzinfo=ny), tz="America/New_York")
    assert p.when.astimezone(ny).strftime("%Y-%m-%d %H:%M") == "2026-11-27 09:00"
    assert p.rule.tz == "America/New_York"


# ---- month ends, year ends, leap years -----------------------------------------------------------
def test_month_and_year_boundaries():
    assert when("明天 9点", at(2026, 11, 30, 20, 0)) == "2026-12-01 09:00"
    assert when("明天", at(2026, 12, 31, 23, 0)) == "2027-01-01 09:00"
    assert when("1月1日 10点", at(2026, 12, 31, 23, 0)) == "2027-01-01 10:00"
    assert when("后天 10点", at(2028, 2, 27, 12, 0)) == "2028-02-29 10:00"
    assert when("每月最后一天 17:00", at(2028, 2, 1, 0, 0)) == "2028-02-29 17:00"
    assert when("每月最后一天 17:00", at(2027, 2, 1, 0, 0)) == "2027-02-28 17:00"
    assert when("3天后", at(2028, 2, 27, 12, 0)) == "2028-03-01 12:00"


# ---- deadlines -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected, assumed", [
    ("本周五前", "2026-11-27 18:00", True),
    ("周五前", "2026-11-27 18:00", True),
    ("周四前", "2026-11-26 18:00", True),
    ("3个工作日内", "2026-12-01 18:00", True),
    ("7月15日前", "2027-07-15 18:00", True),
    ("明天中午前", "2026-11-27 12:00", True),
    ("月底前", "2026-11-30 18:00", True),
    ("下个月底前", "2026-12-31 18:00", True),
    ("下周一前", "2026-11-30 18:00", True),
    ("今天下班前", "2026-11-26 18:00", True),
    ("这周内", "2026-11-27 18:00", True),
    ("年底前", "2026-12-31 18:00", True),
    ("明天 20:00 前", "2026-11-27 20:00", False),
    ("24小时内", "2026-11-27 14:00", False),
    ("by friday", "2026-11-27 18:00", True),
    ("before Dec 1", "2026-12-01 18:00", True),
    ("within 3 working days", "2026-12-01 18:00", True),
    ("by end of month", "2026-11-30 18:00", True),
])
def test_deadlines(text, expected, assumed):
    p = parse_deadline(text, NOW)
    assert loc(p.when) == expected
    assert p.assumed_time is assumed
    assert p.matched == text and p.rest == ""


def test_deadline_inside_text_and_after_close_of_business():
    p = parse_deadline("交直播复盘报告 本周五前", NOW)
    assert p.matched == "本周五前" and p.rest == "交直播复盘报告"
    assert loc(parse_deadline("周四前", at(2026, 11, 26, 19, 0)).when) == "2026-12-03 18:00"


def test_deadline_working_days_skip_holidays():
    p = parse_deadline("3个工作日内", at(2026, 9, 29, 10, 0))
    assert loc(p.when) == "2026-10-09 18:00"  # Wed 30 Sep, Thu 8 Oct, Fri 9 Oct


def test_deadline_errors():
    with pytest.raises(TimeParseError) as exc:
        parse_deadline("尽快", NOW)
    assert "周五前" in exc.value.message_zh
    with pytest.raises(TimeParseError):
        parse_deadline("每天前", NOW)
    with pytest.raises(PastTimeError):
        parse_deadline("本周三前", NOW)


# ---- ranges --------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, start, end", [
    ("19:00-23:00", "2026-11-26 19:00", "2026-11-26 23:00"),
    ("19:00~01:00", "2026-11-26 19:00", "2026-11-27 01:00"),
    ("19：00～01：00", "2026-11-26 19:00", "2026-11-27 01:00"),
    ("晚上7点到11点", "2026-11-26 19:00", "2026-11-26 23:00"),
    ("晚上10点到凌晨2点", "2026-11-26 22:00", "2026-11-27 02:00"),
    ("晚上7-11点", "2026-11-26 19:00", "2026-11-26 23:00"),
    ("from 7pm to 11pm", "2026-11-26 19:00", "2026-11-26 23:00"),
    ("直播 20:00 到 24:00", "2026-11-26 20:00", "2026-11-27 00:00"),
])
def test_parse_range(text, start, end):
    s, e = parse_range(text, date(2026, 11, 26))
    assert (loc(s), loc(e)) == (start, end)
    assert s.tzinfo == timezone.utc


def test_parse_range_errors():
    with pytest.raises(TimeParseError):
        parse_range("明天", date(2026, 11, 26))
    with pytest.raises(TimeParseError):
        parse_range("19:00-25:00", date(2026, 11, 26))


# ---- helpers -------------------------------------------------------------------------------------
def test_helpers():
    assert normalize("１５：３０ ＡＢ") == "15:30 ab"
    assert len(normalize("ｆｕｌｌ　ｗｉｄｔｈ")) == len("ｆｕｌｌ　ｗｉｄｔｈ")
    assert [cn_number(x) for x in ("十", "十二", "二十三", "两", "零五", "一百", "15")] == [10, 12, 23, 2, 5, 100, 15]
    assert format_local(at(2026, 11, 27, 19, 0)) == "2026-11-27（周五）19:00"
    assert format_local(at(2026, 11, 27, 19, 0), locale="en_US") == "Fri 2026-11-27 19:00"


def test_deterministic_and_fast():
    import time as clock

    text = "这是一段很长的说明文字，" * 40 + "明天下午3点 开会"
    start = clock.perf_counter()
    for _ in range(20):
        assert parse(text, NOW) == parse(text, NOW)
    assert clock.perf_counter() - start < 2.0


def test_deadline_prefixes():
    p = parse_deadline("报告在周五前交", NOW)
    assert p.matched == "在周五前" and p.rest == "报告 交" and loc(p.when) == "2026-11-27 18:00"
    assert loc(parse_deadline("截止到周五", NOW).when) == "2026-11-27 18:00"


def test_first_working_day_of_month():
    p = parse("每月第一个工作日 10:00", at(2026, 9, 15, 0, 0))
    assert loc(p.when) == "2026-10-08 10:00"  # 1–7 Oct 2026 is the National Day holiday
    assert describe(p.rule) == "每月第一个工作日 10:00"


def test_bare_weekday_today_when_ahead_and_monday_morning():
    monday = at(2026, 11, 30, 9, 0)
    assert when("每周一 10:00", monday) == "2026-11-30 10:00"
    assert when("周一 10:00", monday) == "2026-11-30 10:00"
    friday = at(2026, 11, 27, 17, 0)
    assert loc(parse_deadline("周五前", friday).when) == "2026-11-27 18:00"


_WORDS = ["明天", "今晚", "后天", "周五", "下周三", "每天", "每周", "每月", "最后一天", "工作日", "每隔", "分钟",
          "小时", "后", "前", "内", "点", "半", ":", "19", "00", "25", "3", "十", "两", "号", "月", "-", "~", "到",
          "从", "at", "in", "every", "monday", "pm", "tomorrow", "next", "12/01", "dec", "凌晨", "下午", "晚上",
          " ", "开会", "cron", "*", "31", "29", "2", "月底"]


def test_never_crashes_and_results_are_consistent():
    hypothesis = pytest.importorskip("hypothesis")
    st = hypothesis.strategies

    @hypothesis.settings(max_examples=300, deadline=None, derandomize=True)
    @hypothesis.given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=7).map("".join))
    def check(text: str) -> None:
        for fn in (parse, parse_deadline):
            try:
                p = fn(text, NOW)
            except TimeParseError:
                continue
            assert p.when > NOW and p.when.utcoffset().total_seconds() == 0
            assert text[p.start:p.end] == p.matched

    check()


def test_prefilter_does_not_change_results(monkeypatch):
    import re

    from bot.timeparse import atoms as timeatoms

    samples = ["天天 9:30", "正午", "黄昏6点", "清晨", "深夜11点", "週一 10:00", "礼拜天", "再过10分钟", "每隔1小时",
               "cron 0 9 * * 1", "午夜", "一早", "月底", "年底前", "星期五", "上周一", "工作日 9点", "过半小时"]

    def run(text):
        out = []
        for fn in (parse, parse_deadline):
            try:
                p = fn(text, NOW)
                out.append((p.when, p.rule, p.matched, p.rest))
            except TimeParseError as err:
                out.append((type(err).__name__, err.fragment))
        return out

    filtered = [run(t) for t in samples]
    monkeypatch.setattr(timeatoms, "_QUICK", re.compile(r"[\s\S]"))
    assert [run(t) for t in samples] == filtered


@pytest.mark.parametrize("text, fragment", [
    ("每两周 周一 10:00", "每两周"),
    ("每2天 9点", "每2天"),
    ("每隔一天 9点", "每隔一天"),
    ("每年 12月1日", "每年"),
    ("every other monday 10am", "every other monday"),
    ("每季度", "每季度"),
])
def test_unsupported_repeats_are_refused(text, fragment):
    with pytest.raises(TimeParseError) as exc:
        parse(text, NOW)
    assert exc.value.fragment == fragment
    assert "不支持" in exc.value.message_zh and "not supported" in exc.value.message_en


def test_unsupported_words_far_from_the_time_are_just_text():
    p = parse("做每年的总结 明天10点", NOW)
    assert loc(p.when) == "2026-11-27 10:00" and p.rest == "做每年的总结"
    assert parse("每一天 9:30", NOW).rule.kind == "daily"
