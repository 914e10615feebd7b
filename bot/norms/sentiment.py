"""Negative comments and brewing controversy during a stream (seed 二(二)2: "差评 3 分钟内回应").

``report`` opens an alert: which room and stream (the fault triage's ``locate``: the room the
text names, the field group it was said in, or the reporter's own live stream), who answers
(the stream's 场控, else the reporter), due ``sentiment.respond`` minutes later (default 3).
The card carries the team's response suggestions (``sentiment.replies``) and a 已处理 button;
the timer ``sentiment:{id}:escalate`` (kind ``norms.sentiment``) tells the ops lead
(bot.leads.escalation_targets) when it is still open at the deadline. ``share_in_time`` is
the figure in /数据 运营.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import outbox, records
from bot.access import Scope
from bot.cards import Button, Card, escape_md
from bot.commands.registry import card_action
from bot.context import Ctx
from bot.leads import escalation_targets
from bot.norms import config
from bot.norms.more_models import HANDLED, OPEN, CommentAlert
from bot import timers
from bot.schedule.cards import at

KIND = "norms.sentiment"
# What an @mention must name to be a negative-comment report rather than a fault question.
WORDS = re.compile(r"差评|带节奏|投诉|骂人|骂主播|辱骂|假货|假冒|黑粉|喷子|负面评论|恶评|舆情|刷屏骂|控评|"
                   r"negative comments?|trolls?|complain(?:t|ts|ing)?|fake goods", re.I)
HANDLED_BUTTON = card_action("sentiment.handled", label=("标记舆情已处理", "mark the comment handled"),
                             scope=Scope.RECORD, record=records.COMMENT_ALERT)


def ref(alert_id: int) -> str:
    return f"sentiment:{alert_id}"


async def report(ctx: Ctx, text: str, *, message_id: str = "") -> CommentAlert:
    from bot.faults.service import locate

    now = ctx.now()
    key = f"msg:{message_id}" if message_id else None
    if key:
        found = (await ctx.session.execute(select(CommentAlert).where(CommentAlert.idem_key == key))).scalars().first()
        if found is not None:
            return found
    place = await locate(ctx.session, text, ctx.user_id, now, ctx.chat_id)
    stream = place.stream
    cfg = await config.effective(ctx.session, place.room_id)
    owner = (stream.field_control_id if stream is not None else "") or ctx.user_id
    alert = CommentAlert(chat_id=ctx.chat_id, stream_id=stream.id if stream is not None else None,
                         room_name=place.room_name or "", text=text.strip()[:1000], reported_by=ctx.user_id,
                         owner_id=owner, created_at=now, due_at=now + timedelta(minutes=int(cfg["sentiment.respond"] or 3)),
                         idem_key=key)
    ctx.session.add(alert)
    await ctx.session.flush()
    alert.card_key = await ctx.reply(card=card(ctx, alert, cfg["sentiment.replies"]))
    await timers.schedule(ctx.session, key=f"{ref(alert.id)}:escalate", kind=KIND, due=alert.due_at,
                          payload={"id": alert.id}, chat_id=alert.chat_id, ref=ref(alert.id), created_by=ctx.user_id)
    if owner != ctx.user_id:
        await ctx.send(alert.chat_id, ctx.t("more.sentiment_ping", who=outbox.mention(owner), id=alert.id,
                                            minutes=int((alert.due_at - now).total_seconds() // 60)))
    return alert


def _hm(ctx: Ctx, when: datetime) -> str:
    return when.astimezone(ctx.svc.tz).strftime("%H:%M:%S")


def card(ctx: Ctx, alert: CommentAlert, replies: list, *, stage: str = "open") -> Card:
    templates = {"open": "orange", "escalate": "red", "handled": "green"}
    card = Card(ctx.t(f"more.sentiment_title.{stage}", id=alert.id), template=templates.get(stage, "orange"))
    where = alert.room_name + (f" · #{alert.stream_id}" if alert.stream_id else "")
    card.markdown(ctx.t("more.sentiment_body", where=escape_md(where or "-"), text=escape_md(alert.text[:300]),
                        owner=at(alert.owner_id), due=_hm(ctx, alert.due_at)))
    if stage == "escalate":
        card.markdown(ctx.t("more.sentiment_escalated", leads=" ".join(at(x) for x in alert.lead_ids) or "-",
                            owner=at(alert.owner_id)))
    if alert.status == HANDLED and alert.handled_at is not None:
        took = int((alert.handled_at - alert.created_at).total_seconds())
        verdict = ctx.t("more.in_time" if alert.handled_at <= alert.due_at else "more.late")
        card.markdown(ctx.t("more.sentiment_done", who=at(alert.handled_by or ""), m=took // 60, s=took % 60,
                            verdict=verdict))
        return card
    if replies:
        card.markdown(ctx.t("more.sentiment_replies") + "\n" + "\n".join(f"- {escape_md(str(r))}" for r in replies[:8]))
    card.buttons(Button(ctx.t("more.btn_handled"), HANDLED_BUTTON(id=alert.id), kind="primary"))
    card.note(ctx.t("more.sentiment_hint"))
    return card


async def mark_handled(ctx: Ctx, alert: CommentAlert) -> bool:
    if alert.status != OPEN:
        return False
    alert.status, alert.handled_by, alert.handled_at = HANDLED, ctx.user_id, ctx.now()
    await timers.cancel_ref(ctx.session, ref(alert.id))
    return True


async def open_alerts(session: AsyncSession) -> list[CommentAlert]:
    return list((await session.execute(select(CommentAlert).where(CommentAlert.status == OPEN)
                                       .order_by(CommentAlert.id))).scalars())


async def share_in_time(session: AsyncSession, start: datetime, end: datetime, now: datetime) -> tuple[int, int]:
    """(handled within the deadline, alerts whose deadline has passed or that were handled)."""
    rows = (await session.execute(select(CommentAlert).where(CommentAlert.created_at >= start,
                                                             CommentAlert.created_at < end))).scalars().all()
    counted = [r for r in rows if r.status == HANDLED or r.due_at <= now]
    good = sum(1 for r in counted if r.handled_at is not None and r.handled_at <= r.due_at)
    return good, len(counted)


@timers.handler(KIND)
async def fire(ctx: Ctx, timer: timers.Timer, *, due: datetime, late: bool) -> None:
    alert = await ctx.session.get(CommentAlert, int(timer.payload.get("id", 0)))
    if alert is None or alert.status != OPEN:
        return
    leads = await escalation_targets(ctx.session, chat_id=alert.chat_id, late=[alert.owner_id],
                                     admins=ctx.svc.settings.admins)
    alert.escalated_at, alert.lead_ids = ctx.now(), leads
    cfg = await config.effective(ctx.session)
    shown = card(ctx, alert, cfg["sentiment.replies"], stage="escalate")
    if alert.card_key:
        await ctx.update_card(f"@{alert.card_key}", shown, chat_id=alert.chat_id)
    mentions = " ".join(outbox.mention(x) for x in [*leads, alert.owner_id] if x)
    await ctx.send(alert.chat_id, ctx.t("more.sentiment_escalate_text", id=alert.id, mentions=mentions))
    for lead in leads:
        await ctx.dm(lead, card=shown)
