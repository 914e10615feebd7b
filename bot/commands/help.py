"""/帮助 (/help): generated from the command and verb declarations, filtered by the asker's
roles; each verb shows its usage and, when it needs one, its role."""
from __future__ import annotations

from bot import roles
from bot.access import Scope
from bot.cards import Card
from bot.commands.registry import REGISTRY, CommandSpec, card_action, command
from bot.context import Ctx
from bot.feishu import groupmode
from bot.i18n import pick

HELP_SHOW = card_action("help.show", label=("查看帮助", "show help"), scope=Scope.OPEN)


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
    verbs = []
    for verb in spec.verbs:
        role = "" if verb.role == roles.MEMBER else ctx.t("help.verb_role", role=ctx.t("roles." + verb.role))
        line = f"- `{ctx.cmd(verb.usage_for(ctx.locale))}`{role}"
        if not verb.single:
            line += f" {pick(ctx.locale, verb.summary)}"
        verbs.append(line)
    others = [n for n in spec.names if n != pick(ctx.locale, (spec.name, spec.en))]
    lines = [f"**{ctx.t('help.verbs')}**\n" + "\n".join(verbs),
             f"**{ctx.t('help.examples')}**\n" + "\n".join(f"- `{ctx.cmd(e)}`" for e in spec.examples_for(ctx.locale))]
    if others:
        lines.append(f"**{ctx.t('help.aliases')}**：" + "、".join(f"/{n}" for n in others))
    card.markdown("\n\n".join(lines))
    return card


def _is_command(rest: str) -> bool:
    return not rest.strip() or len(rest.split()) == 1


@command("帮助", "help", examples_en=["/help", "/help role"], scope=Scope.OPEN, accepts=_is_command,
         summary=("查看我能做什么", "See what I can do"), args=("[命令名]", "[command]"),
         examples=["/帮助", "/帮助 角色", "/help role"], aliases=("h", "?", "？", "命令"), order=0)
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


@HELP_SHOW.handle
async def help_button(ctx: Ctx, _action) -> None:
    ctx.toast(ctx.t("help.sent"), "success")
    await ctx.send(ctx.chat_id, card=overview(ctx))


SCOPE_TEXT = {Scope.OPEN: ("任何人（包括团队外的人）", "anyone, outsiders included"),
              Scope.TEAM: ("团队成员（在团队群里或有角色）", "team members (in a team group or holding a role)"),
              Scope.RECORD: ("这条记录的参与人、它所属群的成员、运营", "the record's people, members of its group, ops"),
              Scope.OWNERS: ("只有这条记录自己的人和运营（场次：主播、场控、中控；提醒：设置人和提醒对象）",
                             "only the record's own people and ops (a stream: streamer, 场控, 中控; a reminder: "
                             "who set it and who it is for)")}


def permission_table(locale: str = "zh_CN") -> str:
    """"Who may do what", generated from the declarations (README and docs/security.md)."""
    from bot.i18n import t

    zh = locale != "en_US"
    head = ("| 命令 | 谁可以 | 作用范围 |\n|---|---|---|" if zh else "| command | who | on what |\n|---|---|---|")
    rows = [head]
    registry = REGISTRY
    for spec in sorted(registry.specs, key=lambda s: (s.order, s.name)):
        for verb in spec.verbs:
            who = t(locale, f"roles.{verb.role}") if verb.role != roles.MEMBER else ("所有人" if zh else "everyone")
            if verb.role == roles.OPS:
                who += "、管理员" if zh else ", admin"
            usage = verb.usage_for(locale).replace("|", "\\|")
            rows.append(f"| `{usage}` | {who} | {pick(locale, SCOPE_TEXT[verb.scope])} |")
    for action in sorted(registry.actions.values(), key=lambda a: a.name):
        who = t(locale, f"roles.{action.role}") if action.role != roles.MEMBER else ("所有人" if zh else "everyone")
        rows.append(f"| {'按钮' if zh else 'button'}「{pick(locale, action.label)}」 | {who} | "
                    f"{pick(locale, SCOPE_TEXT[action.scope])} |")
    return "\n".join(rows)
