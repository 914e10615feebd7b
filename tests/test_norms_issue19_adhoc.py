"""End to end: an ad-hoc task (临时任务, or created with 紧急) asks its owner for a plan on the task
card within 30 minutes; no plan → reminder, then the ops lead; the plan is kept and shown; the
share in /数据 运营 — through the simulator on the injected clock, on SQLite and PostgreSQL.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.norms.more_models import TaskPlan
from tests.test_norms_e2e import button_value, find, team  # noqa: F401 - the fixture


def cards(h, needle: str, chat: str = "team") -> list[dict]:
    return [m for m in find(h, needle, chat) if m["msg_type"] == "interactive"]


async def plans(h) -> dict[int, TaskPlan]:
    async with h.db.session() as s:
        return {p.task_id: p for p in (await s.execute(select(TaskPlan))).scalars()}


async def test_no_plan_is_reminded_then_escalated_and_a_late_plan_is_kept(team):
    h = team
    await h.say("ops", "/任务 新建 临时任务：整理双12样品清单 @赵技术 今天18:00前")
    [card] = cards(h, "整理双12样品清单")
    assert "请 @赵技术 在" in h.text_of(card) and "提交处理方案" in h.text_of(card)
    plan = (await plans(h))[1]
    assert plan.submitted_at is None and (plan.due_at - plan.asked_at).total_seconds() == 30 * 60
    await h.advance(29 * 60)
    assert not find(h, "已到方案时限")
    await h.advance(60)
    reminded = find(h, "已到方案时限")
    assert len(reminded) == 1 and "ou_tech" in h.text_of(reminded[0])
    dm = h.sim.p2p_chat(h.users["tech"])["chat_id"]
    assert any("还没有提交处理方案" in h.text_of(m) for m in h.bot_messages(dm))
    await h.advance(14 * 60)
    assert not find(h, "逾期未给方案")
    await h.advance(60)
    escalated = find(h, "逾期未给方案，已升级")
    # the owner is late; the ops role holder hears (no group 主管 or team ops lead is set)
    assert len(escalated) == 1 and "ou_ops" in h.text_of(escalated[0]) and "ou_tech" in h.text_of(escalated[0])
    # bad input changes nothing and says why
    answer = await h.press(card["message_id"], "tech", button_value(card, "task.plan"), {"plan": "", "finish": "今天17:00"})
    assert "请填写处理方案" in answer["toast"]["content"]
    answer = await h.press(card["message_id"], "tech", button_value(card, "task.plan"), {"plan": "先盘点", "finish": "啥时候"})
    assert "toast" in answer and (await plans(h))[1].submitted_at is None
    # someone who is neither an owner, the creator nor ops is refused
    answer = await h.press(card["message_id"], "member", button_value(card, "task.plan"), {"plan": "x", "finish": "今天17:00"})
    assert (await plans(h))[1].submitted_at is None
    await h.press(card["message_id"], "tech", button_value(card, "task.plan"),
                  {"plan": "先盘点仓库样品，再和品牌对清单", "finish": "今天17:00"})
    plan = (await plans(h))[1]
    assert plan.plan == "先盘点仓库样品，再和品牌对清单" and plan.submitted_by == h.users["tech"]
    assert plan.submitted_at > plan.due_at and plan.finish_at is not None
    shown = h.text_of(h.sim.message(card["message_id"]))
    assert "先盘点仓库样品" in shown and "超时" in shown and "提交处理方案" not in shown
    await h.say("ops", "/任务 #1")
    assert "先盘点仓库样品" in h.text_of(h.last_reply())


async def test_a_plan_in_time_stops_the_clock_and_counts_in_data_operator(team):
    h = team
    await h.say("ops", "/任务 新建 紧急 换直播间背景布 @赵技术 明天前")
    [card] = cards(h, "换直播间背景布")
    await h.advance(10 * 60)
    await h.press(card["message_id"], "tech", button_value(card, "task.plan"),
                  {"plan": "下午去市场买布，晚上挂好", "finish": "今天21:00"})
    assert (await plans(h))[1].submitted_at <= (await plans(h))[1].due_at
    await h.advance(60 * 60)
    assert not find(h, "已到方案时限") and not find(h, "逾期未给方案")
    # an ordinary task asks for no plan
    await h.say("ops", "/任务 新建 检查补光灯 @赵技术 周五前")
    assert "提交处理方案" not in h.text_of(cards(h, "检查补光灯")[0]) and 2 not in await plans(h)
    # a second ad-hoc task left without a plan
    await h.say("ops", "/任务 新建 临时任务 补拍商品图 @赵技术 明天前")
    await h.advance(31 * 60)
    await h.say("ops", "/数据 运营 本月")
    text = h.text_of(h.last_reply())
    assert "临时任务 30 分钟内给方案" in text and "1/2 · 50%" in text
