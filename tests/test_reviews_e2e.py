"""Reviews end to end: a stream ends, /复盘, the card's form, improvements → tasks, summary.

The harness clock starts on Thursday 2026-11-26 14:00 (Asia/Shanghai, 06:00 UTC).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tests import helpers
from bot.reviews import service as reviews
from bot.reviews.models import Review, ReviewItem
from bot.schedule.models import Room, Stream
from bot.tasks.models import Task, TaskOwner

HOUR = 3600
START = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)


async def ended_stream(harness, *, with_fault: bool = False, announce: bool = False) -> int:
    """A stream of the team group that ran 10:00-13:00 today, made by the ops user."""
    async with harness.db.session() as s:
        room = Room(name="1号间", aliases=[], created_at=START)
        s.add(room)
        await s.flush()
        stream = Stream(room_id=room.id, starts_at=START - timedelta(hours=4), ends_at=START - timedelta(hours=1),
                        streamer_id=harness.users["streamer"], brand="花西子", status="ended",
                        actual_start=START - timedelta(hours=4), actual_end=START - timedelta(hours=1),
                        chat_id=harness.chats["team"], created_by=harness.users["ops"], target_gmv=500000,
                        created_at=START, updated_at=START)
        s.add(stream)
        await s.flush()
        if with_fault:
            from bot.faults.models import Fault

            s.add(Fault(status="resolved", category="network", severity="P1", room_id=room.id, stream_id=stream.id,
                        text="直播间卡顿掉帧", chat_id=harness.chats["team"], reporter_id=harness.users["streamer"],
                        created_at=START - timedelta(hours=2),
                        resolved_at=START - timedelta(hours=2) + timedelta(minutes=8),
                        updated_at=START - timedelta(hours=2)))
        if announce:  # what /下播 does through the hook
            await reviews.stream_ended(s, stream_id=stream.id, ended_at=stream.actual_end, chat_id=stream.chat_id)
        return stream.id


def dm_texts(harness, user: str) -> list[str]:
    chat = harness.sim.p2p_chat(harness.users[user])["chat_id"]
    return [harness.text_of(m) for m in harness.sim.messages(chat) if m["sender"]["type"] == "app"]


async def test_review_card_items_tasks_summary_and_reminders(harness):
    stream_id = await ended_stream(harness, with_fault=True)
    await harness.say("ops", "/复盘")
    card = harness.last_reply()
    text = harness.text_of(card)
    assert f"直播复盘 #{stream_id} · 1号间 11-26 10:00 花西子" in text
    assert "故障#1（P1）直播间卡顿掉帧，8 分钟处理完" in text  # pre-filled from the fault ticket
    # the target is known, but the team group is not internal: no amount on the card (bot.data.fmt)
    assert "目标GMV" in text and "仅内部群可见" in text and "500,000" not in text and "50万" not in text

    # Two people fill the card's form.
    await harness.press(card["message_id"], "ops", {"a": "review.add", "id": 1},
                        {"highlight": "开场福袋拉新效果好\n爆款讲解节奏稳",
                         "shortcoming": "三款产品讲解超时", "improvement": "优化脚本时长，设置倒计时提醒"})
    await harness.press(card["message_id"], "streamer", {"a": "review.add", "id": 1},
                        {"highlight": "", "shortcoming": "", "improvement": "加强主播话术培训"})
    async with harness.db.session() as s:
        items = list((await s.execute(select(ReviewItem).order_by(ReviewItem.id))).scalars())
    assert [i.kind for i in items] == ["shortcoming", "highlight", "highlight", "shortcoming", "improvement",
                                       "improvement"]
    first, second = items[4], items[5]
    updated = harness.text_of(harness.sim.message(card["message_id"]))
    assert "开场福袋拉新效果好" in updated and "加强主播话术培训" in updated

    # Improvement → task: by the card's form, and by one line.
    await harness.press(card["message_id"], "ops", {"a": "review.task", "id": 1},
                        {"item": str(first.id), "owner": harness.users["streamer"], "due": "周五前"})
    await harness.say("ops", f"/复盘 任务 {second.id} @陈助播 下周一前")
    async with harness.db.session() as s:
        tasks = list((await s.execute(select(Task).order_by(Task.id))).scalars())
        owners = {o.task_id: o.open_id for o in (await s.execute(select(TaskOwner))).scalars()}
    assert [(t.title, t.source, t.review_id, t.stream_id) for t in tasks] == [
        ("优化脚本时长，设置倒计时提醒", "review", 1, stream_id), ("加强主播话术培训", "review", 1, stream_id)]
    assert owners == {1: harness.users["streamer"], 2: harness.users["member"]}
    assert any("给你派了一个任务" in t and "优化脚本时长" in t for t in dm_texts(harness, "streamer"))
    assert any("给你派了一个任务" in t and "加强主播话术培训" in t for t in dm_texts(harness, "member"))
    assert "→ 任务#1" in harness.text_of(harness.sim.message(card["message_id"]))
    # A second click on the same item (sent before the card changed) makes no second task.
    await harness.sim.press_button(card["message_id"], harness.users["ops"], {"a": "review.task", "id": 1},
                                   {"item": str(first.id), "owner": harness.users["streamer"], "due": "周五前"},
                                   check=False)
    await harness.settle()
    assert "已经是任务#1" in harness.text_of(harness.last_reply())
    async with harness.db.session() as s:
        assert len(list((await s.execute(select(Task))).scalars())) == 2

    # Finish: a clean summary card in the team group, kept and retrievable.
    await harness.press(card["message_id"], "ops", {"a": "review.finish", "id": 1})
    summary = harness.last_reply()
    text = harness.text_of(summary)
    assert f"复盘总结 #{stream_id}" in text and "三款产品讲解超时" in text and "改进任务**：共 2 个" in text
    assert not any(b for b in _button_values(summary))  # nothing left to press
    await harness.say("member", "/复盘 列表")
    assert f"**#{stream_id}**" in harness.text_of(harness.last_reply())
    await harness.say("member", f"/复盘 #{stream_id}")
    assert f"复盘总结 #{stream_id}" in harness.text_of(harness.last_reply())

    # The day before the deadline the owner is reminded; one completes, the other escalates.
    await harness.advance(4 * HOUR + 1)
    assert "明天**截止" in dm_texts(harness, "streamer")[-1]
    reminder = [m for m in harness.sim.messages(harness.sim.p2p_chat(harness.users["streamer"])["chat_id"])
                if m["sender"]["type"] == "app"][-1]
    await harness.press(reminder["message_id"], "streamer", {"a": "task.done", "id": 1})
    await harness.advance(4 * 24 * HOUR)  # Monday 18:00 due for task 2; then two days overdue
    await harness.advance(2 * 24 * HOUR)
    assert any("升级提醒" in t and "加强主播话术培训" in t for t in dm_texts(harness, "ops"))
    assert not any("升级提醒" in t and "优化脚本时长" in t for t in dm_texts(harness, "ops"))


async def test_one_line_improvement_becomes_a_task_and_review_needs_no_stream(seam):
    await seam.say("ops", "/复盘 改进：优化脚本时长，设置倒计时提醒 @李主播 周五前")
    assert "已添加到复盘 R1" in seam.text_of(seam.last_reply())
    async with seam.db.session() as s:
        task = (await s.execute(select(Task))).scalar_one()
        review = (await s.execute(select(Review))).scalar_one()
    assert task.title == "优化脚本时长，设置倒计时提醒" and task.source == "review" and review.stream_id is None
    await seam.say("ops", "/复盘\n亮点：互动率高\n不足：福袋间隔太长")
    assert "已添加 2 条到复盘 R1" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/复盘 不足 R1 三款产品讲解超时")
    await seam.say("ops", "/复盘 完成")
    text = seam.text_of(seam.last_reply())
    assert "复盘总结 R1" in text and "福袋间隔太长" in text and "三款产品讲解超时" in text
    await seam.say("ops", "/复盘 不足 R1 再加一条")
    assert "已经完成了" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/复盘 改进：换补光灯 @小王 周五前")
    assert "不认识「@小王」" in seam.text_of(seam.last_reply())


async def test_missing_review_is_reminded_after_24_hours_then_escalated(harness):
    await ended_stream(harness, announce=True)
    await harness.advance(23 * HOUR + 1)  # Friday 13:00: 24 hours after the end
    text = harness.text_of(harness.last_reply())
    assert "超过 24 小时还没有完成复盘" in text
    assert any("超过 24 小时" in t for t in dm_texts(harness, "ops"))  # the stream's ops owner
    await harness.advance(24 * HOUR)
    assert "升级提醒" in harness.text_of(harness.last_reply())


async def test_a_finished_review_silences_the_24_hour_reminder_and_the_sweep_finds_streams(harness):
    await ended_stream(harness)  # nobody called the hook: the hourly sweep plans it
    await harness.say("ops", "/复盘 列表")
    await harness.advance(2 * HOUR)
    async with harness.db.session() as s:
        from bot.timers.models import Timer

        keys = {t.key for t in (await s.execute(select(Timer))).scalars()}
    assert "review-due:1:remind" in keys
    await harness.say("ops", "/复盘 亮点 #1 开场好")
    await harness.say("ops", "/复盘 完成 #1")
    before = len(harness.bot_messages())
    await harness.advance(48 * HOUR)
    assert not any("24 小时" in harness.text_of(m) for m in harness.bot_messages()[before:])


_button_values = helpers.button_values


async def test_review_is_prefilled_from_the_data_as_suggestions_and_masks_amounts(seam):
    """Issue 15: KPIs missed become 不足 suggestions, KPIs beaten 亮点 suggestions, marked 建议;
    the card in a group that is not internal shows no amount."""
    from bot.data import store
    from bot.store.models import Chat

    stream_id = await ended_stream(seam)  # target GMV 50万
    await seam.say("ops", "/复盘")  # opened before the data arrives: nothing to suggest yet
    assert "来自数据" not in seam.text_of(seam.last_reply())
    async with seam.db.session() as s:
        await store.save_values(s, stream_id, {"gmv": 410000, "uv": 40000, "buyers": 2400, "avg_dwell": 75},
                                source="test", by=seam.users["ops"], now=seam.clock.now())
    await seam.say("ops", "/复盘")
    text = seam.text_of(seam.last_reply()).replace(" 〔", "〔")
    highlights, rest = text.split("**⚠️ 不足**")
    shortcomings = rest.split("**🛠 改进**")[0]
    assert "观看-成交转化率达标 6.00%（目标 ≥ 5%）〔建议·来自数据〕" in highlights
    assert "GMV（成交金额）未达标 达成 82%〔建议·来自数据〕" in shortcomings
    assert "人均观看时长未达标 1分15秒（目标 ≥ 1分30秒）" in shortcomings
    assert text.count("来自数据") == 3
    assert "410,000" not in text and "41万" not in text and "50万" not in text  # not an internal group
    async with seam.db.session() as s:
        items = list((await s.execute(select(ReviewItem).where(ReviewItem.source == "kpi"))).scalars())
        assert {i.kind for i in items} == {"highlight", "shortcoming"} and len(items) == 3
        chat = await s.get(Chat, seam.chats["team"])
        chat.internal = True
    await seam.say("ops", "/复盘")
    text = seam.text_of(seam.last_reply())
    assert "¥41万" in text and "82%" in text  # an internal group sees the amounts in the header
    assert text.count("来自数据") == 3  # suggested once
