"""/节假日 end to end (list, add, remove, import with its confirmation card), the holiday data
kept in the database and read by workdays, and the "year not stored" warnings on the weekly
schedule card and on /提醒 confirmations that count working days.

The harness starts on Thursday 2026-11-26 14:00 Asia/Shanghai; chinesecalendar and the shipped
data know 2026, nobody knows 2027 yet."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from bot.timeparse import holiday_store, workdays
from bot.timeparse.calendar_data import read_arrangement
from bot.timeparse.holiday_store import CalendarChange, CalendarDay, CalendarImport, CalendarYear
from bot.sim.cards import buttons

# The way the State Council words its notice (the 2027 one was not published when this was
# written: these dates are made up for the test, in the notice's format).
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知 https://www.gov.cn/zhengce/content/2027-test.htm
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月6日（农历正月初一、周六）至12日（周五）放假调休，共7天。2月20日（周六）上班。
三、清明节：4月5日（周一）放假，与周末连休。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。"""

YEAR_UNKNOWN = "2027 年的调休安排还未录入，按法定节日计算；管理员可用 /节假日 导入"


def values(msg: dict) -> list[dict]:
    return [b["value"] for b in buttons(msg["content"])]


async def count(h, table, *where) -> int:
    async with h.db.session() as s:
        return (await s.execute(select(func.count()).select_from(table).where(*where))).scalar()


# -- reading the notice ------------------------------------------------------------------------------
def test_the_notice_text_is_read_into_days():
    plan = read_arrangement(NOTICE_2027, 2027)
    assert plan.problems == [] and plan.warnings == []
    assert plan.source == "https://www.gov.cn/zhengce/content/2027-test.htm"
    holidays = [d for d, k, _n in plan.days if k == "holiday"]
    work = [d for d, k, _n in plan.days if k == "workday"]
    assert len(holidays) == 3 + 7 + 1 + 5 + 1 + 1 + 7
    assert work == [date(2027, 2, 20), date(2027, 4, 25), date(2027, 5, 8), date(2027, 9, 26), date(2027, 10, 9)]
    assert (date(2027, 2, 9), "holiday", "春节") in plan.days
    assert (date(2027, 2, 20), "workday", "春节调休上班") in plan.days


def test_csv_lines_ranges_and_bad_lines():
    plan = read_arrangement("date,kind,name\n2027-02-06~2027-02-12,holiday,春节\n2027-02-20 上班\n2/21 work x", 2027)
    assert [d.day for d, k, _n in plan.days if k == "holiday"] == list(range(6, 13))
    assert plan.warnings == []
    assert (date(2027, 2, 21), "workday", "x") in plan.days
    bad = read_arrangement("2027-02-06,holiday,春节\n2027-13-01,holiday,x\n2030-01-01,holiday,y", 2027)
    assert bad.problems == ["2: 2027-13-01,holiday,x", "3: 2030-01-01"]
    assert read_arrangement("2027-02-10,workday,", 2027).warnings == ["2027-02-10（周三）"]


# -- listing ---------------------------------------------------------------------------------------
async def test_list_a_known_year_and_an_unknown_one(seam):
    h = seam
    await h.say("member", "/节假日")
    text = h.text_of(h.last_reply())
    assert "2026 年节假日安排" in text and "**国庆节** 10月1日（周四） 至 10月7日（周三），7 天" in text
    assert "调休上班" in text and "10月10日（周六）" in text and "随版本发布" in text
    assert YEAR_UNKNOWN in text  # the coming year, announced from November
    await h.say("member", "/节假日 2027")
    card = h.last_reply()
    assert card["content"]["header"]["template"] == "orange"
    assert YEAR_UNKNOWN in h.text_of(card) and "春节" in h.text_of(card)  # the statutory estimate
    await h.say("member", "/节假日 明年")
    assert "请写四位的年份" in h.text_of(h.last_reply())


# -- adding and removing ---------------------------------------------------------------------------
async def test_only_ops_and_admins_change_the_calendar(seam):
    h = seam
    await h.say("member", "/节假日 添加 2027-02-20 上班 春节调休上班")
    assert "需要" in h.text_of(h.last_reply())
    assert await count(h, CalendarDay) == 0 and not workdays.is_working_day(date(2027, 2, 20))


async def test_add_and_remove_days(seam):
    h = seam
    await h.say("ops", "/节假日 添加 2027-02-20 上班 春节调休上班")
    reply = h.text_of(h.last_reply())
    assert "已记下：2月20日（周六） 调休上班 · 春节调休上班" in reply and YEAR_UNKNOWN in reply
    assert workdays.is_working_day(date(2027, 2, 20)) and workdays.calendar_source(date(2027, 2, 20)) == "database"
    await h.say("admin", "/holidays add 2027-06-10~2027-06-11 off Company trip")
    assert not workdays.is_working_day(date(2027, 6, 10)) and workdays.holiday_name(date(2027, 6, 11)) == "Company trip"
    await h.say("ops", "/节假日 删除 2027-02-20")
    assert "已删除：2月20日（周六） 起 1 天，现在按普通的周末算" in h.text_of(h.last_reply())
    assert not workdays.is_working_day(date(2027, 2, 20))
    assert await count(h, CalendarDay, CalendarDay.day == date(2027, 2, 20)) == 0
    # a shipped holiday removed becomes an ordinary day, stored as "normal"
    await h.say("ops", "/节假日 删除 2026-10-07")
    assert "现在按普通的工作日算" in h.text_of(h.last_reply())
    assert workdays.is_working_day(date(2026, 10, 7))
    await h.say("ops", "/节假日 删除 2026-10-07")
    assert "本来就不是节假日" in h.text_of(h.last_reply())
    await h.say("ops", "/节假日 添加 下周 放假")
    assert "没读懂“下周 放假”" in h.text_of(h.last_reply())
    async with h.db.session() as s:
        actions = [c.action for c in (await s.execute(select(CalendarChange).order_by(CalendarChange.id))).scalars()]
    assert actions == ["add", "add", "add", "remove", "remove"]


# -- importing a year --------------------------------------------------------------------------------
async def test_import_a_year_with_its_confirmation_card(harness):
    h = harness
    await h.say("ops", "/提醒 大家 每个工作日 18:00 日报")
    assert YEAR_UNKNOWN in h.text_of(h.last_reply())  # the confirmation says 2027 is estimated
    await h.say("ops", f"/节假日 导入 2027\n{NOTICE_2027}")
    card = h.last_reply()
    text = h.text_of(card)
    assert "2027 年节假日安排（待确认）" in text and "放假 25 天，调休上班 5 天。" in text
    assert "**春节** 2月6日（周六） 至 2月12日（周五），7 天" in text and "gov.cn" in text
    confirm, cancel = values(card)
    assert confirm["a"] == "holidays.import" and cancel["a"] == "holidays.cancel"
    assert await count(h, CalendarDay) == 0 and not workdays.year_known(2027)  # nothing before the button
    answer = await h.press(card["message_id"], "member", confirm)  # not ops: refused, nothing stored
    assert "需要运营权限" in answer["toast"]["content"] and answer["toast"]["type"] == "error"
    assert await count(h, CalendarDay) == 0
    await h.press(card["message_id"], "ops", confirm)
    updated = h.sim.message(card["message_id"])
    assert "已导入 2027 年节假日安排" in h.text_of(updated) and values(updated) == []
    assert await count(h, CalendarDay, CalendarDay.year == 2027) == 30
    assert await count(h, CalendarYear) == 1
    assert workdays.year_known(2027) and workdays.db_year_source(2027).startswith("https://www.gov.cn")
    assert workdays.is_working_day(date(2027, 2, 20)) and not workdays.is_working_day(date(2027, 2, 8))
    assert workdays.is_working_day(date(2027, 6, 10))  # not in the notice: an ordinary Thursday
    answer = await h.sim.press_button(card["message_id"], h.users["ops"], confirm, check=False)  # a stale button
    await h.settle()
    assert "已经处理过了" in answer["toast"]["content"]  # told to the presser, not the group
    await h.say("ops", "/提醒 大家 每个工作日 9:00 站会")
    assert YEAR_UNKNOWN not in h.text_of(h.last_reply())
    await h.say("member", "/节假日 2027")
    assert "管理员导入，来源：https://www.gov.cn" in h.text_of(h.last_reply())


async def test_a_working_day_reminder_skips_the_imported_holidays(seam):
    h = seam
    await h.clock.set(h.clock.now().replace(year=2027, month=1, day=29))  # Friday 29 Jan 2027
    await h.say("ops", f"/节假日 导入 2027\n{NOTICE_2027}")
    await h.press(h.last_reply()["message_id"], "ops", values(h.last_reply())[0])
    await h.say("ops", "/提醒 每个工作日 9:00 开晨会")
    async with h.db.session() as s:
        from bot.timers.models import Timer
        from bot.timers.recurrence import Recurrence, upcoming
        timer = (await s.execute(select(Timer).where(Timer.kind == "reminder"))).scalar_one()
    fires = [f.date() for f in upcoming(Recurrence.from_dict(timer.rule), h.clock.now(), 12)]
    assert date(2027, 2, 8) not in fires and date(2027, 2, 15) in fires and date(2027, 2, 20) in fires


async def test_cancel_an_import_and_refuse_a_bad_one(harness):
    h = harness
    await h.say("ops", "/节假日 导入 2027\n2027-02-06~2027-02-12,holiday,春节")
    card = h.last_reply()
    await h.press(card["message_id"], "ops", values(card)[1])
    assert "取消了这次导入" in h.text_of(h.sim.message(card["message_id"]))
    assert await count(h, CalendarDay) == 0
    assert await count(h, CalendarImport, CalendarImport.state == "cancelled") == 1
    await h.say("ops", "/节假日 导入 2027\n2027-02-06,holiday,春节\n春节放假 2027年13月1日")
    assert "没有导入任何内容" in h.text_of(h.last_reply()) and "3: 春节放假" in h.text_of(h.last_reply())  # the message's line 3
    await h.say("ops", "/节假日 导入 2027")
    assert "没有读到 2027 年的任何日期" in h.text_of(h.last_reply())
    assert await count(h, CalendarImport) == 1


# -- the warnings --------------------------------------------------------------------------------------
async def test_weekly_schedule_card_says_when_the_coming_year_is_unknown(seam):
    h = seam
    await h.say("member", "/排期 本周")
    assert YEAR_UNKNOWN in h.text_of(h.last_reply())
    await h.say("ops", "/节假日 导入 2027\n2027-01-01,holiday,元旦")
    await h.press(h.last_reply()["message_id"], "ops", values(h.last_reply())[0])
    await h.say("member", "/排期 本周")
    assert "调休安排还未录入" not in h.text_of(h.last_reply())


async def test_a_one_off_reminder_does_not_warn(seam):
    await seam.say("member", "/提醒 明天 10:00 交脚本")
    assert "调休安排" not in seam.text_of(seam.last_reply())


# -- another replica's change ----------------------------------------------------------------------
async def test_another_processes_change_is_picked_up(seam):
    h = seam
    async with h.db.session() as s:  # as if another replica had imported a day
        s.add(CalendarDay(day=date(2027, 3, 1), year=2027, kind="holiday", name="测试", updated_by="x",
                          updated_at=h.clock.now()))
        s.add(CalendarChange(at=h.clock.now(), user_id="x", action="add", what="2027-03-01"))
    assert workdays.is_working_day(date(2027, 3, 1))
    async with h.db.session() as s:
        assert await holiday_store.refresh_if_stale(s, every=0)
        assert not await holiday_store.refresh_if_stale(s, every=0)  # same version: nothing to do
    assert not workdays.is_working_day(date(2027, 3, 1))
    assert workdays.add_working_days(date(2027, 2, 26), 1) == date(2027, 3, 2)  # Monday 1 March is off


async def test_the_timer_engine_picks_up_another_processes_change(harness, monkeypatch):
    h = harness
    async with h.db.session() as s:
        s.add(CalendarDay(day=date(2027, 3, 2), year=2027, kind="holiday", name="测试", updated_by="x",
                          updated_at=h.clock.now()))
        s.add(CalendarChange(at=h.clock.now(), user_id="x", action="add", what="2027-03-02"))
    monkeypatch.setattr(holiday_store, "CHECK_EVERY", 0)
    await h.bot.timers.plan()  # the engine's planning (every 30 s at least) checks the version
    assert workdays.holiday_name(date(2027, 3, 2)) == "测试"
