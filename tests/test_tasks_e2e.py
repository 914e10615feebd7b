"""Tasks end to end: the real bot, the simulator, the timer engine, both databases.

The harness clock starts on Thursday 2026-11-26 14:00 (Asia/Shanghai); "周五前" is Friday 18:00.
"""
from __future__ import annotations

from sqlalchemy import select

from tests import helpers
from bot.timers.models import Timer
from bot.tasks.models import Task, TaskLog, TaskOwner

HOUR = 3600


def dms(harness, user: str) -> list[dict]:
    chat = harness.sim.p2p_chat(harness.users[user])["chat_id"]
    return [m for m in harness.sim.messages(chat) if m["sender"]["type"] == "app"]


def dm_texts(harness, user: str) -> list[str]:
    return [harness.text_of(m) for m in dms(harness, user)]


async def task_rows(harness) -> list[Task]:
    async with harness.db.session() as s:
        return list((await s.execute(select(Task).order_by(Task.id))).scalars())


async def active_timers(harness, task_id: int) -> list[Timer]:
    async with harness.db.session() as s:
        return list((await s.execute(select(Timer).where(Timer.ref == f"task:{task_id}",
                                                         Timer.state == "active"))).scalars())


async def test_lifecycle_reminders_completion_overdue_and_escalation(harness):
    await harness.say("ops", "/任务 新建 完成主播话术培训 @李主播 周五前")
    card = harness.last_reply()
    assert "任务#1 · 完成主播话术培训" in harness.text_of(card)
    assert "2026-11-27（周五）18:00" in harness.text_of(card)
    await harness.say("ops", "/任务 新建 优化脚本时长 @陈助播 周五前 优先级高")
    assert "任务#2" in harness.text_of(harness.last_reply())
    # The owners were told, each in a direct message with the task card.
    assert any("给你派了一个任务" in t and "完成主播话术培训" in t for t in dm_texts(harness, "streamer"))
    assert any("优化脚本时长" in t and "高" in t for t in dm_texts(harness, "member"))
    assert len(await active_timers(harness, 1)) == 4  # 1 day, 2 hours, due, first overdue day

    # Thursday 18:00: one day before.
    await harness.advance(4 * HOUR + 1)
    assert "明天**截止" in dm_texts(harness, "streamer")[-1]
    assert "明天**截止" in dm_texts(harness, "member")[-1]

    # The streamer completes from the reminder card: its reminders stop at once.
    reminder = dms(harness, "streamer")[-1]
    await harness.press(reminder["message_id"], "streamer", {"a": "task.done", "id": 1})
    assert "已完成" in harness.text_of(dms(harness, "streamer")[-1])
    assert "已完成" in harness.text_of(harness.last_reply())  # the group hears it too
    assert await active_timers(harness, 1) == []
    before = len(dms(harness, "streamer"))

    # Friday 16:00 (2 hours before) and 18:00 (due): only the open task reminds.
    await harness.advance(22 * HOUR)
    assert "2 小时后**截止" in dm_texts(harness, "member")[-1]
    await harness.advance(2 * HOUR)
    assert "现在到截止时间了" in dm_texts(harness, "member")[-1]
    # Saturday 18:00: one day overdue, a daily reminder, no escalation yet.
    await harness.advance(24 * HOUR)
    assert "已逾期 **1 天**" in dm_texts(harness, "member")[-1]
    assert not any("升级提醒" in t for t in dm_texts(harness, "ops"))
    # Sunday 18:00: two days overdue: the ops lead is told, in private and in the group.
    await harness.advance(24 * HOUR)
    assert "已逾期 **2 天**" in dm_texts(harness, "member")[-1]
    assert any("升级提醒" in t and "优化脚本时长" in t for t in dm_texts(harness, "ops"))
    group = harness.text_of(harness.last_reply())
    assert "任务#2" in group and "已升级给运营主管" in group
    # Monday 18:00: still a daily reminder, but the escalation is not repeated.
    await harness.advance(24 * HOUR)
    assert "已逾期 **3 天**" in dm_texts(harness, "member")[-1]
    assert sum("升级提醒" in t for t in dm_texts(harness, "ops")) == 1
    assert len(dms(harness, "streamer")) == before  # nothing more for the completed task

    await harness.say("ops", "/任务 逾期")
    text = harness.text_of(harness.last_reply())
    assert "**#2**" in text and "**#1**" not in text


async def test_bad_input_is_refused_and_nothing_is_created(harness):
    await harness.say("ops", "/任务 新建 写脚本 @小王 周五前")
    assert "不认识「@小王」" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/任务 新建 写脚本 @路人甲 周五前")
    assert "路人甲 不在这个群里" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/任务 新建 写脚本 @李主播 昨天")
    assert "已经过去了" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/任务 新建 写脚本 @李主播")
    assert "没读懂截止时间" in harness.text_of(harness.last_reply())
    assert await task_rows(harness) == []


async def test_no_owner_asks_whom_and_a_double_click_creates_one_task(harness):
    await harness.say("ops", "/任务 新建 整理直播数据 明天中午前")
    ask = harness.last_reply()
    assert "这个任务交给谁" in harness.text_of(ask)
    value = next(b for b in _buttons(ask) if b.get("a") == "task.create")
    # Two clicks on the same card: the second event arrives though the card has changed.
    await harness.sim.press_button(ask["message_id"], harness.users["ops"], value, {"owner": harness.users["tech"]})
    await harness.sim.press_button(ask["message_id"], harness.users["ops"], value, {"owner": harness.users["tech"]},
                                   check=False)
    await harness.settle()
    rows = await task_rows(harness)
    assert len(rows) == 1 and rows[0].title == "整理直播数据"
    assert "已经创建过了" in harness.text_of(harness.last_reply())
    assert any("整理直播数据" in t for t in dm_texts(harness, "tech"))


async def test_extend_reassign_comment_and_reopen(harness):
    await harness.say("ops", "/任务 新建 对接品牌样品 @李主播 周五前")
    await harness.say("streamer", "/任务 延期 1 下周一前")
    assert "延期请写明原因" in harness.text_of(harness.last_reply())
    await harness.say("streamer", "/任务 延期 1 下周一前 原因：样品还没到")
    assert "延到 2026-11-30（周一）18:00" in harness.text_of(harness.last_reply())
    await harness.say("member", "/任务 完成 1")
    assert "只有任务#1 的负责人" in harness.text_of(harness.last_reply())
    await harness.say("streamer", "/任务 评论 1 已联系品牌方")
    await harness.say("ops", "/任务 转交 1 @陈助播")
    assert "已转交给 @陈助播" in harness.text_of(harness.last_reply())
    assert any("对接品牌样品" in t for t in dm_texts(harness, "member"))
    await harness.say("member", "/任务 完成 1")
    await harness.say("member", "/任务 重开 1")
    assert "重新打开" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/任务 #1")
    text = harness.text_of(harness.last_reply())
    assert "样品还没到" in text and "已联系品牌方" in text and "@陈助播" in text
    async with harness.db.session() as s:
        kinds = [e.kind for e in (await s.execute(select(TaskLog).order_by(TaskLog.id))).scalars()]
    assert kinds == ["created", "extended", "comment", "reassigned", "done", "reopened"]


async def test_extend_and_comment_from_the_card(harness):
    await harness.say("ops", "/任务 新建 复盘数据表 @李主播 周五前")
    card = harness.last_reply()
    await harness.press(card["message_id"], "streamer", {"a": "task.extend", "id": 1},
                        {"due": "下周二前", "note": "等千川数据", "owner": ""})
    assert "2026-12-01（周二）18:00" in harness.text_of(harness.last_reply())
    assert "等千川数据" in harness.text_of(harness.sim.message(card["message_id"]))
    await harness.press(card["message_id"], "streamer", {"a": "task.reassign", "id": 1},
                        {"due": "", "note": "", "owner": "@赵技术"})
    async with harness.db.session() as s:
        owners = list((await s.execute(select(TaskOwner.open_id))).scalars())
    assert owners == [harness.users["tech"]]


async def test_handover_moves_every_open_task(seam):
    await seam.say("ops", "/任务 新建 任务甲 @李主播 明天中午前")
    await seam.say("ops", "/任务 新建 任务乙 @李主播 下下周一前")
    await seam.say("ops", "/任务 新建 任务丙 @陈助播 周五前")
    await seam.say("streamer", "/任务 交接 @李主播 @陈助播")
    assert "需要运营权限" in seam.text_of(seam.last_reply()) or "权限" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/任务 交接 @李主播 @陈助播")
    text = seam.text_of(seam.last_reply())
    assert "2 个未完成任务" in text and "#1" in text and "#2" in text
    assert "顺延" in text and "#1" in text.split("顺延")[1]
    rows = await task_rows(seam)
    assert rows[0].due_at.isoformat() == "2026-12-01T10:00:00+00:00"  # 3 working days, 18:00 local
    async with seam.db.session() as s:
        owners = {o.task_id: o.open_id for o in (await s.execute(select(TaskOwner))).scalars()}
    assert set(owners.values()) == {seam.users["member"]}


async def test_reply_to_a_message_makes_a_task(harness):
    original = await harness.say("member", "直播间补光灯有点暗，需要换新的")
    await harness.sim.send_text(harness.chats["team"], harness.users["ops"], "@LiveOps 记为任务 @赵技术 周五前",
                                parent_id=original["message_id"])
    await harness.settle()
    rows = await task_rows(harness)
    assert len(rows) == 1 and "补光灯有点暗" in rows[0].title and rows[0].source == "message"
    assert any("补光灯" in t for t in dm_texts(harness, "tech"))


async def test_stats_this_month(harness):
    await harness.say("ops", "/任务 新建 甲 @李主播 明天中午前")
    await harness.say("ops", "/任务 新建 乙 @李主播 周五前")
    await harness.say("ops", "/任务 新建 丙 @陈助播 周五前")
    await harness.say("streamer", "/任务 完成 1")
    await harness.advance(3 * 24 * HOUR)  # Sunday: 乙 and 丙 are overdue
    await harness.say("member", "/任务 完成 3")
    await harness.say("ops", "/任务 统计 本月")
    text = harness.text_of(harness.last_reply())
    assert "任务统计 2026-11" in text
    assert "本月到期 **3** 个：按时完成 1，逾期完成 1，逾期未完成 1" in text
    assert "@李主播：2 / 1 / 0 / 1 / **50%**" in text


async def test_mirror_into_feishu_tasks(harness):
    await harness.say("ops", "/任务 设置 飞书任务 开")
    assert "同步到飞书任务：开" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/任务 新建 上架新品链接 @李主播 周五前")
    created = harness.sim.tasks()
    assert len(created) == 1
    feishu = created[0]
    assert feishu["summary"] == "上架新品链接"
    assert feishu["members"] == [{"id": harness.users["streamer"], "type": "user", "role": "assignee"}]
    rows = await task_rows(harness)
    assert rows[0].feishu_guid == feishu["guid"]
    assert int(feishu["due"]["timestamp"]) == int(rows[0].due_at.timestamp() * 1000)
    # The group card now carries the link.
    card = [m for m in harness.bot_messages() if "上架新品链接" in harness.text_of(m)][0]
    assert feishu["url"] in harness.text_of(harness.sim.message(card["message_id"]))


_buttons = helpers.button_values
