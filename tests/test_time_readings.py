"""Issue 15 "Times": durations read whole, ambiguous hours and ranges read as the context makes
likely (and the other reading returned), day words after a complete expression left in the
text, and explicit answers about which Friday was taken."""
import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.timers.recurrence import describe
from bot.timeparse.parser import PastTimeError, TimeParseError, parse, parse_deadline, parse_range, read_range

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 14, 0, tzinfo=SH)  # Thursday afternoon
SUNDAY = datetime(2026, 11, 29, 10, 0, tzinfo=SH)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


def loc(dt: datetime) -> str:
    return dt.astimezone(SH).strftime("%Y-%m-%d %H:%M")


# ---- durations of several parts ------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("1小时20分钟后", "2026-11-26 15:20"),
    ("一小时二十分钟后", "2026-11-26 15:20"),
    ("两个小时十五分钟以后", "2026-11-26 16:15"),
    ("2天3小时后", "2026-11-28 17:00"),
    ("1天零2小时后", "2026-11-27 16:00"),
    ("过1小时20分钟", "2026-11-26 15:20"),
    ("in 1 hour 20 minutes", "2026-11-26 15:20"),
    ("in 1h20m", "2026-11-26 15:20"),
    ("in 1h 20m", "2026-11-26 15:20"),
    ("in 1 hour and 20 minutes", "2026-11-26 15:20"),
    ("in 2 days 3 hours", "2026-11-28 17:00"),
    ("1 hour 20 minutes later", "2026-11-26 15:20"),
    ("1h20m from now", "2026-11-26 15:20"),
])
def test_two_part_durations_are_read_whole(text, expected):
    p = parse(f"{text} 看库存", NOW)
    assert loc(p.when) == expected
    assert p.rest == "看库存" and p.matched == text


def test_one_part_durations_still_work():
    assert loc(parse("1个半小时后 x", NOW).when) == "2026-11-26 15:30"
    assert loc(parse("in an hour and a half x", NOW).when) == "2026-11-26 15:30"
    assert loc(parse("3个月后 x", NOW).when) == "2027-02-26 14:00"
    assert loc(parse("2天后 19:00 x", NOW).when) == "2026-11-28 19:00"


def test_a_duration_written_small_unit_first_is_refused_saying_why():
    with pytest.raises(TimeParseError) as err:
        parse("20分钟1小时后 开会", NOW)
    assert "从大单位写到小单位" in err.value.message_zh
    assert "larger unit first" in err.value.message_en


@pytest.mark.parametrize("text, expected", [
    ("1小时20分钟内", "2026-11-26 15:20"),
    ("2天3小时内", "2026-11-28 17:00"),
    ("within 1 hour 20 minutes", "2026-11-26 15:20"),
])
def test_two_part_deadlines(text, expected):
    p = parse_deadline(f"交脚本 {text}", NOW)
    assert loc(p.when) == expected and p.rest == "交脚本"


@pytest.mark.parametrize("text", ["每1小时30分钟", "每隔1小时30分钟", "every 1 hour 30 minutes", "every 1h30m"])
def test_two_part_intervals(text):
    p = parse(f"{text} 看数据", NOW)
    assert (p.rule.kind, p.rule.every_minutes) == ("interval", 90)
    assert p.rest == "看数据"
    assert describe(p.rule) == "每1小时30分钟"
    assert describe(p.rule, "en_US") == "every 1 h 30 min"
    assert loc(p.when) == "2026-11-26 15:00"  # counted from 00:00: 13:30, 15:00


# ---- a bare hour: the likely reading, and the other one ---------------------------------------------
def test_bare_hour_that_passed_today_means_tomorrow_afternoon():
    p = parse("3点 开会", at(2026, 11, 26, 18, 3))
    assert loc(p.when) == "2026-11-27 15:00"
    alt, = p.alternatives
    assert loc(alt.when) == "2026-11-27 03:00" and alt.rule.kind == "once"
    assert alt.plausible  # 03:00 tonight comes sooner: offered
    assert p.plausible == (alt,)
    assert p.reading_note == "“3点”按下午 15:00 理解；如果是凌晨 03:00，请写“凌晨3点”。"
    assert p.reading_note in p.notes


def test_bare_hour_still_ahead_today_has_an_implausible_other_reading():
    p = parse("3点 开会", NOW)
    assert loc(p.when) == "2026-11-26 15:00"
    alt, = p.alternatives
    assert loc(alt.when) == "2026-11-27 03:00" and not alt.plausible
    assert p.plausible == ()
    assert "凌晨3点" in p.reading_note


@pytest.mark.parametrize("now, taken, other", [
    (NOW, "2026-11-26 20:00", "2026-11-27 08:00"),
    (at(2026, 11, 26, 21, 0), "2026-11-27 08:00", "2026-11-27 20:00"),
    (at(2026, 11, 26, 7, 0), "2026-11-26 08:00", "2026-11-26 20:00"),
])
def test_morning_or_evening_hours_offer_both(now, taken, other):
    p = parse("8点 开会", now)
    assert loc(p.when) == taken
    alt, = p.alternatives
    assert loc(alt.when) == other and alt.plausible


def test_said_in_the_small_hours_the_small_hours_are_likely():
    p = parse("3点 下播", at(2026, 11, 26, 2, 0))
    assert loc(p.when) == "2026-11-26 03:00"
    assert loc(p.alternatives[0].when) == "2026-11-26 15:00" and p.alternatives[0].plausible


def test_dated_and_repeating_bare_hours_carry_the_other_reading():
    p = parse("明天8点 交脚本", NOW)
    assert loc(p.when) == "2026-11-27 08:00"
    assert loc(p.alternatives[0].when) == "2026-11-27 20:00" and p.alternatives[0].plausible
    p = parse("明天3点 交脚本", NOW)
    assert loc(p.when) == "2026-11-27 15:00" and not p.alternatives[0].plausible
    p = parse("每天8点 站会", NOW)
    alt, = p.alternatives
    assert (p.rule.time, alt.rule.time, alt.rule.kind) == (time(8), time(20), "daily") and alt.plausible
    assert describe(alt.rule) == "每天 20:00"


def test_english_bare_hour_note():
    p = parse("at 7 call Bob", NOW, locale="en_US")
    assert loc(p.when) == "2026-11-26 19:00"
    assert p.reading_note == "Read “at 7” as 19:00 (evening); for 07:00 (morning), write “7am”."


def test_unambiguous_times_have_no_alternatives():
    for text in ("下午3点", "凌晨3点", "15:00", "03:00", "7pm", "晚上8点", "30分钟后", "每天 9:30", "十二点"):
        p = parse(f"{text} x", NOW)
        assert p.alternatives == () and p.reading_note == "", text


# ---- ranges ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, start, end, other, plausible", [
    ("3点-7点", "2026-11-27 15:00", "2026-11-27 19:00", ("2026-11-27 03:00", "2026-11-27 07:00"), False),
    ("3点到7点", "2026-11-27 15:00", "2026-11-27 19:00", ("2026-11-27 03:00", "2026-11-27 07:00"), False),
    ("10点-2点", "2026-11-27 10:00", "2026-11-27 14:00", ("2026-11-27 22:00", "2026-11-28 02:00"), True),
    ("8点-11点", "2026-11-27 08:00", "2026-11-27 11:00", ("2026-11-27 20:00", "2026-11-27 23:00"), True),
    ("8点-23:00", "2026-11-27 20:00", "2026-11-27 23:00", ("2026-11-27 08:00", "2026-11-27 23:00"), True),
    ("3点-19:00", "2026-11-27 15:00", "2026-11-27 19:00", ("2026-11-27 03:00", "2026-11-27 19:00"), False),
])
def test_ambiguous_ranges(text, start, end, other, plausible):
    r = read_range(text, date(2026, 11, 27))
    assert (loc(r.start), loc(r.end)) == (start, end)
    (s2, e2, p2), = r.alternatives
    assert (loc(s2), loc(e2), p2) == (*other, plausible)
    assert r.reading_note.startswith(f"“{text.split('-')[0] if ':' in text else text}”按")
    assert parse_range(text, date(2026, 11, 27)) == (r.start, r.end)


def test_range_note_text():
    r = read_range("3点-7点", date(2026, 11, 27))
    assert r.reading_note == "“3点-7点”按下午 15:00–19:00 理解；如果是凌晨 03:00–07:00，请写“凌晨3点-7点”。"
    assert read_range("19:00-23:00", date(2026, 11, 27)).alternatives == ()
    assert read_range("晚上7点到11点", date(2026, 11, 27)).reading_note == ""


def test_interval_window_with_an_ambiguous_range():
    p = parse("3点-7点 每30分钟 提醒补货", NOW)
    assert (p.rule.window_start, p.rule.window_end) == (time(15), time(19))
    assert p.rest == "提醒补货" and loc(p.when) == "2026-11-26 15:00"
    alt, = p.alternatives
    assert (alt.rule.window_start, alt.rule.window_end) == (time(3), time(7)) and not alt.plausible


# ---- day words after a complete expression -------------------------------------------------------
@pytest.mark.parametrize("text, first, rest", [
    ("每周六 10:00 周六例会", "2026-11-28 10:00", "周六例会"),
    ("每周六 周六例会", "2026-11-28 09:00", "周六例会"),
    ("每月1号 10:00 1号对账", "2026-12-01 10:00", "1号对账"),
    ("明天 10:00 明天的会", "2026-11-27 10:00", "明天的会"),
    ("每周一 10:00 准备周一的选品", "2026-11-30 10:00", "准备周一的选品"),
])
def test_day_words_after_a_complete_expression_stay_in_the_text(text, first, rest):
    p = parse(text, NOW)
    assert loc(p.when) == first and p.rest == rest


def test_a_date_and_its_weekday_stay_one_expression():
    p = parse("12月1日 周二 19:00 直播", NOW)
    assert loc(p.when) == "2026-12-01 19:00" and p.rest == "直播"


# ---- which Friday -------------------------------------------------------------------------------------
def test_this_friday_on_sunday_names_the_date_and_the_next_one():
    with pytest.raises(PastTimeError) as err:
        parse_deadline("本周五前 交报告", SUNDAY)
    zh = err.value.message_zh
    assert "2026-11-27（周五）18:00" in zh
    assert "“本周五”指本周（11月23日–11月29日）的周五" in zh and "下周五" in zh and "12月4日" in zh
    assert "next friday" in err.value.message_en and "Dec 4" in err.value.message_en


def test_bare_friday_on_sunday_says_which_friday():
    p = parse_deadline("周五前 交报告", SUNDAY)
    assert loc(p.when) == "2026-12-04 18:00"
    assert p.reading_note == "“周五”按下周五（12月4日）理解（本周五的这个时间已过）。"
    assert p.alternatives == ()
    assert parse_deadline("周五前 交报告", NOW).reading_note == ""  # tomorrow: nothing to say


# ---- the GRAMMAR.md tables marked "tested" -----------------------------------------------------------
GRAMMAR = Path(__file__).parents[1] / "bot" / "timeparse" / "GRAMMAR.md"


def grammar_table(name: str) -> list[list[str]]:
    """The rows (cells, stripped) of the table after "<!-- tested: {name} ...-->"."""
    text = GRAMMAR.read_text(encoding="utf-8")
    start = text.index(f"<!-- tested: {name}")
    rows = []
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0].startswith("---") or cells[0].startswith("写法") or cells[0].startswith("说的时候"):
            continue
        rows.append(cells)
    assert rows, name
    return rows


def forms(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def moment(text: str) -> str:
    return re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", text).group(0)


@pytest.mark.parametrize("row", grammar_table("readings"), ids=lambda r: f"{r[1]}@{r[0][-5:]}")
def test_grammar_readings_table(row):
    said, form, taken, other, button = row
    now = datetime.strptime(said, "%Y-%m-%d %H:%M").replace(tzinfo=SH)
    p = parse(f"{form} 对样品", now)
    assert loc(p.when) == taken and p.rest == "对样品"
    if other == "—":
        assert p.alternatives == ()
        return
    alt, = p.alternatives
    assert loc(alt.when) == other
    assert alt.plausible is button.startswith("有")
    assert p.reading_note


@pytest.mark.parametrize("row", grammar_table("deadlines"), ids=lambda r: r[0])
def test_grammar_deadlines_table(row):
    for form in forms(row[0]):
        assert loc(parse_deadline(f"交报告 {form}", NOW).when) == moment(row[1]), form


@pytest.mark.parametrize("row", grammar_table("ranges"), ids=lambda r: r[0])
def test_grammar_ranges_table(row):
    day = date(2026, 11, 27)
    for form in forms(row[0]):
        r = read_range(form, day)
        start, end = r.start.astimezone(SH), r.end.astimezone(SH)
        assert start.strftime("%H:%M") == row[1] and start.date() == day, form
        next_day = row[2].startswith("次日")
        assert end.strftime("%H:%M") == row[2].removeprefix("次日 ") and (end.date() > day) is next_day, form


@pytest.mark.parametrize("row", grammar_table("refusals"), ids=lambda r: r[0])
def test_grammar_refusals_table(row):
    listed = forms(row[0])
    for form in listed:
        with pytest.raises(TimeParseError) as err:
            if "截止" in row[0]:
                parse_deadline(f"{form} 对样品", NOW)
            else:
                parse(f"{form} 对样品", NOW)
        excerpt = row[1].replace(f"“{listed[0]}”", f"“{form}”") if len(listed) > 1 else row[1]
        assert excerpt in err.value.message_zh, form
        assert err.value.message_en and err.value.fragment


# ---- the same readings through /排期 --------------------------------------------------------------------
async def test_schedule_reads_3_to_7_as_the_afternoon(seam):
    from sqlalchemy import select

    from bot.schedule.models import Stream
    from tests.test_schedule_service import local, seed_team

    async with seam.db.session() as s:
        await seed_team(s, seam.clock.now())
    await seam.say("ops", "/排期 添加 1号直播间 明天 3点-7点 主播 @李主播")
    assert "11-27 周五 15:00–19:00" in seam.text_of(seam.last_reply())
    async with seam.db.session() as s:
        stream, = (await s.execute(select(Stream))).scalars()
    assert (stream.starts_at, stream.ends_at) == (local(2026, 11, 27, 15), local(2026, 11, 27, 19))
