"""Who may see sales figures: the one decision every card and file that can carry money asks.

    hidden = await sales_hidden(session, chat_id, held=ctx.roles)        # a command's answer
    hidden = await sales_hidden(session, chat_id)                        # a card a timer posts

Sales figures (GMV and every figure derived from it or revealing it: the GMV target, GMV per
buyer 客单价, UV value, GPM, ROI, ad spend, product sales) are shown only

- in a group marked internal (``/数据 内部群 开``), and never in a fault-response group (it
  pulls in people from outside the team, e.g. the reporter);
- in a direct chat, only to a person whose role allows them (``SEES_SALES``).

Where they are hidden, the achievement rate alone may be shown ("达成 51%"): it reveals nothing
without the target, which is hidden too. ``SALES`` lists the KPI metrics this covers; stream
fields that carry money are in ``MONEY_FIELDS``.
"""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot import roles
from bot.data.kpi import SALES
from bot.store.models import Chat

SEES_SALES = roles.OPS                  # the role that may see sales figures in a direct chat
MONEY_FIELDS = frozenset({"target_gmv"})  # stream fields (bot.schedule.models.Stream) that are sales figures
NEVER_INTERNAL = frozenset({"fault"})   # chat kinds that are never internal

__all__ = ["SALES", "MONEY_FIELDS", "SEES_SALES", "sales_hidden", "may_be_internal"]


def may_be_internal(chat: Chat | None) -> bool:
    return chat is not None and chat.chat_type != "p2p" and chat.kind not in NEVER_INTERNAL


async def sales_hidden(session: AsyncSession, chat_id: str, *, held: set[str] | None = None,
                       direct: bool = False) -> bool:
    """True when sales figures must not reach this chat (``held``: the roles of the person the
    answer is for, when there is one)."""
    chat = await session.get(Chat, chat_id) if chat_id else None
    if direct or (chat is not None and chat.chat_type == "p2p"):
        return not (held is not None and roles.allowed(held, SEES_SALES))
    return not (may_be_internal(chat) and chat.internal)
