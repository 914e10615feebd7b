"""End to end: /人员 离职 (hand-over with open tasks and a checklist, due 3 working days later,
reminders to the leaver and the ops lead, /人员 shows it), /人员 新人 (the growth plan's dated
tasks from the team's template, shown with the newbie KPI), and the optional quarterly review —
through the simulator on the injected clock, on SQLite and PostgreSQL.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; Tue 12-01 + 3 working days = Fri 12-04.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.norms.more_models import Departure, NewbiePlan
from bot.tasks.models import Task
from tests.test_norms_e2e import advance_to, button_value, find, team  # noqa: F401 - the fixture
from tests.test_schedule_service import local


def cards(h, needle: str, chat: str = "team") -> list[dict]:
    return [m for m in find(h, needle, chat) if m["msg_type"] == "interactive"]


def dm_texts(h, who: str) -> list[str]:
    return [h.text_of(m) for m in h.bot_messages(h.sim.p2p_chat(h.users[who])["chat_id"])]


async def departure(h) -> Departure:
    async with h.db.session() as s:
        return (await s.execute(select(Departure))).scalars().one()


async def test_a_hand_over_due_in_3_working_days_reminded_escalated_and_completed(team):
    h = team
    await h.say("ops", "/任务 新建 整理福袋清单 @陈助播 下周三前")
    await h.say("ops", "/人员 离职 陈助播")
    assert "请 @ 一个人" in h.text_of(h.last_reply())
    await h.say("ops", "/人员 离职 @陈助播 12月1日")
    [card] = cards(h, "离职交接：陈助播")
    text = h.text_of(card)
    assert "2026-12-01" in text and "2026-12-04 18:00" in text and "工作文件" in text and "直播账号" in text
    assert "#1" in text  # the open task
    assert any("离职交接" in t for t in dm_texts(h, "member"))
    dep = await departure(h)
    assert dep.status == "open" and len(dep.checklist) == 5
    await h.say("member", "/人员")
    assert "陈助播 · 2026-12-01 离职 · 清单 0/6" in h.text_of(h.last_reply())
    await h.press(card["message_id"], "member", button_value(card, "departure.check"))
    assert (await departure(h)).checklist[0]["done"] is True
    # the last day, 10:00: the leaver and the ops lead get the card
    await advance_to(h, local(2026, 12, 1, 10, 0))
    assert any("今天是最后工作日" in t for t in dm_texts(h, "member"))
    assert any("今天是最后工作日" in t for t in dm_texts(h, "ops"))
    # the deadline passes with the hand-over open: the ops lead hears
    await advance_to(h, local(2026, 12, 4, 18, 0))
    [esc] = [m for m in find(h, "已到截止时间仍未完成") if m["msg_type"] == "text"]
    assert "ou_ops" in h.text_of(esc) and "ou_member" in h.text_of(esc)
    # tasks handed over, every item ticked: done (late)
    await h.advance(3600)
    await h.say("ops", "/任务 交接 @陈助播 @赵技术")
    latest = h.sim.message(card["message_id"])
    for _ in range(4):
        await h.press(card["message_id"], "member", button_value(latest, "departure.check"))
        latest = h.sim.message(card["message_id"])
    dep = await departure(h)
    assert dep.status == "done" and all(x["done"] for x in dep.checklist) and dep.done_at > dep.due_at
    await h.say("ops", "/人员")
    assert "离职交接中" not in h.text_of(h.last_reply())
    await h.say("ops", "/数据 运营 本月")
    assert "离职 3 个工作日内交接" in h.text_of(h.last_reply()) and "0/1 · 0%" in h.text_of(h.last_reply())


async def test_a_newbie_plan_from_the_template_as_dated_tasks_linked_to_the_newbie_kpi(team):
    h = team
    await h.say("ops", "/人员 新人 @李主播")
    [card] = cards(h, "新人成长计划：李主播")
    text = h.text_of(card)
    assert "2026-11-26 ～ 2026-12-10" in text and "11-26 · 【新人成长】产品知识" in text and "12-10" in text
    async with h.db.session() as s:
        plan = (await s.execute(select(NewbiePlan))).scalars().one()
        tasks = (await s.execute(select(Task).order_by(Task.id))).scalars().all()
    assert plan.task_ids == [t.id for t in tasks] and len(tasks) == 6
    assert all(t.source == "newbie" for t in tasks)
    await h.say("ops", "/人员 新人 @李主播")
    assert "已经有进行中的成长计划" in h.text_of(h.last_reply())
    await h.say("streamer", "/任务 完成 1")
    await h.say("member", "/人员")
    assert "李主播 · 已完成 1/6" in h.text_of(h.last_reply())
    await h.say("ops", "/数据 运营 本月")
    text = h.text_of(h.last_reply())
    assert "新人成长计划 ↔ 新人转化增长" in text and "李主播（2026-11-26 起）计划 1/6" in text
    # the template and the length are team settings
    await h.say("ops", "/规范 设置 新人 30")
    assert "新人" in h.text_of(h.last_reply()) and "30" in h.text_of(h.last_reply())
    await h.say("ops", "/规范 设置 新人模板 产品知识")
    await h.say("ops", "/规范 设置 新人模板 1 产品知识；9 独立开播")
    await h.say("ops", "/规范 设置 新人 7")
    await h.say("member", "/规范")
    shown = h.text_of(h.last_reply())
    assert "D1 产品知识；D9 独立开播" in shown and "7 天" in shown and "质检报告" in shown
    await h.say("ops", "/人员 新人 @陈助播")
    text = h.text_of(cards(h, "新人成长计划：陈助播")[0])
    assert "2026-11-26 ～ 2026-12-02" in text and "12-02 · 【新人成长】独立开播" in text
    async with h.db.session() as s:
        assert len((await s.execute(select(Task))).scalars().all()) == 8


async def test_the_quarterly_review_reminder_carries_the_quarters_kpis(team):
    h = team
    await h.say("ops", "/规范 开启 季度复盘")
    await advance_to(h, local(2027, 1, 1, 9, 29))
    assert not find(h, "季度结束了")
    await h.advance(60)
    [text] = find(h, "2026Q4 季度结束了")
    assert "ou_ops" in h.text_of(text)
    [card] = cards(h, "2026Q4 季度 KPI 汇总")
    assert "舆情 3 分钟内回应" in h.text_of(card)
    assert any("2026Q4 季度 KPI 汇总" in t for t in dm_texts(h, "ops"))
