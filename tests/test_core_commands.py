"""The core commands on the seam (tests/seam.py): the real router, Ctx and registry on a real
database, each answer read from the outbox. Delivery, duplicates, direct chats and the bot's
introduction stay end to end in tests/test_core_e2e.py."""
from __future__ import annotations

from sqlalchemy import select

from bot.store.models import RoleGrant


async def test_help_is_generated_and_filtered_by_role(seam):
    await seam.say("member", "/帮助")
    reply = seam.last_reply()
    assert reply["msg_type"] == "interactive"
    text = seam.text_of(reply)
    assert "/帮助" in text and "/我是谁" in text
    assert "/状态" not in text  # admin only: hidden from a member
    await seam.say("admin", "/help")
    assert "/状态" in seam.text_of(seam.last_reply())


async def test_reply_is_threaded_to_the_command(seam):
    msg = await seam.say("member", "/在吗")
    reply = seam.last_reply()
    assert reply["parent_id"] == msg["message_id"]
    assert "机器人时间" in seam.text_of(reply)


async def test_unknown_command_suggests(seam):
    await seam.say("member", "/帮主")
    text = seam.text_of(seam.last_reply())
    assert "没有「帮主」这个命令" in text and "/帮助" in text
    await seam.say("member", "/hlep")
    assert "/help" in seam.text_of(seam.last_reply()) or "/帮助" in seam.text_of(seam.last_reply())


async def test_plain_chatter_is_ignored(seam):
    before = len(seam.bot_messages())
    await seam.say("member", "大家下午好，今晚 8 点开播")
    assert len(seam.bot_messages()) == before


async def test_mention_that_is_not_a_command_gets_help_hint(seam):
    await seam.say("member", "@LiveOps 你好呀")
    assert "/帮助" in seam.text_of(seam.last_reply())


async def test_help_for_one_command_and_usage_errors(seam):
    await seam.say("member", "/帮助 角色")
    text = seam.text_of(seam.last_reply())
    assert "/角色 授予 @小王 运营" in text
    await seam.say("member", "/角色 乱写")
    text = seam.text_of(seam.last_reply())
    assert "用法" in text and "例如" in text


async def test_roles_are_enforced_and_granted(seam):
    await seam.say("member", "/状态")
    assert "需要管理员权限" in seam.text_of(seam.last_reply())
    await seam.say("member", "/角色 授予 @李主播 运营")
    assert "需要管理员权限" in seam.text_of(seam.last_reply())
    await seam.say("admin", "/角色 授予 @李主播 运营")
    assert "已授予 @李主播 「运营」角色" in seam.text_of(seam.last_reply())
    async with seam.db.session() as s:
        grants = (await s.execute(select(RoleGrant).where(
            RoleGrant.open_id == seam.users["streamer"]))).scalars().all()
    assert sorted(g.role for g in grants) == ["ops", "streamer"]
    await seam.say("streamer", "/我是谁")
    assert "运营" in seam.text_of(seam.last_reply())
    await seam.say("admin", "/角色 授予 @李主播 国王")
    assert "没有「国王」这个角色" in seam.text_of(seam.last_reply())


async def test_status_for_admins(seam):
    await seam.say("admin", "/状态")
    text = seam.text_of(seam.last_reply())
    assert "收件箱" in text and "发件箱" in text


async def test_language_switch(seam):
    await seam.say("ops", "/lang English")
    assert "English" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/help")
    assert "LiveOps commands" in seam.text_of(seam.last_reply())
    await seam.say("ops", "/nonsense")
    assert "There is no command" in seam.text_of(seam.last_reply())
