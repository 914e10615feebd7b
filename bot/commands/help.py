"""/帮助 (/help): generated from the command declarations, filtered by the asker's roles."""
from __future__ import annotations

from bot import roles
from bot.cards import Card
from bot.commands.registry import CommandSpec, action, command
from bot.context import Ctx
from bot.feishu import groupmode
from bot.i18n import pick


def visible(ctx: Ctx) -> list[CommandSpec]:
    specs = [s for s in ctx.svc.registry.specs if roles.allowed(ctx.roles, s.role)]
    return sorted(specs, key=lambda s: (s.order, s.name))


def overview(ctx: Ctx) -> Card:
    card = Card(ctx.t("help.title"), template="blue")
    if not groupmode.all_messages(ctx.svc):  # @-only: say how commands are written in groups
        example = groupmode.render(ctx.svc, ctx.t("help.example_cmd"))
        card.markdown(ctx.t("help.intro_mentions", bot=ctx.svc.bot.name, example=example))
    else:
        card.markdown(ctx.t("help.intro", bot=ctx.svc.bot.name))
    groups: dict[str, list[CommandSpec]] = {}
    for spec in visible(ctx):
        groups.setdefault(pick(ctx.locale, spec.group), []).append(spec)
    for group, specs in groups.items():
        lines = [f"**{group}**"]
        for spec in specs:
            first, second = (spec.en, spec.name) if ctx.locale == "en_US" else (spec.name, spec.en)
            lines.append(f"- `{ctx.cmd(first)}` ({second}) {pick(ctx.locale, spec.summary)}")
        card.markdown("\n".join(lines))
    card.note(ctx.t("help.more_cmd", cmd=ctx.cmd(ctx.t("help.more_example"))) + " " + ctx.t("help.hidden"))
    return card


def detail(ctx: Ctx, spec: CommandSpec) -> Card:
    card = Card(f"/{pick(ctx.locale, (spec.name, spec.en))}", template="blue",
                subtitle=pick(ctx.locale, spec.summary))
    others = [n for n in spec.names if n != pick(ctx.locale, (spec.name, spec.en))]
    lines = [f"**{ctx.t('help.usage')}**\n{pick(ctx.locale, spec.usage)}",
             f"**{ctx.t('help.examples')}**\n" + "\n".join(f"- `{ctx.cmd(e)}`" for e in spec.examples_for(ctx.locale)),
             f"**{ctx.t('help.aliases')}**：" + "、".join(f"/{n}" for n in others)]
    if spec.role != roles.MEMBER:
        lines.append(f"**{ctx.t('help.role')}**：{ctx.t('roles.' + spec.role)}")
    card.markdown("\n\n".join(lines))
    return card


@command("帮助", "help", examples_en=["/help", "/help role"],
         summary=("查看我能做什么", "See what I can do"),
         usage=("/帮助 [命令名]", "/help [command]"), examples=["/帮助", "/帮助 角色", "/help role"],
         aliases=("h", "?", "？", "命令"), order=0)
async def help_command(ctx: Ctx, args: str) -> None:
    name = args.strip().lstrip("/／")
    if not name:
        await ctx.reply(card=overview(ctx))
        return
    spec = ctx.svc.registry.find(name)
    if spec is None or not roles.allowed(ctx.roles, spec.role):
        await ctx.reply(ctx.t("help.unknown", name=name[:40]) + "\n" + ctx.t("error.see_help"))
        return
    await ctx.reply(card=detail(ctx, spec))


@action("help.show")
async def help_button(ctx: Ctx, _action) -> None:
    await ctx.send(ctx.chat_id, card=overview(ctx))
