"""The figures of the issue-19 norms in /数据 运营, and the optional quarterly review reminder
(seed 二(五)2), which carries the past quarter's KPI card for the ops lead to schedule it.

``operator_section(ctx, card, start, end)`` adds: negative comments answered within their
deadline, ad-hoc task plans in within theirs, off-hours emergencies handled within the hour,
hand-overs done by their due day, and the newbie growth plans' progress next to the newbie
conversion-growth KPI. ``remind(ctx, chat, due)`` (bot.norms.announce, when
``optional.quarterly`` is on) posts the card to the team group and to the ops lead directly.
"""
from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from bot.cards import Card, escape_md
from bot.context import Ctx
from bot.leads import escalation_targets
from bot.norms import adhoc, config, emergency, people_norms, sentiment
from bot.norms.more_models import DONE, Departure, NewbiePlan


def pct(good: int, total: int) -> str:
    return f"{good}/{total} · {good * 100 // total}%" if total else "-"


async def operator_section(ctx: Ctx, card: Card, start: datetime, end: datetime) -> None:
    now = ctx.now()
    cfg = await config.effective(ctx.session)
    rows = [
        (ctx.t("more.kpi_sentiment", n=cfg["sentiment.respond"]), pct(*await sentiment.share_in_time(ctx.session, start, end, now))),
        (ctx.t("more.kpi_adhoc", n=cfg["adhoc.plan"]), pct(*await adhoc.share_in_time(ctx.session, start, end, now))),
        (ctx.t("more.kpi_emergency", n=cfg["emergency.window"]), pct(*await emergency.share_in_time(ctx.session, start, end, now))),
    ]
    deps = (await ctx.session.execute(select(Departure).where(Departure.due_at >= start, Departure.due_at < end,
                                                              Departure.status != "cancelled"))).scalars().all()
    counted = [d for d in deps if d.status == DONE or d.due_at <= now]
    good = sum(1 for d in counted if d.done_at is not None and d.done_at <= d.due_at)
    rows.append((ctx.t("more.kpi_handover", n=cfg["handover.days"]), pct(good, len(counted))))
    card.fields(rows)
    plans = (await ctx.session.execute(select(NewbiePlan).where(NewbiePlan.created_at < end)
                                       .order_by(NewbiePlan.id.desc()))).scalars().all()
    if plans:
        from bot.data.report import newbies
        from bot.data import fmt
        from bot.schedule import service as schedule

        growth = {n.streamer_id: n.figure for n in await newbies(ctx.session, now)}
        names = await schedule.names_of(ctx.session, [p.open_id for p in plans])
        lines = [ctx.t("more.kpi_newbie_head")]
        for p in plans[:10]:
            done, total = await people_norms.progress(ctx.session, p)
            fig = growth.get(p.open_id)
            lines.append(ctx.t("more.kpi_newbie_line", name=escape_md(names.get(p.open_id, p.open_id[-6:])), done=done,
                               total=total, start=p.starts_on,
                               growth=fmt.show(fig, ctx.locale) if fig is not None else ctx.t("more.kpi_newbie_nodata")))
        card.markdown("\n".join(lines))


def quarter_before(day: date) -> tuple[date, date, str]:
    """The quarter that ended before ``day``: (first day, first day of the next, "2026Q4")."""
    q = (day.month - 1) // 3  # this quarter, 0-based
    year, q = (day.year - 1, 3) if q == 0 else (day.year, q - 1)
    first = date(year, q * 3 + 1, 1)
    nxt = date(year + (q == 3), (q * 3 + 3) % 12 + 1, 1)
    return first, nxt, f"{year}Q{q + 1}"


async def quarter_card(ctx: Ctx, day: date) -> Card:
    from bot.data import cards as data_cards
    from bot.data.report import newbies, operator_kpis
    from bot.schedule import service as schedule

    first, nxt, label = quarter_before(day)
    tz = ctx.svc.tz
    start, end = datetime.combine(first, time(0), tz), datetime.combine(nxt, time(0), tz)
    figs = await operator_kpis(ctx.session, start, end, ctx.now())
    found = await newbies(ctx.session, ctx.now())
    names = await schedule.names_of(ctx.session, [n.streamer_id for n in found])
    card = data_cards.operator_card(ctx.t, ctx.locale, ctx.t("more.quarter_title", quarter=label), figs, found, names)
    await operator_section(ctx, card, start, end)
    return card


async def remind(ctx: Ctx, chat: str, due: datetime) -> None:
    day = due.astimezone(ctx.svc.tz).date()
    card = await quarter_card(ctx, day)
    _, _, label = quarter_before(day)
    leads = await escalation_targets(ctx.session, chat_id=chat, admins=ctx.svc.settings.admins)
    await ctx.send(chat, ctx.t("more.quarter_text", quarter=label,
                               who=" ".join(f'<at user_id="{x}"></at>' for x in leads)))
    await ctx.send(chat, card=card)
    from bot.norms.announce import targets

    chats = await targets(ctx.session, ctx.now())
    if chats and chat == chats[0]:  # the ops lead gets it once, however many team groups there are
        for lead in leads:
            await ctx.dm(lead, card=card)
