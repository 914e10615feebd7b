"""/主管 (/lead): the team's ops lead (运营主管), who gets escalations from checkpoints,
faults, tasks and reviews (bot.leads). A team setting, not a role: see bot.leads for why.

    /主管                 who gets escalations, and in which order
    /主管 设置 @王运营     the team's ops lead (one or more people; ops)
    /主管 清除             back to the ops-role holders (ops)
"""
from __future__ import annotations

from bot import leads, roles
from bot.access import Scope
from bot.commands.registry import command_group, no_args
from bot.context import Ctx
from bot.errors import UserError
from bot.people import names as names_of
from bot.tasks import parse

LEAD = command_group("主管", "lead", summary=("运营主管：检查点、故障、任务、复盘的升级都找他",
                                            "The ops lead: who gets escalations"),
                     aliases=("运营主管", "opslead"), order=3)


@LEAD.verb("查看", "show", default=True, accepts=no_args, scope=Scope.TEAM,
           summary=("谁会收到升级提醒", "Who gets escalations"), examples=["/主管"], examples_en=["/lead"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    await show(ctx)


@LEAD.verb("设置", "set", role=roles.OPS, scope=Scope.TEAM, args=("@某人 [@某人]", "@someone [@someone]"),
           summary=("设为团队的运营主管", "Make them the team's ops lead"), examples=["/主管 设置 @王运营"],
           examples_en=["/lead set @王运营"])
async def set_verb(ctx: Ctx, rest: str) -> None:
    people, _ = await parse.owners_in(ctx, rest, require_member=False)
    if not people:
        raise UserError("leads.need_person")
    await leads.set_team_ops_leads(ctx.session, people, by=ctx.user_id, now=ctx.now())
    await show(ctx, saved=True)


@LEAD.verb("清除", "clear", aliases=("取消", "删除"), role=roles.OPS, scope=Scope.TEAM,
           summary=("不再指定运营主管（升级给运营角色）", "No ops lead (escalate to the ops role)"),
           examples=["/主管 清除"], examples_en=["/lead clear"])
async def clear_verb(ctx: Ctx, rest: str) -> None:
    await leads.set_team_ops_leads(ctx.session, [], by=ctx.user_id, now=ctx.now())
    await show(ctx, saved=True)


async def show(ctx: Ctx, *, saved: bool = False) -> None:
    team = await leads.team_ops_leads(ctx.session)
    group = await leads.chat_lead(ctx.session, ctx.chat_id)
    holders = await leads.ops_holders(ctx.session)
    names = await names_of(ctx, sorted({*team, *holders, *([group] if group else [])}))

    def who(ids) -> str:
        return "、".join(f"@{names.get(i) or i[-6:]}" for i in dict.fromkeys(ids)) or ctx.t("leads.nobody")

    lines = [ctx.t("leads.saved")] if saved else []
    if group:
        lines.append(ctx.t("leads.group", who=who([group])))
    lines.append(ctx.t("leads.team", who=who(team)) if team else ctx.t("leads.team_unset", who=who(holders)))
    lines.append(ctx.t("leads.order"))
    await ctx.reply("\n".join(lines))
