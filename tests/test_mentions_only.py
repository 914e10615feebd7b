"""A tenant that did NOT approve im:message.group_msg (the simulator's default, as a real app
starts): only group messages that @ the bot arrive ("接收消息" im.message.receive_v1, 注意事项).
Every feature either works written the @-way or says plainly what it needs."""
from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy import select

from bot.feishu.groupmode import PlatformFlag
from bot.faults.models import Fault
from tests.conftest import START
from tests.harness import Harness
from tests.test_data_e2e import SUMMARY
from tests.test_faults_e2e import cards_in, fault_group, seed as seed_faults
from tests.test_schedule_service import local, seed_team


@pytest_asyncio.fixture
async def h(database):
    h = Harness(database, START, group_msg=False)
    await h.start()
    yield h
    await h.stop()


async def test_slash_without_mention_never_arrives_and_mention_works(h):
    await h.say("ops", "/帮助")  # Feishu does not deliver it: nothing happens
    assert h.bot_messages() == []
    await h.say("ops", "@LiveOps 帮助")
    text = h.text_of(h.last_reply())
    assert "@LiveOps 排期 本周" in text  # help is written the way commands work here
    assert "`@LiveOps 帮助`" in text and "`/帮助`" not in text
    async with h.db.session() as s:  # nothing made the bot think every message arrives
        assert (await s.execute(select(PlatformFlag))).first() is None


async def test_help_in_a_direct_chat_uses_plain_commands(h):
    p2p = h.sim.p2p_chat(h.users["ops"])["chat_id"]
    await h.say("ops", "帮助", chat=p2p)
    text = h.text_of(h.last_reply(p2p))
    assert "`/排期`" in text  # typed here, in the direct chat
    assert "`@LiveOps 排期 本周`" in text and "在群里用 `/命令`" not in text  # and how to in groups


async def test_command_via_mention(h):
    async with h.db.session() as s:
        await seed_team(s, h.clock.now())
        await s.commit()
    await h.say("ops", "@LiveOps 排期 本周")
    assert h.last_reply()["msg_type"] == "interactive"
    assert "本周" in h.text_of(h.last_reply()) or "排期" in h.text_of(h.last_reply())


async def test_import_by_reply_says_what_it_needs_and_a_direct_file_is_imported(h):
    async with h.db.session() as s:
        rooms = await seed_team(s, h.clock.now())
        from bot.schedule.models import ENDED, Stream

        s.add(Stream(room_id=rooms[1].id, starts_at=local(2026, 11, 26, 8), ends_at=local(2026, 11, 26, 12),
                     streamer_id="ou_streamer", status=ENDED, chat_id=h.chats["team"],
                     actual_start=local(2026, 11, 26, 8), actual_end=local(2026, 11, 26, 12),
                     created_at=h.clock.now(), updated_at=h.clock.now()))
        await s.commit()
    team = h.chats["team"]
    dropped = await h.sim.upload_file(team, h.users["ops"], "罗盘_直播间汇总.csv", SUMMARY)
    assert dropped["delivery"] is None  # a file dropped in a group does not reach the bot
    await h.settle()
    assert h.bot_messages() == []
    await h.sim.send_text(team, h.users["ops"], "@LiveOps 导入", parent_id=dropped["message_id"])
    await h.settle()
    said = h.text_of(h.last_reply())
    assert "im:message.group_msg" in said and "私聊" in said  # plainly: which scope, and what to do
    # sent to the bot directly, the same file is imported
    p2p = h.sim.p2p_chat(h.users["ops"])["chat_id"]
    await h.sim.upload_file(p2p, h.users["ops"], "罗盘_直播间汇总.csv", SUMMARY)
    await h.settle()
    assert "已读取" in h.text_of(h.last_reply(p2p))


async def test_check_by_reply_says_what_it_needs_and_check_with_text_works(h):
    team = h.chats["team"]
    said = await h.sim.send_text(team, h.users["ops"], "今天下单立减，全网最低价，仅此一次")
    await h.sim.send_text(team, h.users["ops"], "@LiveOps 检查", parent_id=said["message_id"])
    await h.settle()
    reply = h.text_of(h.last_reply())
    assert "im:message.group_msg" in reply
    await h.say("ops", "@LiveOps 检查 今天下单立减，全网最低价，仅此一次")
    assert "最低价" in h.text_of(h.last_reply())


async def test_fault_report_and_timeline_by_mentions(h):
    await seed_faults(h)
    await h.say("streamer", "@LiveOps 3号直播间推流断了")
    group = fault_group(h)
    gcard = cards_in(h, group["chat_id"])[0]
    assert "只有 @LiveOps 的消息会记进时间线" in h.text_of(gcard)  # the card says how the timeline is fed
    await h.say("tech", "重启推流机了", chat=group["chat_id"])  # chatter does not arrive
    await h.say("tech", "@LiveOps 换了备用线路，画面恢复", chat=group["chat_id"])
    assert "#1" in h.text_of(h.last_reply(group["chat_id"]))
    async with h.db.session() as s:
        (f,) = (await s.execute(select(Fault))).scalars()
        from bot.faults import service

        events = [e.text for e in await service.timeline(s, f.id)]
    assert any("备用线路" in (e or "") for e in events)
    assert not any("重启推流机" in (e or "") for e in events)


@pytest.mark.parametrize("mode", ["all"])
async def test_an_unaddressed_group_message_switches_auto_mode_to_all(database, mode):
    """With the scope, the first un-@ group message tells the bot; it remembers it."""
    h = Harness(database, START, group_msg=True)
    await h.start()
    try:
        await h.say("ops", "/帮助")
        assert "`/排期`" in h.text_of(h.last_reply())
        async with h.db.session() as s:
            assert (await s.execute(select(PlatformFlag.key))).scalar() == "group_messages_seen"
        await h.stop_bot()
        await h.start_bot()
        assert h.bot.svc.group_messages_seen is True  # loaded at start-up
    finally:
        await h.stop()
