"""Timer handlers of reviews (the 24-hour rule): ``review.missing`` tells the stream's ops owner,
then the leads, that a review is late; ``reviews.sweep`` (hourly, planned at start-up) plans
those for streams that ended without one (bot.reviews.service)."""
from __future__ import annotations

from datetime import datetime

from bot import timers
from bot.commands.registry import on_startup
from bot.context import Ctx
from bot.leads import escalation_targets
from bot.reviews import cards, service
from bot.reviews.models import DONE


@timers.handler("review.missing")
async def review_missing(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    stream_id = int(timer.payload.get("stream", 0))
    review = await service.review_for_stream(ctx.session, stream_id)
    if review is not None and review.status == DONE:
        return
    stream = await service.get_stream(ctx.session, stream_id)
    if stream is None:
        return
    chat = stream.chat_id or timer.chat_id
    label = f"#{stream.id} " + await service.stream_label(ctx.session, stream, ctx.svc.tz)
    text = cards.overdue_text(ctx.t, label, stream.actual_end or stream.ends_at, ctx.svc.tz, ctx.locale)
    owner = stream.created_by or ""  # the ops owner of the stream, who is late with the review
    if timer.payload.get("stage") == "escalate":
        people = await escalation_targets(ctx.session, chat_id=chat, late=[owner], admins=ctx.svc.settings.admins)
        text = ctx.t("reviews.missing_escalated") + text
    else:
        people = [owner] if owner else await escalation_targets(ctx.session, chat_id=chat,
                                                                admins=ctx.svc.settings.admins)
    for person in people:
        await ctx.dm(person, text)
    if chat:
        mentions = " ".join(f'<at user_id="{p}"></at>' for p in people)
        await ctx.send(chat, f"{text} {mentions}".strip())


@on_startup
async def plan_sweep(svc, session) -> None:
    """The hourly missing-review sweep is planned when the bot starts, not on the first /复盘."""
    await service.ensure_sweep(session, svc.clock.now())


@timers.handler(service.SWEEP_KEY)
async def sweep(ctx: Ctx, timer, *, due: datetime, late: bool) -> None:
    await service.sweep(ctx.session, ctx.now())
