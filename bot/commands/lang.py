"""/语言 (/lang): the chat's reply language."""
from __future__ import annotations

from bot import roles
from bot.access import Scope
from bot.commands.registry import command
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.store.models import Chat

CHOICES = {"中文": "zh_CN", "zh": "zh_CN", "zh_cn": "zh_CN", "chinese": "zh_CN", "简体中文": "zh_CN",
           "english": "en_US", "en": "en_US", "en_us": "en_US", "英文": "en_US", "英语": "en_US"}


@command("语言", "lang", examples_en=["/lang English", "/lang 中文"],
         summary=("设置本群回复语言", "Set this chat's language"), scope=Scope.TEAM,
         args=("中文｜English", "中文|English"), examples=["/语言 English", "/lang 中文"],
         accepts=lambda rest: rest.strip().lower() in CHOICES, role=roles.OPS, aliases=("language",), group=("管理", "Admin"), order=91)
async def lang(ctx: Ctx, args: str) -> None:
    value = args.strip()
    if not value:
        raise UsageError()
    locale = CHOICES.get(value.lower())
    if locale is None:
        raise UserError("lang.unknown", value=value[:20])
    chat = await ctx.session.get(Chat, ctx.chat_id)
    if chat is not None:
        chat.locale = locale
    ctx.locale = locale
    await ctx.reply(ctx.t("lang.set"))
