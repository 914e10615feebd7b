"""/在吗 (/ping): is the bot alive, and what time does it think it is."""
from __future__ import annotations

from bot.access import Scope
from bot.commands.registry import command, no_args
from bot.context import Ctx


@command("在吗", "ping", examples_en=["/ping"], scope=Scope.OPEN, accepts=no_args,
         summary=("检查机器人是否在线", "Check that the bot is alive"), examples=["/在吗"], order=3)
async def ping(ctx: Ctx, args: str) -> None:
    await ctx.reply(ctx.t("ping.pong", now=ctx.local_now().strftime("%Y-%m-%d %H:%M")))
