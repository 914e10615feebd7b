"""/人员 离职 and /人员 新人 (bot.norms.people_norms): the hand-over when someone leaves and a
newbie streamer's growth plan; /人员 itself lists both (bot/commands/people.py).

    /人员 离职 @小王 12月10日        hand-over card: open tasks + checklist, due 3 working days later
    /人员 新人 @小李 [下周一]         the growth plan's dated tasks from the team's template
"""
from __future__ import annotations

from datetime import date

from bot import roles
from bot.access import Scope
from bot.commands.people import PEOPLE, resolve
from bot.commands.schedule import mentions_of
from bot.context import Ctx
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot.norms import people_norms
from bot.norms.more_models import Departure
from bot.timeparse.parser import PastTimeError, TimeParseError
from bot.timeparse.parser import parse as parse_time


async def _person_and_rest(ctx: Ctx, args: str) -> tuple[str, str, str]:
    text, names = mentions_of(ctx, args)
    words = text.split()
    who = [w for w in words if w.startswith(("@", "＠"))]
    if len(who) != 1:
        raise UserError("more.need_one_person")
    open_id, name = await resolve(ctx, who[0], names)
    rest = " ".join(w for w in words if w != who[0])
    return open_id, name, rest


def _day(ctx: Ctx, text: str, default: date | None) -> date | None:
    if not text.strip():
        return default
    try:
        when = parse_time(text, ctx.now(), str(ctx.svc.tz), ctx.locale).when
    except PastTimeError as exc:
        when = exc.when
    except TimeParseError:
        raise UserError("more.bad_day", text=text[:30]) from None
    return when.astimezone(ctx.svc.tz).date()


@PEOPLE.verb("离职", "leaving", aliases=("交接清单",), role=roles.OPS, scope=Scope.TEAM,
             args=("@某人 [最后工作日]", "@someone [last day]"),
             summary=("离职交接：任务和文件账号清单，3 个工作日内完成", "Hand-over when leaving, due in 3 working days"),
             examples=["/人员 离职 @陈助播 12月10日"], examples_en=["/people leaving @陈助播 Dec 10"])
async def leaving_verb(ctx: Ctx, args: str) -> None:
    open_id, name, rest = await _person_and_rest(ctx, args)
    today = ctx.local_now().date()
    day = _day(ctx, rest, today)
    people_norms.refuse_past(day, today)
    dep, new = await people_norms.start_departure(ctx, open_id, name, day)
    card = await people_norms.departure_card(ctx, dep, banner="" if new else ctx.t("more.dep_exists"))
    if not new:
        await ctx.reply(card=card)
        return
    dep.card_key = await ctx.reply(card=card)
    if open_id != ctx.user_id:
        await ctx.dm(open_id, card=card)


@PEOPLE.verb("新人", "newbie", aliases=("成长计划",), role=roles.OPS, scope=Scope.TEAM,
             args=("@某人 [开始日期]", "@someone [start day]"),
             summary=("新人主播成长计划（7–15 天，按模板生成任务）", "A newbie streamer's growth plan (7–15 days of tasks)"),
             examples=["/人员 新人 @李主播"], examples_en=["/people newbie @李主播"])
async def newbie_verb(ctx: Ctx, args: str) -> None:
    open_id, name, rest = await _person_and_rest(ctx, args)
    today = ctx.local_now().date()
    day = _day(ctx, rest, None)
    if day is not None and day < today:
        raise UserError("more.bad_day", text=rest[:30])
    plan, new = await people_norms.start_newbie(ctx, open_id, name, day)
    card = await people_norms.newbie_card(ctx, plan, name)
    if not new:
        card.markdown(ctx.t("more.newbie_exists"))
    await ctx.reply(card=card)
    if new and open_id != ctx.user_id:
        await ctx.dm(open_id, card=card)


@people_norms.CHECK.handle
async def check_pressed(ctx: Ctx, act: CardAction) -> None:
    dep = await ctx.session.get(Departure, int(ctx.ref or 0))
    try:
        index = int(act.value.get("i", -1))
    except (TypeError, ValueError):
        index = -1
    if dep is None or not await people_norms.tick(ctx, dep, index):
        ctx.toast(ctx.t("more.dep_nothing"), "info")
        return
    card = await people_norms.departure_card(ctx, dep)
    ctx.respond_card(card)
    if dep.card_key:
        await ctx.update_card(f"@{dep.card_key}", card, chat_id=dep.chat_id)
    ctx.toast(ctx.t("more.dep_done" if dep.status == "done" else "more.dep_ticked", name=dep.name), "success")
