"""/我是谁 (/whoami)."""
from __future__ import annotations

from bot import roles
from bot.cards import Card
from bot.access import Scope
from bot.commands.registry import command, no_args
from bot.context import Ctx
from bot.people import display_name


@command("我是谁", "whoami", examples_en=["/whoami"], scope=Scope.OPEN, accepts=no_args,
         summary=("查看我的身份和角色", "Show who you are and your roles"), examples=["/我是谁"], order=1)
async def whoami(ctx: Ctx, args: str) -> None:
    name = await display_name(ctx, ctx.user_id)
    held = "、".join(ctx.t(f"roles.{r}") for r in roles.ALL if r in ctx.roles)
    await ctx.reply(card=Card(ctx.t("whoami.title"), template="wathet").markdown(
        ctx.t("whoami.body", name=name or "—", open_id=ctx.user_id, roles=held)))
