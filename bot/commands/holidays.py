"""/节假日 (/holidays): the holiday arrangement working days are counted with.

    /节假日 [年份]                          list a year (default: this year)
    /节假日 添加 2027-02-10 放假 春节        a day off (a range: 2027-02-05~2027-02-11)   ops/admin
    /节假日 添加 2027-02-20 上班 春节调休     a make-up working day                        ops/admin
    /节假日 删除 2027-02-10                  back to an ordinary day                       ops/admin
    /节假日 导入 2027                        the lines below it: the State Council notice, or
                                             "date,kind,name" lines → a card to confirm   ops/admin

The data lives in the database (bot/timeparse/holiday_store.py) on top of the arrangements
shipped with the release; bot/timeparse/workdays.py answers from it. Each verb is its own
function, declared as a verb with its role.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, select

from bot import roles
from bot.access import Scope
from bot.commands.registry import command_group, on_startup
from bot.context import Ctx
from bot.errors import UserError
from bot.feishu.events import CardAction
from bot.people import display_name
from bot.timeparse import holiday_store, workdays
from bot.timeparse.calendar_data import read_arrangement
from bot.timeparse.calendar_data import _plain_line as plain_line
from bot.timeparse import holiday_cards as cards
from bot.timeparse.holiday_cards import day_text, import_card, import_done_card, year_card
from bot.timeparse.holiday_store import CANCELLED, PENDING, CalendarDay, CalendarImport

_YEAR = re.compile(r"^(20\d\d|21\d\d)$")

HOLIDAYS = command_group("节假日", "holidays", summary=("节假日和调休安排：查看、添加、导入",
                                                     "Holidays and make-up working days: list, add, import"),
                         aliases=("假期", "调休", "holiday"), group=("提醒与定时", "Reminders"), order=25)


@HOLIDAYS.verb("列表", "list", aliases=("查看", "show"), default=True, scope=Scope.TEAM,
               accepts=lambda rest: not rest.strip() or bool(_YEAR.match(rest.strip())),
               args=("[年份]", "[year]"), summary=("一年的节假日和调休", "A year's holidays and make-up days"),
               examples=["/节假日", "/节假日 2027"], examples_en=["/holidays", "/holidays list 2027"])
async def list_verb(ctx: Ctx, args: str) -> None:
    await holidays_list(ctx, args.strip())


@HOLIDAYS.verb("添加", "add", aliases=("增加", "set"), role=roles.OPS, scope=Scope.TEAM,
               args=("<日期|范围> 放假|上班 [名称]", "<date|range> off|work [name]"),
               summary=("加一天假或一天调休上班", "Add a day off or a make-up working day"),
               examples=["/节假日 添加 2027-02-10 放假 春节"], examples_en=["/holidays add 2027-02-20 work"])
async def add_verb(ctx: Ctx, rest: str) -> None:
    await holidays_add(ctx, rest.strip())


@HOLIDAYS.verb("删除", "remove", aliases=("移除", "delete"), role=roles.OPS, scope=Scope.TEAM, args=("<日期>", "<date>"),
               summary=("改回普通的一天", "Back to an ordinary day"), examples=["/节假日 删除 2027-02-10"],
               examples_en=["/holidays remove 2027-02-20"])
async def remove_verb(ctx: Ctx, rest: str) -> None:
    await holidays_remove(ctx, rest.strip())


@HOLIDAYS.verb("导入", "import", role=roles.OPS, scope=Scope.TEAM,
               args=("<年份>（下一行起贴通知原文或“日期,类型,名称”）", "<year> (then the notice, or “date,kind,name” lines)"),
               summary=("导入一年的安排（先确认）", "Import a year's arrangement (confirmed on a card)"),
               examples=["/节假日 导入 2027"], examples_en=["/holidays import 2027"])
async def import_verb(ctx: Ctx, rest: str) -> None:
    await holidays_import(ctx, rest)


@on_startup
async def load_calendar(svc, session) -> None:
    await holiday_store.refresh(session)


def _year(ctx: Ctx, text: str) -> int:
    if not text:
        return ctx.local_now().year
    if not _YEAR.match(text):
        raise UserError("holidays.bad_year", text=text[:20])
    return int(text)


async def holidays_list(ctx: Ctx, rest: str) -> None:
    year = _year(ctx, rest.split()[0] if rest.split() else "")
    await holiday_store.refresh_if_stale(ctx.session)
    edited = (await ctx.session.execute(select(func.count()).select_from(CalendarDay).where(
        CalendarDay.year == year))).scalar() or 0
    if workdays.db_year_source(year) is not None:
        edited = 0  # imported whole: the source line says so
    await ctx.reply(card=year_card(year, ctx.locale, today=ctx.local_now().date(), edited=edited))


def _kind_text(ctx: Ctx, kind: str) -> str:
    return ctx.t(f"holidays.kind_{kind}")


async def holidays_add(ctx: Ctx, rest: str) -> None:
    try:
        days = plain_line(rest, ctx.local_now().year) if rest else None
    except ValueError:
        days = None
    if not days or days[0][1] == "normal":
        raise UserError("holidays.bad_day", text=rest[:40])
    for d, kind, name in days:
        await holiday_store.set_day(ctx.session, d, kind, name, by=ctx.user_id, now=ctx.now())
    span = day_text(days[0][0], ctx.locale) + (ctx.t("holidays.to") + day_text(days[-1][0], ctx.locale)
                                                if len(days) > 1 else "")
    text = ctx.t("holidays.added", days=span, kind=_kind_text(ctx, days[0][1]),
                 name=f" · {days[0][2]}" if days[0][2] else "")
    if not workdays.year_known(days[0][0].year):
        text += "\n" + ctx.t("holidays.year_unknown", year=days[0][0].year)
    await ctx.reply(text)


async def holidays_remove(ctx: Ctx, rest: str) -> None:
    try:
        days = plain_line(f"{rest.split()[0]} normal", ctx.local_now().year) if rest.split() else None
    except ValueError:
        days = None
    if not days:
        raise UserError("holidays.bad_day", text=rest[:40])
    changed = []
    for d, _kind, _name in days:
        if await holiday_store.remove_day(ctx.session, d, by=ctx.user_id, now=ctx.now()):
            changed.append(d)
    if not changed:
        await ctx.reply(ctx.t("holidays.not_listed", day=day_text(days[0][0], ctx.locale)))
        return
    what = ctx.t("holidays.kind_working" if workdays.is_working_day(changed[0]) else "holidays.kind_weekend")
    await ctx.reply(ctx.t("holidays.removed", day=day_text(changed[0], ctx.locale), n=len(changed), what=what))


async def holidays_import(ctx: Ctx, rest: str) -> None:
    first, _, body = rest.strip().partition("\n")
    words = first.split()
    if not words:
        raise UserError("holidays.bad_year", text="")
    year = _year(ctx, words[0])
    body = " ".join(words[1:]) + "\n" + body
    plan = read_arrangement(body, year)
    if plan.problems:
        raise UserError("holidays.import_bad", lines="\n".join(plan.problems[:8]))
    if not plan.days:
        raise UserError("holidays.import_empty", year=year)
    staged = await holiday_store.stage_import(ctx.session, year, plan.days, plan.source, chat_id=ctx.chat_id,
                                              by=ctx.user_id, now=ctx.now())
    replaces = (await ctx.session.execute(select(func.count()).select_from(CalendarDay).where(
        CalendarDay.year == year))).scalar() or 0
    await ctx.reply(card=import_card(staged.id or 0, year, plan.days, ctx.locale, source=plan.source,
                                     warnings=plan.warnings, replaces=replaces))


async def _staged(ctx: Ctx, act: CardAction) -> CalendarImport:
    try:
        staged = await ctx.session.get(CalendarImport, int(act.value.get("id", 0)))
    except (TypeError, ValueError):
        staged = None
    if staged is None or staged.chat_id != ctx.chat_id:
        raise UserError("holidays.import_gone")
    if staged.state != PENDING:
        raise UserError("holidays.import_gone")
    return staged


def _days(staged: CalendarImport) -> list[tuple[date, str, str]]:
    return [(date.fromisoformat(d), k, n) for d, k, n in staged.days]


@cards.IMPORT.handle
async def import_button(ctx: Ctx, act: CardAction) -> None:
    staged = await _staged(ctx, act)
    n = await holiday_store.apply_import(ctx.session, staged, by=ctx.user_id, now=ctx.now())
    name = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    if act.message_id:
        await ctx.update_card(act.message_id, import_done_card(
            staged.year, _days(staged), ctx.locale, ctx.t("holidays.imported_by", name=name, n=n), applied=True))


@cards.CANCEL.handle
async def cancel_button(ctx: Ctx, act: CardAction) -> None:
    staged = await _staged(ctx, act)
    staged.state = CANCELLED
    name = await display_name(ctx, ctx.user_id) or ctx.user_id[-6:]
    if act.message_id:
        await ctx.update_card(act.message_id, import_done_card(
            staged.year, _days(staged), ctx.locale, ctx.t("holidays.import_cancelled", name=name), applied=False))
