"""One set of period words (bot.periods), accepted by every command that takes a period."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot import periods
from bot.i18n import t

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 26)  # a Thursday: the harness's START in Shanghai
MON = date(2026, 11, 23)

# word → (kind, first day, number of days) on TODAY
TABLE = {
    "今天": ("today", TODAY, 1), "今日": ("today", TODAY, 1), "today": ("today", TODAY, 1),
    "昨天": ("yesterday", date(2026, 11, 25), 1), "yesterday": ("yesterday", date(2026, 11, 25), 1),
    "明天": ("tomorrow", date(2026, 11, 27), 1),
    "本周": ("week", MON, 7), "这周": ("week", MON, 7), "this week": ("week", MON, 7), "this-week": ("week", MON, 7),
    "week": ("week", MON, 7), "上周": ("last_week", date(2026, 11, 16), 7), "last week": ("last_week", date(2026, 11, 16), 7),
    "下周": ("next_week", date(2026, 11, 30), 7), "next week": ("next_week", date(2026, 11, 30), 7),
    "本月": ("month", date(2026, 11, 1), 30), "这个月": ("month", date(2026, 11, 1), 30),
    "this month": ("month", date(2026, 11, 1), 30), "month": ("month", date(2026, 11, 1), 30),
    "上月": ("last_month", date(2026, 10, 1), 31), "上个月": ("last_month", date(2026, 10, 1), 31),
    "last month": ("last_month", date(2026, 10, 1), 31), "last-month": ("last_month", date(2026, 10, 1), 31),
    "下个月": ("next_month", date(2026, 12, 1), 31),
    "近7天": ("days", date(2026, 11, 20), 7), "最近7天": ("days", date(2026, 11, 20), 7),
    "近七天": ("days", date(2026, 11, 20), 7), "过去30天": ("days", date(2026, 10, 28), 30),
    "近30天": ("days", date(2026, 10, 28), 30), "近３０天": ("days", date(2026, 10, 28), 30),
    "近1天": ("days", TODAY, 1), "last 7 days": ("days", date(2026, 11, 20), 7),
    "past 30 days": ("days", date(2026, 10, 28), 30), "last-14-days": ("days", date(2026, 11, 13), 14),
}
NOT_PERIODS = ["", "明年", "近0天", "近999天", "近天", "last days", "上上周", "本月吧", "7天"]


@pytest.mark.parametrize("word, expected", TABLE.items())
def test_words(word, expected):
    assert periods.parse(word, TODAY) == expected


@pytest.mark.parametrize("word", NOT_PERIODS)
def test_not_periods(word):
    assert periods.parse(word, TODAY) is None


def test_month_lengths_and_year_ends():
    assert periods.parse("下个月", date(2026, 12, 31)) == ("next_month", date(2027, 1, 1), 31)
    assert periods.parse("上月", date(2027, 1, 5)) == ("last_month", date(2026, 12, 1), 31)
    assert periods.parse("本月", date(2028, 2, 10)) == ("month", date(2028, 2, 1), 29)


def test_bounds_are_local_midnights():
    start, end = periods.parse("本月", TODAY).utc_bounds(TZ)
    assert start == datetime(2026, 10, 31, 16, tzinfo=timezone.utc) and end == datetime(2026, 11, 30, 16, tzinfo=timezone.utc)
    start, end = periods.parse("近7天", TODAY).bounds(TZ)
    assert (start.date(), end.date(), (end - start).days) == (date(2026, 11, 20), date(2026, 11, 27), 7)


def test_take_finds_the_period_anywhere():
    assert periods.take(["next", "week", "A1"], TODAY) == (("next_week", date(2026, 11, 30), 7), ["A1"])
    assert periods.take(["3号直播间", "last", "7", "days"], TODAY) == (("days", date(2026, 11, 20), 7), ["3号直播间"])
    assert periods.take(["A1"], TODAY) == (None, ["A1"])
    assert periods.starts_with_period(["近30天", "直播间", "A1"]) and not periods.starts_with_period(["直播间", "本周"])


def test_labels_in_both_languages():
    p = periods.parse("近7天", TODAY)
    assert p.label(lambda key, **v: t("zh_CN", key, **v)) == "近7天"
    assert p.label(lambda key, **v: t("en_US", key, **v)) == "the last 7 days"
    assert periods.parse("上周", TODAY).label(lambda key, **v: t("en_US", key, **v)) == "last week"
    assert p.key == "last_7_days" and periods.parse("本月", TODAY).key == "month"


# -- every command that takes a period accepts every word, through the simulator --------------------
WORDS = ["本月", "上月", "本周", "上周", "今天", "昨天", "近7天", "近30天", "近十四天",
         "this month", "last 7 days"]


def label(word: str) -> str:
    return periods.parse(word, TODAY).label(lambda key, **v: t("zh_CN", key, **v))


def span(word: str) -> str:
    p = periods.parse(word, TODAY)
    return f"{p.first:%m-%d} ~ {p.first + timedelta(days=p.days - 1):%m-%d}"


COMMANDS = {  # command → (who, what the answer must say for a word)
    "/故障 统计 {w}": ("ops", lambda w: f"故障统计 · {label(w)}"),
    "/检查 导出 {w}": ("ops", lambda w: f"已导出团队{label(w)}的 0 条合规检查记录"),
    "/数据 {w}": ("ops", lambda w: f"{label(w)}直播数据"),
    "/数据 运营 {w}": ("ops", lambda w: f"{label(w)}运营 KPI"),
    "/数据 导出 {w}": ("ops", lambda w: f"已导出 {label(w)} 的 0 场数据"),
    "/排期 导出 {w}": ("member", lambda w: f"已导出 {span(w)} 的 0 个场次"),
}


def said(h, since: int) -> str:
    return "\n".join(h.text_of(m) for m in h.bot_messages()[since:])


@pytest.mark.parametrize("command", COMMANDS)
async def test_each_command_accepts_each_word(seam, command):
    who, expected = COMMANDS[command]
    for word in WORDS:
        before = len(seam.bot_messages())
        await seam.say(who, command.format(w=word))
        assert expected(word) in said(seam, before), (command, word)


async def test_schedule_view_accepts_each_word(seam):
    for word in WORDS:
        before = len(seam.bot_messages())
        await seam.say("member", f"/排期 {word}")
        answer = said(seam, before)
        assert seam.last_reply()["msg_type"] == "interactive" and "不是时间段" not in answer, word
        p = periods.parse(word, TODAY)
        if p.kind.endswith("month"):
            assert f"{p.first.year}年{p.first.month}月排期" in answer, word
        elif p.days > 1:
            assert f"排期 {span(word)}" in answer, word


@pytest.mark.parametrize("command, refusal", [
    ("/故障 统计 明年", "看不懂时间段「明年」"), ("/检查 导出 明年", "本月、上月 或 全部"),
    ("/数据 运营 近999天", "不认识的时间范围"), ("/数据 导出 上上周", "不认识的时间范围"),
])
async def test_words_that_are_not_periods_are_refused(seam, command, refusal):
    await seam.say("ops", command)
    assert refusal in seam.text_of(seam.last_reply())


async def test_weekly_and_monthly_reports_cover_last_week_and_last_month(seam):
    await seam.say("ops", "/日报 周报")
    assert "周报 · 11/16–11/22" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/日报 月报")
    assert "月报 · 10/1–10/31" in seam.text_of(seam.last_reply())
