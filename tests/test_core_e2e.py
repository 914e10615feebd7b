"""End to end: the real bot, the real lark-oapi client, the simulator, a real database."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.store.models import InboxEvent, OutboxMessage, RoleGrant


async def test_help_is_generated_and_filtered_by_role(harness):
    await harness.say("member", "/帮助")
    reply = harness.last_reply()
    assert reply["msg_type"] == "interactive"
    text = harness.text_of(reply)
    assert "/帮助" in text and "/我是谁" in text
    assert "/状态" not in text  # admin only: hidden from a member
    await harness.say("admin", "/help")
    assert "/状态" in harness.text_of(harness.last_reply())


async def test_reply_is_threaded_to_the_command(harness):
    msg = await harness.say("member", "/在吗")
    reply = harness.last_reply()
    assert reply["parent_id"] == msg["message_id"]
    assert "机器人时间" in harness.text_of(reply)


async def test_unknown_command_suggests(harness):
    await harness.say("member", "/帮主")
    text = harness.text_of(harness.last_reply())
    assert "没有「帮主」这个命令" in text and "/帮助" in text
    await harness.say("member", "/hlep")
    assert "/help" in harness.text_of(harness.last_reply()) or "/帮助" in harness.text_of(harness.last_reply())


async def test_mention_without_slash_runs_command(harness):
    await harness.say("member", "@LiveOps whoami")
    text = harness.text_of(harness.last_reply())
    assert "陈助播" in text and "ou_member" in text


async def test_plain_chatter_is_ignored(harness):
    before = len(harness.bot_messages())
    await harness.say("member", "大家下午好，今晚 8 点开播")
    assert len(harness.bot_messages()) == before


async def test_mention_that_is_not_a_command_gets_help_hint(harness):
    await harness.say("member", "@LiveOps 你好呀")
    assert "/帮助" in harness.text_of(harness.last_reply())


async def test_help_for_one_command_and_usage_errors(harness):
    await harness.say("member", "/帮助 角色")
    text = harness.text_of(harness.last_reply())
    assert "/角色 授予 @小王 运营" in text
    await harness.say("member", "/角色 乱写")
    text = harness.text_of(harness.last_reply())
    assert "用法" in text and "例如" in text


async def test_roles_are_enforced_and_granted(harness):
    await harness.say("member", "/状态")
    assert "需要管理员权限" in harness.text_of(harness.last_reply())
    await harness.say("member", "/角色 授予 @李主播 运营")
    assert "需要管理员权限" in harness.text_of(harness.last_reply())
    await harness.say("admin", "/角色 授予 @李主播 运营")
    assert "已授予 @李主播 「运营」角色" in harness.text_of(harness.last_reply())
    async with harness.db.session() as s:
        grants = (await s.execute(select(RoleGrant).where(
            RoleGrant.open_id == harness.users["streamer"]))).scalars().all()
    assert sorted(g.role for g in grants) == ["ops", "streamer"]
    await harness.say("streamer", "/我是谁")
    assert "运营" in harness.text_of(harness.last_reply())
    await harness.say("admin", "/角色 授予 @李主播 国王")
    assert "没有「国王」这个角色" in harness.text_of(harness.last_reply())


async def test_status_for_admins(harness):
    await harness.say("admin", "/状态")
    text = harness.text_of(harness.last_reply())
    assert "收件箱" in text and "发件箱" in text


async def test_language_switch(harness):
    await harness.say("ops", "/lang English")
    assert "English" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/help")
    assert "LiveOps commands" in harness.text_of(harness.last_reply())
    await harness.say("ops", "/nonsense")
    assert "There is no command" in harness.text_of(harness.last_reply())


async def test_bot_added_introduces_itself_and_button_shows_help(harness):
    await harness.sim.add_bot_to_chat(harness.chats["tech"], harness.users["admin"])
    await harness.settle()
    hello = harness.last_reply("tech")
    assert "LiveOps" in harness.text_of(hello)
    await harness.press(hello["message_id"], "tech", {"a": "help.show"})
    assert "命令帮助" in harness.text_of(harness.last_reply("tech"))


async def test_direct_message_commands(harness):
    chat = harness.sim.p2p_chat(harness.users["member"])["chat_id"]
    await harness.sim.send_text(chat, harness.users["member"], "whoami")
    await harness.settle()
    replies = [m for m in harness.sim.messages(chat) if m["sender"]["type"] == "app"]
    assert replies and "陈助播" in harness.text_of(replies[-1])


async def test_duplicate_delivery_is_processed_once(harness):
    msg = await harness.say("member", "/在吗")
    before = len(harness.bot_messages())
    event_id = harness.sim.events()[-1]["event_id"]
    await harness.sim.redeliver(event_id)
    await harness.settle()
    assert len(harness.bot_messages()) == before
    async with harness.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(InboxEvent))).scalar() == 1
    assert msg["message_id"]


async def test_same_message_with_new_event_id_is_deduped(harness):
    """Feishu may redeliver a message under a new event id: message_id dedupes it."""
    await harness.say("member", "/在吗")
    before = len(harness.bot_messages())
    last = harness.sim.events()[-1]
    body = dict(last["payload"]["event"])
    await harness.sim.deliver("im.message.receive_v1", body)
    await harness.settle()
    assert len(harness.bot_messages()) == before


async def test_every_outgoing_call_went_through_the_outbox_with_a_uuid(harness):
    await harness.say("member", "/帮助")
    sends = [r for r in harness.sim.requests() if r["path"].endswith("/reply")]
    assert sends and all(r["json"].get("uuid") for r in sends)
    async with harness.db.session() as s:
        rows = (await s.execute(select(OutboxMessage))).scalars().all()
    assert rows and all(r.status == "sent" for r in rows)
    assert json.loads(sends[-1]["json"]["content"])["schema"] == "2.0"
