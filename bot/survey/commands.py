"""/数据 满意度: the monthly cross-department satisfaction survey.

    /数据 满意度                              contacts, the day it goes out, this month's answers
    /数据 满意度 联系人 [部门] @a @b            (ops) the partner department's contacts (replaces that department's)
    /数据 满意度 日期 25 [10点]                 (ops) the day of the month (and hour) it goes out
    /数据 满意度 发送                           (ops) send this month's survey now

The card is a form (1–5 and a comment); only the person it was sent to can answer it, and may
change the answer. The figures show in ``/数据 运营``.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from bot import roles
from bot.access import Scope
from bot.cards import Button, Card, Input, Select, escape_md
from bot.commands.data import DATA
from bot.commands.registry import card_action
from bot.commands.schedule import team_chat
from bot.context import Ctx
from bot.errors import UsageError, UserError
from bot.feishu.events import CardAction
from bot import timers
from bot.people import names as names_of
from bot.survey import service
from bot.survey.models import DEFAULT_DEPT, Survey, SurveyAnswer

ANSWER = card_action("survey.answer", label=("提交满意度评分", "submit the rating"), scope=Scope.OPEN)
CONTACTS = {"联系人", "contacts", "contact"}
DAY = {"日期", "day", "时间"}
SEND = {"发送", "send", "现在发", "now"}


@DATA.verb("满意度", "satisfaction", aliases=("csat",), when=lambda rest: not rest.strip(), scope=Scope.TEAM,
           summary=("跨部门满意度：设置与本月回复", "Cross-department satisfaction: settings and answers"),
           examples=["/数据 满意度"], examples_en=["/data satisfaction"])
async def show_verb(ctx: Ctx, rest: str) -> None:
    await show(ctx)


@DATA.verb("满意度", "satisfaction", aliases=("csat",), role=roles.OPS, scope=Scope.TEAM,
           args=("联系人 [部门] @某人 ｜ 日期 25 ｜ 发送", "contacts [dept] @someone | day 25 | send"),
           summary=("设置满意度调查", "Set up the satisfaction survey"),
           examples=["/数据 满意度 联系人 商务部 @李主播", "/数据 满意度 日期 25"],
           examples_en=["/data satisfaction contacts 商务部 @李主播"])
async def change_verb(ctx: Ctx, rest: str) -> None:
    await change(ctx, rest)


async def show(ctx: Ctx) -> None:
    chat = await team_chat(ctx)
    settings = await service.settings_for(ctx.session, chat)
    card = Card(ctx.t("sv.show_title"), template="turquoise")
    groups = service.contacts_by_dept(settings)
    names = await names_of(ctx, [c["open_id"] for c in settings.contacts or []])
    lines = [f"- {escape_md(dept)}：{'、'.join(names.get(o, o[-6:]) for o in ids)}" for dept, ids in groups.items()]
    card.markdown(ctx.t("sv.show_contacts") + ("\n" + "\n".join(lines) if lines else ctx.t("sv.show_no_contacts")))
    card.markdown(ctx.t("sv.show_when", day=settings.day, hour=settings.hour, days=settings.remind_days))
    month = service.month_key(ctx.now(), ctx.svc.settings.timezone)
    survey = (await ctx.session.execute(select(Survey).where(Survey.chat_id == chat, Survey.month == month))).scalar()
    if survey is not None:
        answers = list((await ctx.session.execute(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey.id))).scalars())
        done = [a for a in answers if a.rating is not None]
        card.markdown(ctx.t("sv.show_month", month=month, n=len(done), total=len(answers)))
    card.note(ctx.t("sv.show_hint", cmd=ctx.cmd("/数据 运营")))
    await ctx.reply(card=card)


async def change(ctx: Ctx, rest: str) -> None:
    from bot.tasks.parse import owners_in

    words = rest.split()
    head = words[0].lower() if words else ""
    chat = await team_chat(ctx)
    tz = ctx.svc.settings.timezone
    settings = await service.settings_for(ctx.session, chat)
    if head in CONTACTS:
        text = " ".join(words[1:])
        people, left = await owners_in(ctx, text, chat_id=chat, require_member=False)
        if not people:
            raise UsageError(ctx.t("sv.contacts_hint"))
        dept = (left.strip() or DEFAULT_DEPT)[:64]
        contacts = [c for c in settings.contacts or [] if (c.get("dept") or DEFAULT_DEPT) != dept]
        contacts += [{"open_id": p, "dept": dept} for p in people]
        await service.save(ctx.session, chat, by=ctx.user_id, now=ctx.now(), tz=tz, contacts=contacts)
        names = await names_of(ctx, people)
        await ctx.reply(ctx.t("sv.contacts_set", dept=dept, who="、".join(names[p] for p in people)))
    elif head in DAY:
        m = re.fullmatch(r"(\d{1,2})(?:号|日)?", words[1] if len(words) > 1 else "")
        hour_m = re.fullmatch(r"(\d{1,2})(?:点|:00|时)?", words[2]) if len(words) > 2 else None
        day = int(m.group(1)) if m else 0
        hour = int(hour_m.group(1)) if hour_m else settings.hour
        if not 1 <= day <= 28 or not 0 <= hour <= 23:
            raise UserError("sv.bad_day", value=" ".join(words[1:3])[:20] or "-")
        await service.save(ctx.session, chat, by=ctx.user_id, now=ctx.now(), tz=tz, day=day, hour=hour)
        await ctx.reply(ctx.t("sv.day_set", day=day, hour=hour))
    elif head in SEND:
        if not settings.contacts:
            raise UserError("sv.no_contacts", cmd=ctx.cmd("/数据 满意度 联系人 @某人"))
        sent = await send(ctx, chat)
        await ctx.reply(ctx.t("sv.sent", n=sent))
    else:
        raise UsageError(ctx.t("sv.usage"))


def survey_card(ctx: Ctx, answer: SurveyAnswer, month: str, team: str, *, reminder: bool = False) -> Card:
    card = Card(ctx.t("sv.card_title", month=month), template="turquoise")
    if reminder:
        card.markdown(ctx.t("sv.card_reminder"))
    card.markdown(ctx.t("sv.card_body", team=escape_md(team), dept=escape_md(answer.dept)))
    options = [(ctx.t(f"sv.rating_{n}"), str(n)) for n in range(5, 0, -1)]
    card.form("survey", [Select("rating", ctx.t("sv.rating_placeholder"), options),
                         Input("comment", ctx.t("sv.comment_label"), ctx.t("sv.comment_placeholder"), multiline=True)],
              Button(ctx.t("sv.submit"), ANSWER(id=answer.id), kind="primary"))
    card.note(ctx.t("sv.card_note"))
    return card


async def _team_name(ctx: Ctx, chat: str) -> str:
    from bot.store.models import Chat

    row = await ctx.session.get(Chat, chat)
    return (row.name if row and row.name else "") or ctx.t("sv.team")


async def send(ctx: Ctx, chat: str) -> int:
    settings = await service.settings_for(ctx.session, chat)
    survey, new = await service.open_survey(ctx.session, settings, ctx.now(), ctx.svc.settings.timezone)
    team = await _team_name(ctx, chat)
    for answer in new:
        await ctx.dm(answer.open_id, card=survey_card(ctx, answer, survey.month, team))
    return len(new)


@timers.handler(service.MONTHLY)
async def monthly(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    await send(ctx, timer.chat_id)


@timers.handler(service.REMIND)
async def remind(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    survey = await ctx.session.get(Survey, int((timer.payload or {}).get("survey", 0)))
    if survey is None:
        return
    settings = await service.settings_for(ctx.session, survey.chat_id)
    team = await _team_name(ctx, survey.chat_id)
    again = False
    for answer in await service.unanswered(ctx.session, survey.id):
        if answer.reminded >= service.MAX_REMINDERS:
            continue
        answer.reminded += 1
        again = again or answer.reminded < service.MAX_REMINDERS
        await ctx.dm(answer.open_id, card=survey_card(ctx, answer, survey.month, team, reminder=True))
    if again:
        from datetime import timedelta

        await timers.schedule(ctx.session, key=f"{service.REMIND}:{survey.id}", kind=service.REMIND,
                              due=ctx.now() + timedelta(days=max(1, settings.remind_days)),
                              payload={"survey": survey.id}, chat_id=survey.chat_id, ref=f"{service.REMIND}:{survey.id}")


@ANSWER.handle
async def answered(ctx: Ctx, act: CardAction) -> None:
    try:
        answer = await ctx.session.get(SurveyAnswer, int(act.value.get("id", 0)))
    except (TypeError, ValueError):
        answer = None
    if answer is None:
        raise UserError("access.stale_button")
    if answer.open_id != ctx.user_id:
        raise UserError("sv.not_yours")
    form = act.form_value or {}
    raw = str(form.get("rating") or "").strip()
    if raw not in {"1", "2", "3", "4", "5"}:
        raise UserError("sv.need_rating")
    again = answer.rating is not None
    answer.rating = int(raw)
    answer.comment = str(form.get("comment") or "").strip()[:service.MAX_COMMENT]
    answer.answered_at = ctx.now()
    ctx.toast(ctx.t("sv.thanks_toast"), "success")
    card = Card(ctx.t("sv.thanks_title"), template="green")
    card.markdown(ctx.t("sv.thanks_body", rating=answer.rating, comment=escape_md(answer.comment) or "-",
                        again=ctx.t("sv.changed") if again else ""))
    ctx.respond_card(card)


async def operator_section(ctx: Ctx, card: Card, start: datetime, end: datetime) -> None:
    """The survey's lines in /数据 运营: average against the target, response rate, comments."""
    figs = await service.figures(ctx.session, start, end, ctx.svc.settings.timezone)
    if not figs.sent:
        card.markdown(ctx.t("sv.op_none", target=figs.target))
        return
    mark = "" if figs.met is None else ("✅" if figs.met else "⚠️")
    average = "-" if figs.average is None else f"{figs.average:.1f}"
    lines = [ctx.t("sv.op_line", average=average, target=figs.target, mark=mark, n=figs.answered, total=figs.sent,
                   rate=f"{(figs.rate or 0) * 100:.0f}%")]
    for dept, comment, rating in figs.comments:
        lines.append(f"- {escape_md(dept)} · {rating}：{escape_md(comment[:80])}")
    card.markdown("\n".join(lines))
