"""Issue 15, faults end to end (both databases): missed reports are recognised, a mention that
names a room or a live-stream term but no symptom is asked about ("这是故障吗？") and filed
from its original text, duplicates are merged by room while the ticket is open and by group
within a window, the room comes from the field group a report is posted in, and a capture
card's black screen gets the camera's runbook."""
from __future__ import annotations

from sqlalchemy import select, update

from bot.faults.models import Fault, FaultEvent
from bot.schedule.models import Room
from tests.test_faults_e2e import cards_in, fault_group, faults, seed
from tests.helpers import button_value, buttons

import pytest


@pytest.fixture
async def team(harness):
    await seed(harness)
    return harness


def asked(h, chat: str = "team") -> list[dict]:
    return [m for m in h.bot_messages(chat) if "这是故障吗" in h.text_of(m)]


def has_buttons(message: dict) -> bool:
    return bool(buttons(message))


# -- the classifier's new vocabulary, on a real ticket -----------------------------------------------
async def test_a_missed_report_opens_a_ticket_with_fitting_first_steps(team):
    h = team
    await h.say("streamer", "@LiveOps 3号间小黄车链接挂不上去")
    (f,) = await faults(h)
    assert f.category == "listing" and f.severity == "P0"  # P1, raised: room 3 is live
    text = h.text_of(h.bot_messages()[0])
    assert "商品链接/小黄车挂不上" in text and "购物车" in text and "备用线路" not in text
    await h.say("admin", "@LiveOps 推流码过期了", chat="tech")
    await h.say("admin", "@LiveOps 评论区刷不出来", chat="tech")
    assert [x.category for x in await faults(h)] == ["listing", "stream_key", "interaction"]


async def test_capture_card_black_screen_is_a_camera_fault_with_capture_card_steps(team):
    h = team
    await h.say("member", "@LiveOps 1号间采集卡没信号 黑屏")
    (f,) = await faults(h)
    assert f.category == "camera" and f.room_name == "1号直播间"
    text = h.text_of(h.bot_messages()[0])
    assert "摄像头/采集卡" in text and "HDMI 输出" in text and "备用线路" not in text


# -- "这是故障吗？" ------------------------------------------------------------------------------------
async def test_a_room_without_a_symptom_is_asked_about_and_the_author_files_it(team):
    h = team
    await h.say("member", "@LiveOps 1号直播间怎么回事 快看看")
    (card,) = asked(h)
    text = h.text_of(card)
    assert "1号直播间" in text and "是故障，登记" in text and "不是" in text
    assert await faults(h) == []
    value = button_value(card, "fault.ask_file")
    await h.press(card["message_id"], "streamer", value)  # neither the author nor ops: refused
    assert await faults(h) == []
    await h.press(card["message_id"], "member", value)
    (f,) = await faults(h)
    assert f.reporter_id == h.users["member"] and "1号直播间怎么回事" in f.text and f.room_name == "1号直播间"
    assert any("确认登记" in r for r in f.reasons)
    answered = h.sim.message(card["message_id"])
    assert "已登记为故障 #1" in h.text_of(answered) and not has_buttons(answered)
    async with h.db.session() as s:
        (event,) = (await s.execute(select(FaultEvent).where(FaultEvent.kind == "reported"))).scalars()
    assert event.by == h.users["member"]


async def test_ops_may_file_for_the_author_and_anyone_entitled_may_say_no(team):
    h = team
    await h.say("member", "@LiveOps 美妆间小黄车看一下")  # an alias of room 3 and a live-stream term
    (card,) = asked(h)
    assert "3号直播间" in h.text_of(card) and "小黄车" in h.text_of(card)
    await h.press(card["message_id"], "ops", button_value(card, "fault.ask_file"))
    (f,) = await faults(h)
    assert f.reporter_id == h.users["member"] and f.room_name == "3号直播间"
    await h.say("streamer", "@LiveOps 2号机位那边看看")
    second = asked(h)[-1]
    await h.press(second["message_id"], "streamer", button_value(second, "fault.ask_no"))
    assert len(await faults(h)) == 1
    assert "不是故障" in h.text_of(h.sim.message(second["message_id"]))


@pytest.mark.parametrize("text", ["@LiveOps 谢谢", "@LiveOps 今晚几点开播？", "@LiveOps 推流没断 别担心"])
async def test_everything_else_keeps_the_not_understood_answer(team, text):
    h = team
    await h.say("member", text)
    assert not asked(h) and await faults(h) == []
    assert "没有看懂" in h.text_of(h.last_reply())


# -- duplicates --------------------------------------------------------------------------------------
async def test_a_follow_up_joins_the_rooms_open_ticket_however_late(team):
    h = team
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    await h.advance(12 * 60)  # beyond the old 10-minute window: still the same open fault
    await h.say("ops", "@LiveOps 3号间推流又断了")
    (f,) = await faults(h)
    assert f.reports == 2 and "已合并" in h.text_of(h.last_reply())
    assert len([c for c in h.sim.chats() if c["created_by_bot"]]) == 1  # no second P0 group
    await h.say("tech", "/故障 解决 #1 原因 网线松了 处理 重新插好")
    await h.say("ops", "@LiveOps 3号间推流断了")  # after it was resolved: a new ticket
    assert [x.status for x in await faults(h)] == ["resolved", "open"]


async def test_reports_without_a_room_merge_within_the_groups_window(team):
    h = team
    await h.say("member", "@LiveOps 推流断了，快看看")  # 陈助播 is in no stream: no room
    (f,) = await faults(h)
    assert f.room_id is None
    await h.advance(20 * 60)
    await h.say("member", "@LiveOps 推流又断了")
    (f,) = await faults(h)
    assert f.reports == 2
    await h.say("admin", "@LiveOps 推流断了", chat="tech")  # another group: another ticket
    assert len(await faults(h)) == 2
    await h.advance(31 * 60)  # BOT_FAULT_MERGE_MINUTES (30) after the last report in the team group
    await h.say("member", "@LiveOps 推流断了")
    assert [x.reports for x in await faults(h)] == [2, 1, 1]


async def test_the_room_comes_from_the_field_group_the_report_is_posted_in(team):
    h = team
    field = h.sim.add_chat("1号直播间场控群", [h.users["ops"], h.users["member"]], chat_id="oc_field1")["chat_id"]
    async with h.db.session() as s:
        await s.execute(update(Room).where(Room.name == "1号直播间").values(field_chat_id=field))
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    # 张场控 is the field control of room 3's live stream, but says it in room 1's field group
    await h.say("ops", "@LiveOps 推流断了", chat=field)
    first, second = await faults(h)
    assert first.room_name == "3号直播间" and first.reports == 1
    assert second.room_name == "1号直播间" and any("场控群" in r for r in second.reasons)
    assert second.chat_id == field
    assert fault_group(h)["name"].startswith("[P0] 1号直播间")
    assert cards_in(h, field)
    async with h.db.session() as s:
        rows = (await s.execute(select(Fault.id))).scalars().all()
    assert rows == [1, 2]
