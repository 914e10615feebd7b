"""End to end: the real bot, the real lark-oapi client, the simulator, a real database."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.store.models import InboxEvent, OutboxMessage


async def test_mention_without_slash_runs_command(harness):
    await harness.say("member", "@LiveOps whoami")
    text = harness.text_of(harness.last_reply())
    assert "陈助播" in text and "ou_member" in text


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
