"""/群 (/chat): what this group is to the team. Team groups (团队群, 技术群, 场控群) are where
the team works: their members may use the bot; anyone in none of them and without a role is an
outsider (bot.access). A group becomes one when someone with a role adds the bot to it, when a
room names it as its field group, or here."""
from __future__ import annotations

from bot import roles
from bot.access import TEAM_KINDS, Scope
from bot.cards import Card
from bot.commands.registry import command_group
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.store.models import Chat

KINDS = {"团队群": "team", "运营群": "team", "team": "team", "技术群": "tech", "tech": "tech",
         "场控群": "field", "field": "field"}

CHAT = command_group("群", "chat", summary=("本群是不是团队的群（团队群、技术群、场控群）", "Whether this is one of the team's groups"),
                     aliases=("本群", "group"), group=("管理", "Admin"), order=92)


async def _this_group(ctx: Ctx) -> Chat:
    chat = await ctx.session.get(Chat, ctx.chat_id)
    if chat is None or chat.chat_type == "p2p" or (ctx.message is not None and ctx.message.is_direct):
        raise UserError("chat.not_a_group")
    return chat


@CHAT.verb("查看", "show", default=True, scope=Scope.OPEN, accepts=lambda rest: not rest.strip(),
           summary=("本群的设置", "This group's settings"), examples=["/群"], examples_en=["/chat"])
async def show(ctx: Ctx, rest: str) -> None:
    if rest.strip():
        raise UsageError(ctx.t("chat.usage"))
    chat = await _this_group(ctx)
    kind = ctx.t(f"chat.kind.{chat.kind}") if chat.kind else ctx.t("chat.kind.none")
    card = Card(ctx.t("chat.title"), template="wathet").fields([
        (ctx.t("chat.f_kind"), kind),
        (ctx.t("chat.f_internal"), ctx.t("bool.yes" if chat.internal else "bool.no")),
        (ctx.t("chat.f_locale"), chat.locale or "-")])
    card.note(ctx.t("chat.hint"))
    await ctx.reply(card=card)


@CHAT.verb("设为", "mark", aliases=("设置", "set"), role=roles.OPS, scope=Scope.TEAM,
           args=("团队群|技术群|场控群", "team|tech|field"), summary=("设为团队的群", "Make this one of the team's groups"),
           examples=["/群 设为 团队群"], examples_en=["/chat mark team"])
async def mark(ctx: Ctx, rest: str) -> None:
    kind = KINDS.get(rest.strip().lower())
    if kind is None:
        raise UsageError(ctx.t("chat.usage"))
    chat = await _this_group(ctx)
    if chat.kind == "fault":
        raise UserError("chat.fault_group")
    chat.kind = kind
    ctx.svc.members.forget(chat.chat_id)
    await ctx.reply(ctx.t("chat.marked", kind=ctx.t(f"chat.kind.{kind}")))


@CHAT.verb("取消", "unmark", aliases=("移除", "remove"), role=roles.OPS, scope=Scope.TEAM,
           summary=("不再是团队的群", "No longer one of the team's groups"), examples=["/群 取消"],
           examples_en=["/chat unmark"])
async def unmark(ctx: Ctx, rest: str) -> None:
    chat = await _this_group(ctx)
    if chat.kind not in TEAM_KINDS:
        raise UserError("chat.not_marked")
    chat.kind = ""
    await ctx.reply(ctx.t("chat.unmarked"))
