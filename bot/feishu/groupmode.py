"""Which group messages reach the bot, and how commands must be written because of it.

Feishu delivers a group message to the bot only when it @s the bot, unless the tenant admin
approved the sensitive scope im:message.group_msg ("接收消息" im.message.receive_v1, 注意事项).
``BOT_GROUP_MESSAGES`` says which it is: ``mentions`` (only @-messages), ``all`` (every group
message), or ``auto`` (the default): @-only until the bot receives a group message that does
not @ it — proof the scope was granted — which it remembers (table ``platform_flags``).

In @-only mode commands in groups are written ``@LiveOps 排期 本周``; ``render`` (``ctx.cmd``)
writes a command example in the form that works where it will be read.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Field, SQLModel, select

from bot.store.db import insert_ignore
from bot.store.types import UTCDateTime

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from bot.feishu.events import IncomingMessage

log = logging.getLogger("bot.groupmode")

MODES = ("auto", "mentions", "all")
GROUP_MSG_SCOPE = "im:message.group_msg"
SEEN_FLAG = "group_messages_seen"


class PlatformFlag(SQLModel, table=True):
    """Facts the bot learned about its Feishu app (e.g. that every group message arrives)."""

    __tablename__ = "platform_flags"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(default="", max_length=200)
    updated_at: datetime = Field(sa_type=UTCDateTime)


def setting(svc: Any) -> str:
    value = getattr(svc.settings, "group_messages", "auto")
    return value if value in MODES else "auto"


def all_messages(svc: Any) -> bool:
    """True when every group message reaches the bot (setting, or detected)."""
    mode = setting(svc)
    if mode != "auto":
        return mode == "all"
    return bool(getattr(svc, "group_messages_seen", False))


def current(svc: Any) -> str:
    return "all" if all_messages(svc) else "mentions"


async def load(svc: Any, session: AsyncSession) -> None:
    """Read the remembered detection (start-up, and by tools such as liveops doctor)."""
    row = (await session.execute(select(PlatformFlag).where(PlatformFlag.key == SEEN_FLAG))).scalar_one_or_none()
    svc.group_messages_seen = row is not None


async def observe(svc: Any, session: AsyncSession, msg: IncomingMessage) -> None:
    """A group message from a user that does not @ the bot can only arrive with
    im:message.group_msg: remember that every group message reaches the bot."""
    if (msg.chat_type != "group" or msg.bot_mentioned or msg.sender_type != "user"
            or getattr(svc, "group_messages_seen", False) or not svc.bot.open_id):
        return  # (without the bot's own open_id an @-message cannot be told apart)
    await session.execute(insert_ignore(svc.db, PlatformFlag, key=SEEN_FLAG, value="1",
                                        updated_at=svc.clock.now()))
    svc.group_messages_seen = True
    log.info("every group message reaches the bot (im:message.group_msg is granted)")


SCOPE_DENIED = 99991672


def check_group_read(result: Any) -> None:
    """After GET /im/v1/messages/:id: Feishu refuses to read a group message without
    im:message.group_msg ("获取指定消息的内容", 注意事项). Say so plainly instead of "unreadable"."""
    if getattr(result, "code", None) == SCOPE_DENIED and GROUP_MSG_SCOPE in (getattr(result, "msg", "") or ""):
        from bot.errors import UserError

        raise UserError("platform.group_read_denied")


def render(svc: Any, text: str, *, direct: bool = False) -> str:
    """A command as the reader must type it: ``/排期 本周`` in direct chats and when every
    group message arrives, ``@LiveOps 排期 本周`` in groups in @-only mode."""
    body = text.strip().lstrip("/／").strip()
    if direct or all_messages(svc):
        return "/" + body
    return f"@{svc.bot.name} {body}"


def _register() -> None:
    from bot.commands.registry import on_startup

    @on_startup
    async def load_group_mode(svc: Any, session: AsyncSession) -> None:
        await load(svc, session)


_register()
