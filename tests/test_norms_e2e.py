"""End to end: checkpoints, /开播 /下播 with the in-stream cadence, after-stream deadlines,
/讲解, announcements — through the simulator, on SQLite and PostgreSQL.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; "明天 19:00" is Fri 27 19:00, so the
T-2h equipment card is due Fri 17:00 (27 hours on), T-1d venue card Thu 19:00.
"""
from __future__ import annotations


import pytest
from sqlalchemy import select

from bot.norms import afterstream, checkpoints
from bot.norms.models import DONE, OPEN, Checkpoint
from bot.timers.models import Timer
from bot.schedule.models import Stream
from tests.helpers import advance_to, button_value, find, texts  # noqa: F401 - other modules import them from here
from tests.test_schedule_service import local, seed_team

ADD = "/排期 添加 1号直播间 明天 19:00-23:00 主播 @李主播 场控 @张场控 技术 @赵技术"
HOUR = 3600


@pytest.fixture
async def team(harness):
    async with harness.db.session() as s:
        await seed_team(s, harness.clock.now())
    return harness




async def checkpoint(h, stream_id: int, kind: str) -> Checkpoint | None:
    async with h.db.session() as s:
        return await checkpoints.get_checkpoint(s, stream_id, kind)


async def stream(h, stream_id: int) -> Stream:
    async with h.db.session() as s:
        return await s.get(Stream, stream_id)


async def test_equipment_card_at_t_minus_2h_confirmed_with_latency(team):
    h = team
    await h.say("ops", ADD)
    assert (await checkpoint(h, 1, "equipment")).status == OPEN
    assert (await checkpoint(h, 1, "script")).status == "skipped"  # T-2d was already past
    await advance_to(h, local(2026, 11, 27, 16, 59))
    assert not find(h, "设备联调")
    assert find(h, "场地布置")  # T-1d card went out Thu 19:00
    await h.advance(60)
    cards = find(h, "设备联调")
    assert len(cards) == 1 and "ou_tech" in h.text_of(cards[0]) and "200" in h.text_of(cards[0])
    value = button_value(cards[0], "norms.done")
    # someone who is neither the owner nor ops is refused politely
    answer = await h.press(cards[0]["message_id"], "member", value, {"latency": "120"})
    assert "只有负责人或运营" in answer["toast"]["content"]
    # no latency given: asked for it
    answer = await h.press(cards[0]["message_id"], "tech", value, {})
    assert "实测网络延迟" in answer["toast"]["content"]
    # over 200 ms: fails the norm, stays open
    await h.press(cards[0]["message_id"], "tech", value, {"latency": "260"})
    assert "超过规范上限" in h.text_of(h.last_reply())
    assert (await checkpoint(h, 1, "equipment")).status == OPEN
    await h.press(cards[0]["message_id"], "tech", value, {"latency": "120 ms"})
    cp = await checkpoint(h, 1, "equipment")
    assert cp.status == DONE and cp.latency_ms == 120 and cp.done_by == h.users["tech"]
    assert "已完成" in h.text_of(h.sim.messages(h.chats["team"])[[m["message_id"] for m in h.sim.messages(h.chats["team"])].index(cards[0]["message_id"])])
    # confirmed: no reminder, no escalation
    await h.advance(2 * HOUR)
    assert not find(h, "再次提醒：设备联调") and not find(h, "已升级：设备联调")


async def test_unconfirmed_checkpoint_is_reminded_then_escalated(team):
    h = team
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 17, 0))
    assert find(h, "检查点：设备联调")
    await h.advance(30 * 60)
    assert len(find(h, "再次提醒：设备联调")) == 1
    assert not find(h, "已升级：设备联调")
    await h.advance(30 * 60)
    esc = find(h, "已升级：设备联调")
    assert len(esc) == 1 and "ou_ops" in h.text_of(esc[0]) and "ou_tech" in h.text_of(esc[0])
    # ops may confirm for the technician
    await h.press(esc[0]["message_id"], "ops", button_value(esc[0], "norms.done"), {"latency": "90"})
    assert (await checkpoint(h, 1, "equipment")).status == DONE


async def test_cancelled_stream_never_fires_and_moved_stream_moves(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 添加 2号直播间 明天 14:00-18:00 主播 @周主播")
    await h.say("ops", "/排期 取消 #1 原因 主播请假")
    async with h.db.session() as s:
        live = (await s.execute(select(Timer).where(Timer.ref.like("stream:1:%"), Timer.state == "active"))).scalars().all()
    assert live == []
    await h.say("ops", "/排期 修改 #2 开始 20:00 时间 20:00-23:30")
    cp = await checkpoint(h, 2, "equipment")
    assert cp.due_at == local(2026, 11, 27, 18, 0)
    await advance_to(h, local(2026, 11, 27, 12, 30))
    assert not find(h, "设备联调")  # would have been 12:00 before the move
    await advance_to(h, local(2026, 11, 27, 18, 0))
    cards = find(h, "检查点：设备联调")
    assert len(cards) == 1 and "#2" in h.text_of(cards[0])
    assert not any("#1 " in h.text_of(m) for m in find(h, "检查点"))


async def test_cancel_while_in_flight_sends_nothing_more(team):
    h = team
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 17, 0))
    assert find(h, "检查点：设备联调")
    await h.say("ops", "/排期 取消 #1 原因 临时取消")
    await h.advance(2 * HOUR)
    assert not find(h, "再次提醒：设备联调") and not find(h, "运营到岗")


async def test_live_cadence_then_offair_deadlines(team):
    h = team
    await h.say("admin", "/直播间 修改 1号间 场控群 本群", chat="tech")
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 19, 2))
    await h.say("ops", "/开播 #1")
    assert "准点开播" in h.text_of(h.last_reply())
    s = await stream(h, 1)
    assert s.status == "live" and s.actual_start == local(2026, 11, 27, 19, 2)
    assert find(h, "开播", chat="tech")  # told in the field-control group too
    for _ in range(6):  # 19:05 … 19:32
        await h.advance(5 * 60)
    tech = texts(h, "tech")
    assert sum("互动提醒（" in t for t in tech) == 6
    assert sum("数据检查（" in t for t in tech) == 2  # 19:15, 19:30
    assert sum("福袋提醒（" in t for t in tech) == 1  # 19:30
    assert not any("互动提醒（" in t for t in texts(h, "team"))
    # pause and resume
    await h.say("ops", "/节奏 暂停 #1")
    await h.advance(10 * 60)
    assert sum("互动提醒（" in t for t in texts(h, "tech")) == 6
    await h.say("ops", "/节奏 继续 #1")
    await h.advance(5 * 60)
    assert sum("互动提醒（" in t for t in texts(h, "tech")) == 7
    await h.say("ops", "/下播")  # 3 hours before the scheduled end: asked first, on a card
    ask = h.last_reply()
    assert "离排期的下播时间还差 193 分钟" in h.text_of(ask)
    assert (await stream(h, 1)).status == "live"
    await h.press(ask["message_id"], "ops", button_value(ask, "norms.end_confirm"))
    assert "数据导出截止" in h.text_of(h.last_reply())
    s = await stream(h, 1)
    assert s.status == "ended" and s.actual_end == h.clock.now()
    before = len(texts(h, "tech"))
    await h.advance(30 * 60)
    assert len(texts(h, "tech")) == before  # the cadence stopped
    await h.advance(30 * 60)  # T+1h
    export = find(h, "直播数据导出")
    assert export and "ou_ops" in h.text_of(export[-1])
    await h.advance(30 * 60)
    assert find(h, "已升级：直播数据导出")
    await h.advance(23 * HOUR)  # T+24h: the review reminder (reviews feature)
    assert any("复盘" in t for t in texts(h)[-3:])


async def test_late_start_and_mark_done_and_accuracy(team):
    h = team
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 19, 20))
    await h.say("ops", "/开播 1号间")
    assert "晚 20 分钟" in h.text_of(h.last_reply())
    await h.say("ops", "/开播 #1")
    assert "已经在直播中" in h.text_of(h.last_reply())
    await h.say("ops", "/下播 #1")
    ask = h.last_reply()
    await h.press(ask["message_id"], "ops", button_value(ask, "norms.end_confirm"))
    async with h.db.session() as s:
        assert await checkpoints.mark_done(s, 1, "export", by=h.users["ops"], at=h.clock.now())
        await s.commit()
    await h.advance(2 * HOUR)
    assert not find(h, "直播数据导出")
    async with h.db.session() as s:
        acc = await afterstream.schedule_accuracy(s, local(2026, 11, 27, 0), local(2026, 11, 28, 0))
    assert acc.total == 1 and acc.on_time == 0 and acc.late == [(1, 20)] and acc.rate == 0


async def test_explanation_timer(team):
    h = team
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 19, 0))
    await h.say("ops", "/开播 #1")
    await h.say("ops", "/讲解 爆款 花西子散粉")
    assert "8–12" in h.text_of(h.last_reply())
    await h.advance(8 * 60)
    assert "已讲解 8 分钟" in h.text_of(h.last_reply())
    await h.advance(4 * 60)
    assert "已超时" in h.text_of(h.last_reply())
    await h.advance(60)
    await h.say("ops", "/讲解 结束")
    assert "13分00秒" in h.text_of(h.last_reply())
    await h.say("ops", "/讲解 引流 眉笔")
    await h.advance(3 * 60)
    await h.say("ops", "/讲解 结束")
    async with h.db.session() as s:
        over = await afterstream.overtime_explanations(s, 1)
    assert [e.product for e in over] == ["花西子散粉"] and over[0].seconds == 13 * 60
    await h.say("ops", "/讲解 结束")
    assert "没有正在计时" in h.text_of(h.last_reply())


async def test_weekly_announcement_sunday_evening(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 添加 2号直播间 2026-12-01 14:00-18:00 主播 @周主播")
    await advance_to(h, local(2026, 11, 29, 19, 59))
    assert not find(h, "下周直播排期")
    await h.advance(60)
    cards = find(h, "下周直播排期")
    assert len(cards) == 1 and "#2" in h.text_of(cards[0])


SCRIPT_BLOCK = "\n".join(["家人们晚上好，欢迎来到直播间", "今天给大家带来一款面霜", "这款面霜全网最好用，三天祛痘",
                          "质地轻薄，适合日常使用", "喜欢的点击小黄车"])
SCRIPT_FIXED = "\n".join(["家人们晚上好，欢迎来到直播间", "今天给大家带来一款面霜", "这款面霜很好用，口碑不错",
                          "质地轻薄，适合日常使用", "喜欢的点击小黄车"])


async def test_script_review_opens_only_on_a_check_of_the_script(team):
    h = team
    await h.say("ops", "/排期 添加 1号直播间 2026-11-30 19:00-23:00 主播 @李主播")
    await advance_to(h, local(2026, 11, 28, 19, 0))
    card = find(h, "检查点：脚本初审")
    assert len(card) == 1
    value = button_value(card[0], "norms.done")
    answer = await h.press(card[0]["message_id"], "ops", value)
    assert "还没做合规检查" in answer["toast"]["content"]
    # one sentence is not the script, flagged or clean
    await h.say("ops", "/检查 #1 这款面霜全网最好用，三天祛痘")
    answer = await h.press(card[0]["message_id"], "ops", value)
    assert "还不算脚本检查" in answer["toast"]["content"]
    await h.say("ops", "/检查 #1 这款面霜质地轻薄，适合日常使用")
    answer = await h.press(card[0]["message_id"], "ops", value)
    assert "还不算脚本检查" in answer["toast"]["content"] and "R2" in answer["toast"]["content"]
    assert (await checkpoint(h, 1, "script")).status == OPEN
    # the script (5 lines) with a must-change hit keeps it shut
    await h.say("ops", f"/检查 #1 {SCRIPT_BLOCK}")
    script_card = h.last_reply()
    answer = await h.press(card[0]["message_id"], "ops", value)
    assert "必改" in answer["toast"]["content"] and "R3" in answer["toast"]["content"]
    # a clean sentence after it does not open it either
    await h.say("ops", "/检查 #1 欢迎来到直播间")
    answer = await h.press(card[0]["message_id"], "ops", value)
    assert "R3" in answer["toast"]["content"] and (await checkpoint(h, 1, "script")).status == OPEN
    # the fixed script, sent as a reply to R3's card without "#1": a revision of R3, same stream
    await h.sim.send_text(h.chats["team"], h.users["member"], f"/检查 {SCRIPT_FIXED}",
                          parent_id=script_card["message_id"])
    await h.settle()
    assert "这是对 **R3** 的复查" in h.text_of(h.last_reply())
    await h.press(card[0]["message_id"], "ops", value)
    cp = await checkpoint(h, 1, "script")
    assert cp.status == DONE and cp.gate_record_id == 5
    [done] = [m for m in h.bot_messages() if m["message_id"] == card[0]["message_id"]]
    assert f"由 检查 R5（文字脚本，{len(SCRIPT_FIXED)} 字）通过" in h.text_of(done)
    await h.say("member", "/规范 #1")
    assert "脚本初审（T-2天） · 11-28 19:00 · 已完成 · R5" in h.text_of(h.last_reply())


async def test_script_gate_thresholds_are_settings(team):
    h = team
    await h.say("ops", "/排期 添加 1号直播间 2026-11-30 19:00-23:00 主播 @李主播")
    await h.say("ops", "/规范 设置 脚本字数 10")
    assert "脚本字数 = 10 字" in h.text_of(h.last_reply())
    await h.say("ops", "/规范 设置 脚本行数 三行")
    assert "不是 脚本行数 的有效值" in h.text_of(h.last_reply())
    await h.say("ops", "/检查 #1 这款面霜质地轻薄，适合日常使用")  # 15 characters now count as a script
    await advance_to(h, local(2026, 11, 28, 19, 0))
    [card] = find(h, "检查点：脚本初审")
    await h.press(card["message_id"], "ops", button_value(card, "norms.done"))
    assert (await checkpoint(h, 1, "script")).status == DONE


async def test_script_gate_names_an_uploaded_file(team):
    h = team
    await h.say("ops", "/排期 添加 1号直播间 2026-11-30 19:00-23:00 主播 @李主播")
    await h.sim.upload_file(h.chats["team"], h.users["ops"], "#1 面霜脚本.txt", "这款面霜质地轻薄".encode())
    await h.settle()
    await h.say("ops", "/检查 #1 这款面霜全网最好用")  # a later one-liner does not replace the script
    await advance_to(h, local(2026, 11, 28, 19, 0))
    [card] = find(h, "检查点：脚本初审")
    await h.press(card["message_id"], "ops", button_value(card, "norms.done"))
    assert (await checkpoint(h, 1, "script")).gate_record_id == 1
    [done] = [m for m in h.bot_messages() if m["message_id"] == card["message_id"]]
    assert "由 检查 R1（脚本 #1 面霜脚本.txt）通过" in h.text_of(done)


async def test_ops_lead_override_is_recorded(team):
    h = team
    await h.say("ops", "/排期 添加 1号直播间 2026-11-30 19:00-23:00 主播 @李主播")
    await h.say("member", "/规范 放行 #1 原因 已人工复核")
    assert (await checkpoint(h, 1, "script")).status == OPEN
    await h.say("ops", "/规范 放行 #1 原因 已人工复核")
    cp = await checkpoint(h, 1, "script")
    assert cp.status == DONE and cp.override_reason == "已人工复核"
    await h.say("ops", "/规范 设置 设备 90分钟")
    await h.say("member", "/规范")
    assert "90" in h.text_of(h.last_reply())
