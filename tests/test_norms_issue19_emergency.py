"""End to end: off-hours emergencies handled within 1 hour — a streamer no-show (the start
passes without /开播 and nobody confirms the streamer) and a platform violation warning after
office hours; the ops on call is buzzed (urgent, with the mention + direct-message fallback),
the backup plan is offered as buttons, the outcome recorded, the ops lead told at 1 hour;
the share in /数据 运营 — through the simulator on the injected clock, on SQLite and PostgreSQL.

The clock stands at Thu 2026-11-26 14:00 Asia/Shanghai; the stream is Fri 27 19:00-23:00.
"""
from __future__ import annotations

from sqlalchemy import select

from bot.faults.models import Fault
from bot.norms.more_models import Emergency
from tests.test_norms_e2e import ADD, advance_to, button_value, find, team  # noqa: F401 - the fixture
from tests.test_schedule_service import local


def cards(h, needle: str, chat: str = "team") -> list[dict]:
    return [m for m in find(h, needle, chat) if m["msg_type"] == "interactive"]


async def emergencies(h) -> list[Emergency]:
    async with h.db.session() as s:
        return list((await s.execute(select(Emergency).order_by(Emergency.id))).scalars())


async def test_a_no_show_starts_an_emergency_the_on_call_is_buzzed_and_the_outcome_recorded(team):
    h = team
    await h.say("ops", "/应急 值班 @张场控 @王运营")
    assert "张场控 → 王运营" in h.text_of(h.last_reply())
    await h.say("ops", ADD)
    await advance_to(h, local(2026, 11, 27, 18, 59))
    assert not cards(h, "已到开播时间")
    await h.advance(60)
    [check] = cards(h, "已到开播时间")
    assert "ou_streamer" in h.text_of(check) and "主播已到场" in h.text_of(check)
    await h.advance(9 * 60)
    assert not await emergencies(h)
    await h.advance(60)
    [em] = await emergencies(h)
    assert em.kind == "noshow" and em.stream_id == 1 and em.oncall_ids == [h.users["ops"]]
    [card] = cards(h, "应急 #1：主播未到场")
    text = h.text_of(card)
    assert "1号直播间" in text and "ou_ops" in text and "助播救场" in text and "更换主播" in text
    # the on-call was buzzed on the card (the sender's urgent path)
    buzzes = h.sim.message(card["message_id"])["urgent"]
    assert any(h.users["ops"] in str(b) for b in buzzes)
    # not handled in an hour: the ops lead hears (not the on-call who is late)
    await h.advance(59 * 60)
    assert not find(h, "超过 1 小时未处理")
    await h.advance(60)
    [esc] = [m for m in find(h, "超过 1 小时未处理") if m["msg_type"] == "text"]
    assert "ou_admin" in h.text_of(esc)
    # the outcome: the assistant rescued the stream
    await h.advance(5 * 60)
    await h.press(card["message_id"], "ops", button_value(card, "emergency.resolve"), {"note": "陈助播先开播暖场"})
    [em] = await emergencies(h)
    assert em.status == "resolved" and em.outcome == "rescue" and em.note == "陈助播先开播暖场"
    assert em.resolved_at > em.due_at
    assert "助播救场" in h.text_of(h.sim.message(card["message_id"]))
    # pressing again changes nothing
    answer = await h.sim.press_button(card["message_id"], h.users["ops"],
                                      {"a": "emergency.resolve", "id": em.id, "o": "replace"}, check=False)
    await h.settle()
    assert "已经处理过了" in answer["toast"]["content"] and (await emergencies(h))[0].outcome == "rescue"


async def test_confirmed_or_live_streams_start_no_emergency(team):
    h = team
    await h.say("ops", ADD)
    await h.say("ops", "/排期 添加 2号直播间 明天 19:00-23:00 主播 @周主播")
    await advance_to(h, local(2026, 11, 27, 18, 55))
    await h.say("ops", "/开播 #1")
    await h.advance(5 * 60)
    checks = cards(h, "已到开播时间")
    assert len(checks) == 1 and "#2" in h.text_of(checks[0])  # #1 is live: no question
    await h.press(checks[0]["message_id"], "ops", button_value(checks[0], "emergency.arrived"))
    assert find(h, "#2 主播已到场")
    await h.advance(30 * 60)
    assert not await emergencies(h)


async def test_a_violation_warning_off_hours_is_an_emergency_and_the_share_in_data_operator(team):
    h = team
    # in office hours a violation warning is a fault only
    await h.say("member", "@LiveOps 3号直播间收到违规警告")
    assert not await emergencies(h)
    await advance_to(h, local(2026, 11, 26, 22, 0))
    await h.say("member", "@LiveOps 1号直播间收到平台违规警告，说话术有极限词")
    async with h.db.session() as s:
        faults = (await s.execute(select(Fault).order_by(Fault.id))).scalars().all()
    assert [f.category for f in faults] == ["sanction", "sanction"]
    [em] = await emergencies(h)
    assert em.kind == "violation" and em.fault_id == faults[1].id
    [card] = cards(h, "平台违规警告（1 小时内处理）")
    assert "已整改" in h.text_of(card)
    await h.advance(20 * 60)
    await h.press(card["message_id"], "member", button_value(card, "emergency.resolve") | {"o": "fixed"},
                  {"note": "已停用该话术并截图留档"})
    [em] = await emergencies(h)
    assert em.status == "resolved" and em.outcome == "fixed" and em.resolved_at <= em.due_at
    assert find(h, "应急 #1 已处理：已整改，用时 20 分钟")
    # one started by hand and left open past its hour
    await h.say("ops", "/应急 报告 未到场 2号间 主播电话打不通")
    await h.say("ops", "/应急")
    assert "#2" in h.text_of(h.last_reply()) and "主播未到场" in h.text_of(h.last_reply())
    await h.advance(61 * 60)
    await h.say("ops", "/数据 运营 本月")
    text = h.text_of(h.last_reply())
    assert "应急 60 分钟内处理" in text and "1/2 · 50%" in text
    await h.say("ops", "/应急 报告 着火了")
    assert "/应急 报告" in h.text_of(h.last_reply()) and len(await emergencies(h)) == 2


async def test_an_on_call_who_cannot_be_buzzed_is_mentioned_and_messaged_directly(team):
    h = team
    await h.say("ops", "/应急 值班 @路人甲")  # not in the team group: the buzz cannot reach them
    await h.say("ops", "/应急 报告 违规 1号间 收到违规警告")
    [em] = await emergencies(h)
    assert em.oncall_ids == [h.users["outsider"]]
    [fallback] = find(h, "无法加急提醒")
    assert "ou_outsider" in h.text_of(fallback)
    dm = h.sim.p2p_chat(h.users["outsider"])["chat_id"]
    assert any("应急 #1" in h.text_of(m) for m in h.bot_messages(dm))
